#include <cstdio>
int main() { std::puts("minirun"); return 0; }

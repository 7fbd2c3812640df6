#include "minirun/util/size.h"

#include <cctype>

#include "minirun/util/error.h"

namespace minirun {

uint64_t parse_byte_size(const std::string& text) {
  auto bad = [&] {
    return Error("invalid size \"" + text.substr(0, 40) + "\": want a positive number of bytes, optionally with K, M, G or T");
  };
  size_t i = 0;
  uint64_t n = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); i++) {
    if (n > (UINT64_MAX - 9) / 10) throw bad();
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0 || n == 0) throw bad();
  std::string suffix;
  for (; i < text.size(); i++) suffix += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  int shift = 0;
  if (!suffix.empty() && suffix != "b") {
    switch (suffix[0]) {
      case 'k': shift = 10; break;
      case 'm': shift = 20; break;
      case 'g': shift = 30; break;
      case 't': shift = 40; break;
      default: throw bad();
    }
    std::string rest = suffix.substr(1);
    if (!rest.empty() && rest != "b" && rest != "ib") throw bad();
  }
  if (shift && n > (UINT64_MAX >> shift)) throw bad();
  return n << shift;
}

}  // namespace minirun

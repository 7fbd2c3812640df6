// toml_guard_check.cpp — the proof that toml_guard.h's refused set is enough: every BMP code point
// the guard lets through is given to toml++ in the places where it classifies whitespace (a table
// header, after a value, a bare key, a string), in a binary built with UBSan that stops at the
// first undefined behaviour (-fno-sanitize-recover). toml++'s __builtin_unreachable() becomes a
// diagnostic there, so a code point the guard wrongly accepts fails the test.
//
// Usage: toml_guard_check            every accepted code point; exit 0
//        toml_guard_check HEX        that code point only, guard bypassed (the self-check: a
//                                    refused one such as 3001 must stop the process)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define TOML_ASSERT(expr) static_cast<void>(0)  // as registries_conf.cpp includes it
#include <toml++/toml.h>

#include "minirun/registry/toml_guard.h"

namespace {

std::string utf8(char32_t c) {
  std::string u;
  if (c < 0x80) {
    u += static_cast<char>(c);
  } else if (c < 0x800) {
    u += static_cast<char>(0xC0 | (c >> 6));
    u += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    u += static_cast<char>(0xE0 | (c >> 12));
    u += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    u += static_cast<char>(0x80 | (c & 0x3F));
  }
  return u;
}

int parsed = 0;

void feed(char32_t c) {
  const std::string u = utf8(c);
  for (const std::string& doc : {"[a" + u + "]\n", "[" + u + "]\n", "x = 1" + u + "\n", "a" + u + " = 1\n",
                                 "x = \"" + u + "\"\n", "x = [1," + u + "2]\n", "# " + u + "\n"}) {
    try {
      (void)toml::parse(std::string_view(doc), std::string_view("check.conf"));
    } catch (const toml::parse_error&) {
    }
    parsed++;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2) {
    feed(static_cast<char32_t>(std::strtoul(argv[1], nullptr, 16)));
    return 0;
  }
  int refused = 0;
  for (char32_t c = 0x80; c <= 0xFFFF; c++) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    if (minirun::registry::toml_cannot_classify(c)) {
      refused++;
      continue;
    }
    feed(c);
  }
  // U+00A1..U+0499, U+2C5E..U+3057 but U+3000, U+FB26..U+FEFE.
  const int expected = (0x499 - 0xA1 + 1) + (0x3057 - 0x2C5E + 1 - 1) + (0xFEFE - 0xFB26 + 1);
  std::printf("toml_guard_check: %d documents parsed, %d code points refused\n", parsed, refused);
  return refused == expected ? 0 : 1;
}

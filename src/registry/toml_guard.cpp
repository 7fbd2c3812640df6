// toml_guard.cpp — see toml_guard.h.
#include "minirun/registry/toml_guard.h"

#include <cstdio>

#include "minirun/util/error.h"

namespace minirun::registry {

bool toml_cannot_classify(char32_t c) {
  if (c <= 0xA0 || c >= 0xFEFF || c == 0x3000) return false;
  const auto bucket = (c - 0xA0) / 0x3FA;
  return bucket == 0 || bucket == 11 || bucket == 63;
}

void refuse_toml_unsafe_characters(std::string_view text, const std::string& file) {
  size_t line = 1;
  for (size_t i = 0; i < text.size(); i++) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b == '\n') line++;
    // Only two- and three-byte sequences (U+0080..U+FFFF) can hold a refused code point.
    const size_t n = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : 0;
    if (n == 0 || i + n > text.size()) continue;
    char32_t cp = n == 2 ? (b & 0x1Fu) : (b & 0x0Fu);
    bool well_formed = true;
    for (size_t k = 1; k < n; k++) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if ((c & 0xC0) != 0x80) well_formed = false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    if (!well_formed) continue;
    if (toml_cannot_classify(cp)) {
      char u[16];
      std::snprintf(u, sizeof u, "U+%04X", static_cast<unsigned>(cp));
      throw Error(file + ":" + std::to_string(line) + ": character " + u +
                  " is not accepted (the TOML parser cannot read it safely)");
    }
    i += n - 1;
  }
}

}  // namespace minirun::registry

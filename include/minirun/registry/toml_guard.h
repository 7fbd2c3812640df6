// toml_guard.h — the characters Debian 12's toml++ (3.3) cannot read safely, refused before a file
// reaches its parser.
//
// toml++ 3.3 asks whether a non-ASCII code point is whitespace in several places (table headers,
// after values) and, for some code points, reaches __builtin_unreachable(): undefined behaviour on
// a malformed file. Its is_non_ascii_horizontal_whitespace splits U+00A0..U+FEFF into 64 buckets
// of 0x3FA code points, answers "no" at once for 59 of them and handles buckets 5 and 7 whole; in
// buckets 0, 11 and 63 only U+00A0, U+3000 and U+FEFF have an answer. The refused code points are
// the rest of those three buckets: U+00A1..U+0499, U+2C5E..U+3057 but U+3000, U+FB26..U+FEFE.
#pragma once

#include <string>
#include <string_view>

namespace minirun::registry {

// True when toml++ 3.3 has no answer for whether `c` is whitespace.
bool toml_cannot_classify(char32_t c);

// Throws minirun::Error "FILE:LINE: character U+XXXX is not accepted (…)" at the first such
// character in `text` (UTF-8). Malformed UTF-8 is left to the parser, which rejects it.
void refuse_toml_unsafe_characters(std::string_view text, const std::string& file);

}  // namespace minirun::registry

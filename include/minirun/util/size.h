// size.h — byte sizes given on the command line ("512M", "10G", "1073741824").
#pragma once

#include <cstdint>
#include <string>

namespace minirun {

// A positive byte count with an optional binary suffix, case-insensitive: K, M, G, T (powers of
// 1024), optionally followed by "B" or "iB" ("512M", "10GiB", "4096"). Throws Error naming the
// text when it is empty, zero, not a number, has another suffix, or overflows 64 bits.
uint64_t parse_byte_size(const std::string& text);

}  // namespace minirun

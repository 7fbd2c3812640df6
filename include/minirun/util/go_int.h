// go_int.h — integers as Go's strconv.ParseInt(s, 10, 64) reads them (Docker's flags and files
// are parsed by it): an optional sign, then decimal digits, nothing else (no blanks, no "0x").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace minirun {

// nullopt for anything ParseInt refuses (an empty string, other characters, overflow).
std::optional<int64_t> parse_go_int(std::string_view s);

}  // namespace minirun

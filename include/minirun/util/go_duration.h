// go_duration.h — Go's time.Duration as text, both ways: what Docker's duration flags accept
// (time.ParseDuration: "30s", "1m30s", "1.5h", "500ms", "0") and what its messages print
// (Duration.String: "30s", "1m0s", "1.5s", "500ms", "0s"). Nanoseconds as int64_t.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace minirun {

// time.ParseDuration: a sign, then one or more decimal numbers each with a unit (ns, us, µs, ms,
// s, m, h); "0" alone. nullopt when the text is anything else or overflows int64 nanoseconds.
std::optional<int64_t> parse_go_duration(std::string_view s);

// Duration.String.
std::string format_go_duration(int64_t ns);

}  // namespace minirun

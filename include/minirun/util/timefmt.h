// timefmt.h — timestamps as nanoseconds since the Unix epoch, and RFC 3339 text both ways:
// Docker's fixed-width "2026-11-26T01:02:03.123456789Z" (log lines, `logs -t`) and the
// variants other tools write (fewer fraction digits, an offset instead of Z). No locale,
// no time zone database, no allocation: the log pipeline calls these per read and per line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace minirun {

constexpr size_t kRfc3339NanoLen = 30;  // "2026-11-26T01:02:03.123456789Z"
// Go's zero time.Time as Docker's inspect prints a time never set (FinishedAt while running, …).
constexpr const char* kGoZeroTime = "0001-01-01T00:00:00Z";

// The current time (CLOCK_REALTIME) in nanoseconds.
int64_t now_unix_ns();
// Writes exactly kRfc3339NanoLen characters (no terminator) to dst, in UTC.
void format_rfc3339_nano(char* dst, int64_t unix_ns);
std::string format_rfc3339_nano(int64_t unix_ns);
// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (t or T, z or Z, 1 to 9 fraction digits).
// False when the text is anything else.
bool parse_rfc3339(std::string_view s, int64_t& unix_ns);

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

}  // namespace minirun

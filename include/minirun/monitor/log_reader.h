// log_reader.h — `logs [-f] [--tail N] [--since T] [--until T] [-t]` over a json-file log and its
// rotated files (<log>.N … <log>.1, <log>): stdout entries go to one descriptor, stderr entries to
// another, in batches (one write per MiB, not per line). Following waits on inotify (no polling)
// across rotation, and ends when `stop_fd` becomes ready (the monitor's exit, see monitor.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace minirun::logs {

struct ReadOptions {
  bool follow = false;
  int64_t tail = -1;      // the last N entries; -1: all
  int64_t since_ns = 0;   // skip entries before this (unix ns); 0: no limit
  int64_t until_ns = 0;   // stop at the first entry after this; 0: no limit
  bool timestamps = false;  // prefix each entry with its time, "2026-11-26T01:02:03.123456789Z "
  int stop_fd = -1;       // with follow: finish (after reading what is there) once this fd is ready
};

// Writes the log at path to out_fd (stdout entries) and err_fd (stderr entries). When both
// descriptors are the same file (a terminal, `2>&1`) one buffer keeps the entries in order.
// A missing log is an empty one. Lines that are not entries are skipped. Throws Error when a
// file cannot be read or an output cannot be written.
void read_log(const std::string& path, const ReadOptions& opts, int out_fd, int err_fd);

// Docker's --since/--until values: RFC 3339 dates and times ("2026-11-26", "2026-11-26T10:00",
// "2026-11-26T10:00:00.5+01:00"; without a zone, local time), Unix timestamps ("1764115200",
// "1764115200.5") and Go durations before now ("10m", "1h30m", "1.5h"). Returns unix ns.
// Throws Error("failed to parse value as time or duration: \"…\"").
int64_t parse_log_time(std::string_view value, int64_t now_ns);

// A Go duration ("1h30m", "300ms", "-1.5h"); false when it is not one.
bool parse_go_duration(std::string_view s, int64_t& ns);

}  // namespace minirun::logs

// log_writer.h — the json-file log of a container, written by its monitor: bytes read from the
// container's stdout and stderr pipes become one entry per line (log_format.h), buffered and
// written with one write(2) per batch, rotated by size (`--log-opt max-size=10m,max-file=3`:
// <log> → <log>.1 → <log>.2, Docker's rule: rotate once the file has reached max-size), or
// dropped entirely with `--log-driver none`.
// The writer never blocks the container and never throws once open: when a write fails (disk
// full, quota) it removes the half-written batch, counts the lines it drops and keeps consuming;
// the first batch that can be written again is preceded by one stderr entry saying how many lines
// were lost and why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "minirun/monitor/log_format.h"

namespace minirun::logs {

struct LogOptions {
  enum class Driver { json_file, none } driver = Driver::json_file;
  int64_t max_size = -1;  // bytes; -1: no limit
  int max_file = 1;       // files kept, the live one included
};

// --log-driver and the --log-opt values (each "key=value", or several joined by commas), with
// Docker's rules and messages: sizes as RAMInBytes ("10m", "512k", "1g", binary units), max-file
// at least 1. Throws Error (125) for anything else.
LogOptions parse_log_options(const std::string& driver, const std::vector<std::string>& opts);

class LogWriter {
 public:
  struct Stats {
    uint64_t lines_written = 0;
    uint64_t lines_dropped = 0;  // lost to write errors, since the writer was opened
    uint64_t bytes_dropped = 0;  // encoded bytes of those
    uint64_t rotations = 0;
    int last_errno = 0;  // the error that made it drop, 0 if none
  };

  // Opens (appending to) path, creating it with mode 0640. Throws Error when it cannot be opened
  // at all; later failures only drop lines. With Driver::none it opens nothing.
  LogWriter(std::string path, LogOptions opts);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Bytes the container wrote on stream s, read at time now_ns. Complete lines become entries;
  // an unfinished line waits for the next feed (or becomes partial entries past kMaxLogLine).
  void feed(Stream s, const char* data, size_t n, int64_t now_ns);
  // The stream ended (EOF): its unfinished line, if any, becomes a partial entry.
  void end_stream(Stream s, int64_t now_ns);
  // Writes what is buffered. Never throws.
  void flush();
  bool buffered() const { return used_ != 0; }
  // Gives the batch buffer's memory back to the kernel (an idle monitor stays small); the next
  // feed takes it again.
  void release_memory();
  const Stats& stats() const { return stats_; }
  const std::string& path() const { return path_; }

 private:
  void emit(Stream s, const char* p, size_t n, bool newline);
  void reserve(size_t need);
  void open_file(bool truncate);
  void rotate();
  bool write_out(const char* p, size_t n);

  std::string path_;
  LogOptions opts_;
  int fd_ = -1;
  int64_t file_size_ = 0;
  char* buf_ = nullptr;  // mmap'ed batch buffer of kBufSize
  size_t used_ = 0;
  uint64_t buf_lines_ = 0;
  std::string pending_[2];  // unfinished line per stream
  char time_[32] = {};
  int64_t time_ns_ = -1;
  uint64_t unreported_lines_ = 0;  // dropped lines not yet noted in the log
  Stats stats_;
};

}  // namespace minirun::logs

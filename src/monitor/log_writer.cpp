// log_writer.cpp — design: entries are encoded straight into one 1 MiB batch buffer, stamped with
// the time of the read that completed them (formatted once per read, not per line), and the
// buffer goes out with one write(2) when it is full or when the monitor has nothing more to read
// (flush()). Rotation is decided entry by entry against file size + batch, so a rotated file ends
// on an entry boundary and keeps Docker's rule (rotate before a write once size >= max-size).
// A failed write is undone with ftruncate to the size before it, so the file never holds half an
// entry; the lines are counted as dropped and a note entry is written once writing works again.
#include "minirun/monitor/log_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "minirun/util/error.h"
#include "minirun/util/timefmt.h"

namespace minirun::logs {

namespace {

constexpr size_t kBufSize = 1 << 20;

int64_t parse_ram_in_bytes(const std::string& v) {
  // go-units RAMInBytes: a number, optional fraction, optional unit b|k|m|g|t|p (with optional
  // trailing b / ib), binary multiples.
  size_t i = 0;
  while (i < v.size() && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.')) i++;
  if (i == 0) return -1;
  double num;
  try {
    num = std::stod(v.substr(0, i));
  } catch (...) {
    return -1;
  }
  std::string unit;
  for (size_t k = i; k < v.size(); k++) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(v[k])));
  static const std::pair<const char*, int> units[] = {{"", 0},    {"b", 0},   {"k", 1},   {"kb", 1}, {"kib", 1},
                                                       {"m", 2},   {"mb", 2},  {"mib", 2}, {"g", 3},  {"gb", 3},
                                                       {"gib", 3}, {"t", 4},   {"tb", 4},  {"tib", 4}, {"p", 5},
                                                       {"pb", 5},  {"pib", 5}};
  for (const auto& [name, power] : units)
    if (unit == name) {
      double m = num;
      for (int k = 0; k < power; k++) m *= 1024;
      return static_cast<int64_t>(m);
    }
  return -1;
}

}  // namespace

LogOptions parse_log_options(const std::string& driver, const std::vector<std::string>& opts) {
  LogOptions o;
  if (driver.empty() || driver == "json-file") {
    o.driver = LogOptions::Driver::json_file;
  } else if (driver == "none") {
    o.driver = LogOptions::Driver::none;
  } else {
    throw Error("failed to create task for container: logger: no log driver named '" + driver + "' is registered");
  }
  bool size_set = false;
  for (const auto& opt : opts) {
    size_t start = 0;
    while (start <= opt.size()) {
      size_t comma = opt.find(',', start);
      std::string kv = opt.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? opt.size() + 1 : comma + 1;
      if (kv.empty()) continue;
      size_t eq = kv.find('=');
      if (eq == std::string::npos) throw Error("invalid key value pair format in logging opts: \"" + kv + "\"");
      std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (o.driver == LogOptions::Driver::none)
        throw Error("unknown log opt '" + k + "' for none log driver");
      if (k == "max-size") {
        int64_t n = parse_ram_in_bytes(v);
        if (n < 0) throw Error("invalid size: '" + v + "'");
        o.max_size = n == 0 ? -1 : n;
        size_set = true;
      } else if (k == "max-file") {
        int n;
        try {
          size_t used;
          n = std::stoi(v, &used);
          if (used != v.size()) throw 0;
        } catch (...) {
          throw Error("strconv.Atoi: parsing \"" + v + "\": invalid syntax");
        }
        if (n < 1) throw Error("max-file cannot be less than 1");
        o.max_file = n;
      } else {
        throw Error("unknown log opt '" + k + "' for json-file log driver");
      }
    }
  }
  if (o.max_file > 1 && !size_set) o.max_file = 1;  // nothing ever rotates without a size
  return o;
}

LogWriter::LogWriter(std::string path, LogOptions opts) : path_(std::move(path)), opts_(opts) {
  if (opts_.driver == LogOptions::Driver::none) return;
  open_file(false);
  if (fd_ < 0) throw sys_error("log " + path_ + ": open", stats_.last_errno);
  stats_.last_errno = 0;
}

LogWriter::~LogWriter() {
  flush();
  if (fd_ >= 0) ::close(fd_);
  if (buf_) ::munmap(buf_, kBufSize);
}

void LogWriter::open_file(bool truncate) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0640);
  if (fd_ < 0) {
    stats_.last_errno = errno;
    return;
  }
  struct stat st;
  file_size_ = ::fstat(fd_, &st) == 0 ? st.st_size : 0;
}

void LogWriter::rotate() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (opts_.max_file >= 2) {
    for (int i = opts_.max_file - 1; i > 1; i--) {
      std::string from = path_ + "." + std::to_string(i - 1), to = path_ + "." + std::to_string(i);
      ::rename(from.c_str(), to.c_str());  // a missing one is fine
    }
    std::string first = path_ + ".1";
    ::rename(path_.c_str(), first.c_str());
  }
  open_file(true);
  if (fd_ < 0) file_size_ = 0;  // retried at the next write, never rotated again for the old size
  stats_.rotations++;
}

bool LogWriter::write_out(const char* p, size_t n) {
  if (fd_ < 0) open_file(false);
  if (fd_ < 0) return false;
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd_, p + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      stats_.last_errno = w < 0 ? errno : ENOSPC;
      // Undo the part that went in: the file must end on an entry boundary.
      if (done && ::ftruncate(fd_, file_size_) != 0) file_size_ += static_cast<int64_t>(done);
      return false;
    }
    done += static_cast<size_t>(w);
  }
  file_size_ += static_cast<int64_t>(n);
  return true;
}

void LogWriter::flush() {
  if (!used_) return;
  if (unreported_lines_) {
    std::string text = "minirun: " + std::to_string(unreported_lines_) + " log lines dropped: " +
                       std::strerror(stats_.last_errno ? stats_.last_errno : EIO);
    std::string note(max_entry_size(text.size()), '\0');
    char ts[kRfc3339NanoLen];
    format_rfc3339_nano(ts, now_unix_ns());
    char* end = encode_entry(note.data(), text.data(), text.size(), true, Stream::err, ts);
    if (write_out(note.data(), static_cast<size_t>(end - note.data()))) unreported_lines_ = 0;
  }
  if (write_out(buf_, used_)) {
    stats_.lines_written += buf_lines_;
  } else {
    stats_.lines_dropped += buf_lines_;
    stats_.bytes_dropped += used_;
    unreported_lines_ += buf_lines_;
  }
  used_ = 0;
  buf_lines_ = 0;
}

void LogWriter::release_memory() {
  if (buf_ && !used_) ::madvise(buf_, kBufSize, MADV_DONTNEED);
  for (auto& p : pending_)
    if (p.empty()) std::string().swap(p);
}

void LogWriter::reserve(size_t need) {
  if (!buf_) {
    void* m = ::mmap(nullptr, kBufSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw sys_error("log buffer: mmap");
    buf_ = static_cast<char*>(m);
  }
  if (used_ + need > kBufSize) flush();
}

void LogWriter::emit(Stream s, const char* p, size_t n, bool newline) {
  size_t need = max_entry_size(n);
  reserve(need);
  // Docker's rule: once the file has reached max-size, the next entry goes to a new file.
  if (opts_.max_size > 0 && file_size_ + static_cast<int64_t>(used_) >= opts_.max_size) {
    flush();
    rotate();
  }
  char* end = encode_entry(buf_ + used_, p, n, newline, s, time_);
  used_ = static_cast<size_t>(end - buf_);
  buf_lines_++;
}

void LogWriter::feed(Stream s, const char* data, size_t n, int64_t now_ns) {
  if (opts_.driver == LogOptions::Driver::none || n == 0) return;
  if (now_ns != time_ns_) {
    format_rfc3339_nano(time_, now_ns);
    time_ns_ = now_ns;
  }
  std::string& pend = pending_[static_cast<int>(s)];
  const char* p = data;
  const char* end = data + n;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!nl) {
      pend.append(p, static_cast<size_t>(end - p));
      size_t off = 0;
      while (pend.size() - off > kMaxLogLine) {
        emit(s, pend.data() + off, kMaxLogLine, false);
        off += kMaxLogLine;
      }
      pend.erase(0, off);
      return;
    }
    const char* line = p;
    size_t len = static_cast<size_t>(nl - p);
    if (!pend.empty()) {
      pend.append(p, len);
      line = pend.data();
      len = pend.size();
    }
    while (len > kMaxLogLine) {
      emit(s, line, kMaxLogLine, false);
      line += kMaxLogLine;
      len -= kMaxLogLine;
    }
    emit(s, line, len, true);
    pend.clear();
    p = nl + 1;
  }
}

void LogWriter::end_stream(Stream s, int64_t now_ns) {
  std::string& pend = pending_[static_cast<int>(s)];
  if (pend.empty() || opts_.driver == LogOptions::Driver::none) return;
  if (now_ns != time_ns_) {
    format_rfc3339_nano(time_, now_ns);
    time_ns_ = now_ns;
  }
  emit(s, pend.data(), pend.size(), false);
  pend.clear();
}

}  // namespace minirun::logs

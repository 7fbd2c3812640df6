// log_reader.cpp — design: each file is read 256 KiB at a time into one input buffer; lines in
// minirun's own form are decoded in one pass (parse_line_fast: the text is unescaped straight
// into the output batch of stdout, and moved to stderr's when the tail says stderr), so the bytes
// are touched once after the copy; other lines are split with memchr and decoded by the general
// decoder (a foreign line falls back to the JSON parser). An output batch is written when it
// holds 1 MiB, and at the end (or after each wake-up when following). --tail scans the files
// backwards from the newest with pread and memrchr to find where the last N entries start, so
// `--tail 10` of a 1 GB log reads a few KB. Following: an inotify watch on the log's directory
// (IN_MODIFY reports writes to the files in it; IN_CREATE/IN_MOVED_* report rotation) is set up
// before the last read to the end, so no write is missed; on each event the reader reads its open
// file to the end, and when the log's name now names another file (rotated), it finishes the old
// one and opens the next one (found by inode among <log>.N when it fell several rotations
// behind) from its start. A truncated file (max-file=1) is read from 0 again. Without following
// too, only the first file is opened by name and each later one as its predecessor's successor:
// names move while the writer rotates.
#include "minirun/monitor/log_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <memory>
#include <tuple>
#include <vector>

#include "minirun/monitor/log_format.h"
#include "minirun/util/error.h"
#include "minirun/util/fd.h"
#include "minirun/util/timefmt.h"

namespace minirun::logs {

namespace {

constexpr size_t kChunk = 1 << 20;
// Reads of 256 KiB: what was just copied is still in the cache when it is parsed (mapping the
// file instead costs more in page-table work than the copy: measured).
constexpr size_t kReadSize = 256 * 1024;

// An output batch: raw bytes, written when it holds kChunk.
struct Output {
  int fd = -1;
  std::unique_ptr<char[]> buf;
  size_t used = 0, cap = 0;

  void flush() {
    size_t done = 0;
    while (done < used) {
      ssize_t w = ::write(fd, buf.get() + done, used - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw sys_error("logs: write");
      done += static_cast<size_t>(w);
    }
    used = 0;
  }
  // Room for n more bytes.
  char* room(size_t n) {
    if (used + n > cap) {
      flush();
      if (n > cap) {
        cap = std::max(n, kChunk + 64 * 1024);
        buf.reset(new char[cap]);
      }
    }
    return buf.get() + used;
  }
  void commit(char* end) {
    used = static_cast<size_t>(end - buf.get());
    if (used >= kChunk) flush();
  }
};

class Reader {
 public:
  Reader(const ReadOptions& o, int out_fd, int err_fd) : o_(o) {
    struct stat a, b;
    same_ = out_fd == err_fd ||
            (::fstat(out_fd, &a) == 0 && ::fstat(err_fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    out_.fd = out_fd;
    err_.fd = err_fd;
    need_time_ = o.since_ns != 0 || o.until_ns != 0;
  }

  // Reads fd from its offset to the end; an unfinished last line stays for the next read.
  void read_to_end(int fd) {
    for (;;) {
      if (in_cap_ - in_len_ < kChunk / 2) grow_input();
      ssize_t n = ::read(fd, in_.get() + in_len_, std::min(kReadSize, in_cap_ - in_len_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw sys_error("logs: read");
      if (n == 0) return;
      in_len_ += static_cast<size_t>(n);
      consume();
      if (done_) return;
    }
  }

  // An old file is finished: drop an unfinished line (a file ends on an entry boundary).
  void end_file() { in_len_ = 0; }

  void flush() {
    out_.flush();
    err_.flush();
  }
  bool done() const { return done_; }

 private:
  // Handles the complete lines at the start of [b, e); returns the bytes they took. Lines in
  // minirun's own form are decoded in one pass straight into an output buffer (parse_line_fast);
  // others go through line().
  size_t parse(const char* b, const char* e) {
    constexpr size_t kMaxText = 256 * 1024;
    const char* p = b;
    const size_t prefix = o_.timestamps ? kRfc3339NanoLen + 1 : 0;
    while (p < e && !done_) {
      // Decoded into stdout's batch; moved to stderr's when it turns out to be stderr's.
      char* d = out_.room(kMaxText + prefix);
      FastLine f;
      size_t n = parse_line_fast(p, e, d + prefix, kMaxText, f);
      if (n) {
        int64_t t = 0;
        if ((need_time_ || o_.timestamps) && !parse_rfc3339(std::string_view(f.time, kRfc3339NanoLen), t)) t = 0;
        p += n;
        if (!keep(t)) continue;
        if (prefix) {
          std::memcpy(d, f.time, kRfc3339NanoLen);
          d[kRfc3339NanoLen] = ' ';
        }
        if (f.stream == Stream::err && !same_) {
          size_t len = static_cast<size_t>(f.text_end - d);
          char* to = err_.room(len);
          std::memcpy(to, d, len);
          err_.commit(to + len);
        } else {
          out_.commit(f.text_end);
        }
        continue;
      }
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p)));
      if (!nl) break;
      line(std::string_view(p, static_cast<size_t>(nl - p)));
      p = nl + 1;
    }
    return static_cast<size_t>(p - b);
  }

  void grow_input() {
    // Room for a chunk; a line longer than the buffer doubles it.
    size_t cap = std::max(kChunk, in_len_ * 2 + kChunk / 2);
    if (cap <= in_cap_ && in_) return;
    std::unique_ptr<char[]> b(new char[cap]);
    if (in_len_) std::memcpy(b.get(), in_.get(), in_len_);
    in_ = std::move(b);
    in_cap_ = cap;
  }

  void consume() {
    size_t pos = parse(in_.get(), in_.get() + in_len_);
    if (pos) {
      std::memmove(in_.get(), in_.get() + pos, in_len_ - pos);
      in_len_ -= pos;
    }
  }

  void line(std::string_view l) {
    if (l.empty()) return;
    Stream s;
    std::string_view escaped, time;
    int64_t t = 0;
    if (split_entry(l, s, escaped, time)) {
      if ((need_time_ || o_.timestamps) && !parse_rfc3339(time, t)) t = 0;
      if (!keep(t)) return;
      Output& out = (s == Stream::err && !same_) ? err_ : out_;
      char* d = out.room(escaped.size() + kRfc3339NanoLen + 1);
      if (o_.timestamps) d = put_time(d, time, t);
      if (char* end = unescape_json(escaped, d)) {
        out.commit(end);
        return;
      }
    }
    Entry e;
    scratch_.clear();
    if (!decode_entry(l, scratch_, e, true)) return;
    if (!keep(e.time_ns)) return;
    Output& out = (e.stream == Stream::err && !same_) ? err_ : out_;
    char* d = out.room(scratch_.size() + kRfc3339NanoLen + 1);
    if (o_.timestamps) d = put_time(d, e.time, e.time_ns);
    std::memcpy(d, scratch_.data(), scratch_.size());
    out.commit(d + scratch_.size());
  }

  bool keep(int64_t t) {
    if (o_.since_ns && t < o_.since_ns) return false;
    if (o_.until_ns && t > o_.until_ns) {
      done_ = true;
      return false;
    }
    return true;
  }

  static char* put_time(char* d, std::string_view time, int64_t t) {
    if (time.size() == kRfc3339NanoLen && time.back() == 'Z') std::memcpy(d, time.data(), kRfc3339NanoLen);
    else format_rfc3339_nano(d, t);
    d[kRfc3339NanoLen] = ' ';
    return d + kRfc3339NanoLen + 1;
  }

  const ReadOptions& o_;
  Output out_, err_;
  bool same_ = false, need_time_ = false, done_ = false;
  std::unique_ptr<char[]> in_;
  size_t in_len_ = 0, in_cap_ = 0;
  std::string scratch_;
};

// The log's files, oldest first: <log>.N … <log>.1, <log> (those that exist).
std::vector<std::string> log_files(const std::string& path) {
  std::vector<std::string> rotated;
  struct stat st;
  for (int i = 1; ::stat((path + "." + std::to_string(i)).c_str(), &st) == 0; i++)
    rotated.push_back(path + "." + std::to_string(i));
  std::vector<std::string> files(rotated.rbegin(), rotated.rend());
  files.push_back(path);
  return files;
}

// Where the last n entries begin: the index into files and the offset in that file.
std::pair<size_t, off_t> tail_start(const std::vector<std::string>& files, int64_t n) {
  std::string buf(64 * 1024, '\0');
  for (size_t i = files.size(); i-- > 0;) {
    Fd fd(::open(files[i].c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st;
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) continue;
    off_t end = st.st_size;
    bool skip_last = true;  // the file's final '\n' ends its last entry
    while (end > 0) {
      size_t len = static_cast<size_t>(std::min<off_t>(end, static_cast<off_t>(buf.size())));
      off_t at = end - static_cast<off_t>(len);
      ssize_t r = ::pread(fd.get(), buf.data(), len, at);
      if (r != static_cast<ssize_t>(len)) throw sys_error("logs: " + files[i] + ": read");
      size_t k = len;
      while (k > 0) {
        const char* p = static_cast<const char*>(memrchr(buf.data(), '\n', k));
        if (!p) break;
        k = static_cast<size_t>(p - buf.data());
        if (skip_last && at + static_cast<off_t>(k) == st.st_size - 1) {
          skip_last = false;
          continue;
        }
        skip_last = false;
        if (--n == 0) return {i, at + static_cast<off_t>(k) + 1};
      }
      end = at;
    }
    if (st.st_size > 0 && --n == 0) return {i, 0};  // the file's first entry
    if (n <= 0) return {i, 0};
  }
  return {0, 0};
}

bool same_file(int fd, const std::string& path) {
  struct stat a, b;
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The file written after the one open at fd, or -1 when it cannot be told yet. The writer rotates
// with one rename per file, oldest first (<log>.N-1 → <log>.N, …, <log> → <log>.1), so while it
// is at it the numbers have a hole: then wait for the next event. Otherwise the successor of
// <log>.N is <log>.N-1 (of <log>.1, <log>); when fd's file is gone (past max-file), everything
// it was older than is gone too, and the oldest file left is next. The successor is opened by
// name, so the writer may rotate again between the look and the open: the file opened is then
// not the one looked at (its inode says so), and the look is made again, from where fd's file
// has moved to (a follower that opened the new <log> there skipped a whole file).
int open_next_once(const std::string& path, const struct stat& cur, bool& moved);

int open_next(const std::string& path, int fd) {
  if (fd < 0) return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  for (int attempt = 0; attempt < 16; attempt++) {
    struct stat cur;  // again each time: st_nlink says whether the file was deleted since
    if (::fstat(fd, &cur) != 0) return -1;
    bool moved = false;
    int next = open_next_once(path, cur, moved);
    if (!moved) return next;
  }
  return -1;  // rotating faster than it can be looked at: the next event tries again
}

int open_next_once(const std::string& path, const struct stat& cur, bool& moved) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string base = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".";
  std::map<long, std::pair<dev_t, ino_t>> rotated;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name.size() <= base.size() || name.compare(0, base.size(), base) != 0) continue;
      std::string_view num = name.substr(base.size());
      if (num.size() > 6 || num.find_first_not_of("0123456789") != std::string_view::npos || num[0] == '0') continue;
      struct stat st;
      if (::fstatat(::dirfd(d), e->d_name, &st, 0) == 0) rotated[std::stol(std::string(num))] = {st.st_dev, st.st_ino};
    }
    ::closedir(d);
  }
  if (!rotated.empty() && (rotated.begin()->first != 1 || rotated.rbegin()->first != static_cast<long>(rotated.size())))
    return -1;  // a rotation is under way
  // The successor's name, and where fd's file was when looked at.
  std::string next, cur_name;
  for (const auto& [n, id] : rotated)
    if (id.first == cur.st_dev && id.second == cur.st_ino) {
      next = n == 1 ? path : path + "." + std::to_string(n - 1);
      cur_name = path + "." + std::to_string(n);
      break;
    }
  if (next.empty()) {
    // Not seen: renamed while the directory was read (look again), or deleted, past max-file:
    // then everything it was older than is gone too, and the oldest file left is next.
    if (cur.st_nlink > 0) {
      moved = true;
      return -1;
    }
    next = rotated.empty() ? path : path + "." + std::to_string(rotated.rbegin()->first);
  }
  int fd = ::open(next.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    moved = next != path;  // <log> not created yet: the next event; <log>.N renamed: look again
    return -1;
  }
  // fd's file still has the name it had when looked at, after the open: then it had it at the
  // open too (a file's number only grows), and as the writer renames the older file first, the
  // file opened was its successor at that moment. (The look itself is no snapshot: readdir and
  // the stats run while the writer may rename.)
  struct stat now;
  if (!cur_name.empty() && (::stat(cur_name.c_str(), &now) != 0 || now.st_dev != cur.st_dev || now.st_ino != cur.st_ino)) {
    ::close(fd);
    moved = true;
    return -1;
  }
  return fd;
}


// The file written after the one open at fd, waiting out a rotation under way (the writer renames
// one file after another: a few ms at most); -1 when fd's file is the log itself (or the next
// file is not there after that wait: the log, once created, is found by following).
int successor(const std::string& path, int fd) {
  for (int attempt = 0; attempt < 200; attempt++) {
    if (same_file(fd, path)) return -1;
    int next = open_next(path, fd);
    if (next >= 0) return next;
    ::usleep(1000);
  }
  return -1;
}

}  // namespace

void read_log(const std::string& path, const ReadOptions& o, int out_fd, int err_fd) {
  Reader r(o, out_fd, err_fd);
  if (o.tail == 0 && !o.follow) return;
  std::vector<std::string> files = log_files(path);
  size_t first = 0;
  off_t offset = 0;
  if (o.tail > 0) std::tie(first, offset) = tail_start(files, o.tail);
  else if (o.tail == 0) first = files.size() - 1, offset = -1;  // nothing old: only what comes

  Fd inotify, epoll;
  if (o.follow) {
    std::string dir = path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
    if (dir.empty()) dir = path.find('/') == 0 ? "/" : ".";
    inotify.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (inotify.get() < 0) throw sys_error("logs: inotify_init1");
    if (::inotify_add_watch(inotify.get(), dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0)
      throw sys_error("logs: watch " + dir);
  }

  // The first file by its name; each later one as the successor of the one read (open_next, by
  // inode): while the writer rotates, the names move, and <log>.N opened by name after <log>.N+1
  // was read may be a file several rotations newer (the ones between never shown).
  Fd cur;
  for (size_t i = first; i < files.size() && cur.get() < 0; i++) {
    cur.reset(::open(files[i].c_str(), O_RDONLY | O_CLOEXEC));
    if (cur.get() < 0) {
      if (errno == ENOENT) continue;  // rotated away meanwhile, or no log yet
      throw sys_error("logs: " + files[i]);
    }
    if (i == first && offset > 0) ::lseek(cur.get(), offset, SEEK_SET);
    if (i == first && offset < 0) ::lseek(cur.get(), 0, SEEK_END);
  }
  while (cur.get() >= 0 && !r.done()) {
    r.read_to_end(cur.get());
    Fd next(successor(path, cur.get()));
    if (next.get() < 0) break;  // cur is the log itself
    r.read_to_end(cur.get());  // finished before it was renamed, perhaps after the read above
    r.end_file();
    cur.reset(::fcntl(next.get(), F_DUPFD_CLOEXEC, 0));
  }
  if (!o.follow) cur.reset(-1);
  r.flush();
  if (!o.follow || r.done()) return;

  epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (epoll.get() < 0) throw sys_error("logs: epoll_create1");
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.fd = inotify.get();
  ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, inotify.get(), &ev);
  if (o.stop_fd >= 0) {
    ev.data.fd = o.stop_fd;
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, o.stop_fd, &ev) != 0) throw sys_error("logs: watch the monitor");
  }
  bool stopping = false;
  char evbuf[8192];
  while (!r.done()) {
    struct epoll_event got[2];
    int n = ::epoll_wait(epoll.get(), got, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw sys_error("logs: epoll_wait");
    for (int k = 0; k < n; k++) {
      if (got[k].data.fd == o.stop_fd) stopping = true;
      else while (::read(inotify.get(), evbuf, sizeof evbuf) > 0) {}
    }
    // Read what the open file holds, then follow the name if it moved on (rotation); a newer
    // file may itself have rotated already: loop until the name is the open file.
    for (int guard = 0; guard < 64 && !r.done(); guard++) {
      if (cur.get() >= 0) {
        struct stat st;
        if (::fstat(cur.get(), &st) == 0 && st.st_size < ::lseek(cur.get(), 0, SEEK_CUR)) {
          ::lseek(cur.get(), 0, SEEK_SET);  // truncated in place (max-file=1)
          r.end_file();
        }
        r.read_to_end(cur.get());
        if (same_file(cur.get(), path)) break;
        // Rotated: the writer finished this file before renaming it, but may have appended to
        // it after the read above. Read it to its real end, then move on.
        r.read_to_end(cur.get());
        r.end_file();
      }
      Fd next(open_next(path, cur.get()));
      // Not created yet: IN_CREATE will come. The finished file stays open: the next round finds
      // its successor by its inode, even if the new file has rotated away meanwhile.
      if (next.get() < 0) break;
      cur.reset(::fcntl(next.get(), F_DUPFD_CLOEXEC, 0));
    }
    r.flush();
    if (stopping) return;
  }
  r.flush();
}

bool parse_go_duration(std::string_view s, int64_t& ns) {
  // Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0".
  if (s.empty()) return false;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '-' || s[0] == '+') neg = s[0] == '-', i = 1;
  if (s.substr(i) == "0") {
    ns = 0;
    return true;
  }
  if (i == s.size()) return false;
  long double total = 0;
  while (i < s.size()) {
    size_t start = i;
    long double v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    bool int_digits = i > start;
    bool frac_digits = false;
    if (i < s.size() && s[i] == '.') {
      i++;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        v += (s[i++] - '0') * scale;
        scale /= 10;
        frac_digits = true;
      }
    }
    if (!int_digits && !frac_digits) return false;
    size_t ustart = i;
    while (i < s.size() && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.') i++;
    std::string_view u = s.substr(ustart, i - ustart);
    long double mult;
    if (u == "ns") mult = 1;
    else if (u == "us" || u == "\xc2\xb5s" || u == "\xce\xbcs") mult = 1e3L;
    else if (u == "ms") mult = 1e6L;
    else if (u == "s") mult = 1e9L;
    else if (u == "m") mult = 60e9L;
    else if (u == "h") mult = 3600e9L;
    else return false;
    total += v * mult;
  }
  if (total > 9.2e18L) return false;
  ns = static_cast<int64_t>(neg ? -total : total);
  return true;
}

int64_t parse_log_time(std::string_view value, int64_t now_ns) {
  int64_t d;
  if (value != "0" && parse_go_duration(value, d)) return now_ns - d;
  std::string v(value);
  auto fail = [&] { return Error("failed to parse value as time or duration: \"" + v + "\""); };
  // RFC 3339 and its shorter forms, as Docker's GetTimestamp: YYYY-MM-DD[Thh[:mm[:ss[.frac]]]]
  // then Z, ±hh:mm, or nothing (local time).
  if (v.size() >= 10 && v[4] == '-' && v[7] == '-') {
    std::string full = v.substr(0, 10);
    size_t p = 10;
    std::string clock = "T00:00:00";
    if (p < v.size() && (v[p] == 'T' || v[p] == 't')) {
      size_t q = p + 1;
      while (q < v.size() && ((v[q] >= '0' && v[q] <= '9') || v[q] == ':' || v[q] == '.')) q++;
      std::string c = v.substr(p + 1, q - p - 1);
      size_t colons = static_cast<size_t>(std::count(c.begin(), c.end(), ':'));
      if (colons == 0 && c.size() == 2) c += ":00:00";
      else if (colons == 1 && c.size() == 5) c += ":00";
      else if (colons != 2) throw fail();
      clock = "T" + c;
      p = q;
    }
    std::string zone = v.substr(p);
    bool local = zone.empty();
    std::string text = full + clock + (local ? "Z" : zone);
    int64_t ns;
    if (!parse_rfc3339(text, ns)) throw fail();
    if (local) {
      // The same wall-clock time in the local zone: find the offset that mktime applies.
      time_t secs = static_cast<time_t>(ns / 1000000000);
      struct tm tm;
      gmtime_r(&secs, &tm);
      tm.tm_isdst = -1;
      time_t as_local = mktime(&tm);
      ns += (static_cast<int64_t>(as_local) - secs) * 1000000000;
    }
    return ns;
  }
  if (v.find('-') != std::string::npos) throw fail();
  // A Unix timestamp, seconds[.fraction].
  size_t dot = v.find('.');
  std::string sec = v.substr(0, dot), frac = dot == std::string::npos ? "" : v.substr(dot + 1);
  if (sec.empty() || sec.size() > 12 || sec.find_first_not_of("0123456789") != std::string::npos ||
      frac.size() > 9 || frac.find_first_not_of("0123456789") != std::string::npos ||
      (dot != std::string::npos && frac.empty()))
    throw fail();
  int64_t ns = std::stoll(sec) * 1000000000;
  if (!frac.empty()) ns += std::stoll(frac + std::string(9 - frac.size(), '0'));
  return ns;
}

}  // namespace minirun::logs

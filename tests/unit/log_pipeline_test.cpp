// The log writer and reader together: lines and partial lines, streams kept apart, rotation by
// size, --tail across rotated files, --since/--until, -t, following a log while it rotates, the
// none driver, write failures (/dev/full) and Docker's --since/--until value forms.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "minirun/monitor/log_reader.h"
#include "minirun/monitor/log_writer.h"
#include "minirun/util/error.h"
#include "minirun/util/timefmt.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::logs;
using minirun::test::read_file;
using minirun::test::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kT0 = 1764118923000000000;  // 2025-11-26T01:02:03Z

std::vector<nlohmann::json> entries(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::string data = read_file(path);
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    EXPECT_NE(nl, std::string::npos) << "file does not end on an entry";
    if (nl == std::string::npos) break;
    out.push_back(nlohmann::json::parse(data.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

// Runs read_log into two files; returns {stdout, stderr}.
std::pair<std::string, std::string> read_both(const TempDir& t, const std::string& log, const ReadOptions& o) {
  std::string o1 = t / "out.txt", o2 = t / "err.txt";
  int a = ::open(o1.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int b = ::open(o2.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  read_log(log, o, a, b);
  ::close(a), ::close(b);
  return {read_file(o1), read_file(o2)};
}

std::string numbered(int from, int to, const std::string& prefix = "line ") {
  std::string s;
  for (int i = from; i < to; i++) s += prefix + std::to_string(i) + "\n";
  return s;
}

}  // namespace

TEST(LogWriter, OneEntryPerLineStreamsApartLinesAcrossReads) {
  TempDir t;
  std::string log = t / "c-json.log";
  {
    LogWriter w(log, {});
    w.feed(Stream::out, "one\ntw", 6, kT0);
    w.feed(Stream::err, "err1\n", 5, kT0 + 1);
    w.feed(Stream::out, "o\nthree\n", 8, kT0 + 2);
    w.flush();
    EXPECT_EQ(w.stats().lines_written, 4u);
  }
  auto e = entries(log);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0]["log"], "one\n");
  EXPECT_EQ(e[0]["stream"], "stdout");
  EXPECT_EQ(e[0]["time"], "2025-11-26T01:02:03.000000000Z");
  EXPECT_EQ(e[1]["log"], "err1\n");
  EXPECT_EQ(e[1]["stream"], "stderr");
  EXPECT_EQ(e[2]["log"], "two\n");  // stamped when its newline arrived
  EXPECT_EQ(e[2]["time"], "2025-11-26T01:02:03.000000002Z");
  EXPECT_EQ(e[3]["log"], "three\n");
  EXPECT_EQ(::stat(log.c_str(), &*std::make_unique<struct stat>()), 0);
  EXPECT_EQ(fs::status(log).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
}

TEST(LogWriter, LongLinesBecome16KiBPartialsAndAnUnfinishedEndIsPartial) {
  TempDir t;
  std::string log = t / "c-json.log";
  std::string big(40000, 'x');
  big[16383] = 'a';
  big[16384] = 'b';
  {
    LogWriter w(log, {});
    std::string data = big + "\n" + std::string(kMaxLogLine, 'y') + "\nno newline";
    // Fed in small pieces, as a pipe delivers them.
    for (size_t i = 0; i < data.size(); i += 1000) w.feed(Stream::out, data.data() + i, std::min<size_t>(1000, data.size() - i), kT0);
    w.end_stream(Stream::out, kT0);
    w.flush();
  }
  auto e = entries(log);
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0]["log"].get<std::string>().size(), kMaxLogLine);
  EXPECT_EQ(e[0]["log"].get<std::string>().back(), 'a');
  EXPECT_EQ(e[1]["log"].get<std::string>().front(), 'b');
  EXPECT_EQ(e[2]["log"], std::string(40000 - 2 * kMaxLogLine, 'x') + "\n");
  EXPECT_EQ(e[3]["log"], std::string(kMaxLogLine, 'y') + "\n");  // exactly 16 KiB: one entry
  EXPECT_EQ(e[4]["log"], "no newline");
  TempDir o;
  auto [out, err] = read_both(o, log, {});
  EXPECT_EQ(out, big + "\n" + std::string(kMaxLogLine, 'y') + "\nno newline");
  EXPECT_EQ(err, "");
}

TEST(LogWriter, ParsesLogOptionsAsDocker) {
  auto o = parse_log_options("json-file", {"max-size=10m,max-file=3"});
  EXPECT_EQ(o.max_size, 10 << 20);
  EXPECT_EQ(o.max_file, 3);
  o = parse_log_options("", {"max-size=1.5k", "max-file=2"});
  EXPECT_EQ(o.max_size, 1536);
  EXPECT_EQ(parse_log_options("json-file", {"max-size=512"}).max_size, 512);
  EXPECT_EQ(parse_log_options("json-file", {"max-file=4"}).max_file, 1);  // no size: never rotates
  EXPECT_EQ(parse_log_options("none", {}).driver, LogOptions::Driver::none);
  EXPECT_THROW(parse_log_options("syslog", {}), Error);
  EXPECT_THROW(parse_log_options("json-file", {"max-size=ten"}), Error);
  EXPECT_THROW(parse_log_options("json-file", {"max-file=0"}), Error);
  EXPECT_THROW(parse_log_options("json-file", {"compress=true"}), Error);
  EXPECT_THROW(parse_log_options("json-file", {"max-size"}), Error);
  EXPECT_THROW(parse_log_options("none", {"max-size=1m"}), Error);
}

TEST(LogWriter, RotatesBySizeKeepingMaxFileFiles) {
  TempDir t;
  std::string log = t / "c-json.log";
  auto opts = parse_log_options("json-file", {"max-size=2k", "max-file=3"});
  std::string all = numbered(0, 200);
  {
    LogWriter w(log, opts);
    for (size_t i = 0; i < all.size(); i += 7) w.feed(Stream::out, all.data() + i, std::min<size_t>(7, all.size() - i), kT0 + static_cast<int64_t>(i));
    w.flush();
    EXPECT_GT(w.stats().rotations, 2u);
  }
  EXPECT_TRUE(fs::exists(log + ".1"));
  EXPECT_TRUE(fs::exists(log + ".2"));
  EXPECT_FALSE(fs::exists(log + ".3"));
  size_t one = read_file(log).find('\n') + 1;  // an entry's size
  for (const std::string& f : {log, log + ".1", log + ".2"}) {
    EXPECT_LT(fs::file_size(f), 2048 + one) << f;  // rotated once it reached max-size
    entries(f);                                    // whole entries only
  }
  // The three files hold the newest lines, contiguous and in order.
  TempDir o;
  auto [out, err] = read_both(o, log, {});
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(all.substr(all.size() - out.size()), out);
  EXPECT_EQ(out.substr(0, 5), "line ");
  // --tail crosses files.
  ReadOptions tail;
  tail.tail = 25;
  EXPECT_EQ(read_both(o, log, tail).first, numbered(175, 200));
  tail.tail = 1;
  EXPECT_EQ(read_both(o, log, tail).first, numbered(199, 200));
  tail.tail = 0;
  EXPECT_EQ(read_both(o, log, tail).first, "");
  tail.tail = 100000;
  EXPECT_EQ(read_both(o, log, tail).first, out);
}

TEST(LogWriter, MaxFileOneTruncatesInPlace) {
  TempDir t;
  std::string log = t / "c-json.log";
  LogWriter w(log, parse_log_options("json-file", {"max-size=1k"}));
  std::string all = numbered(0, 100);
  w.feed(Stream::out, all.data(), all.size(), kT0);
  w.flush();
  EXPECT_FALSE(fs::exists(log + ".1"));
  EXPECT_LT(fs::file_size(log), 1200u);
  auto e = entries(log);
  ASSERT_FALSE(e.empty());
  EXPECT_EQ(e.back()["log"], "line 99\n");
}

TEST(LogWriter, NoneDriverWritesNothing) {
  TempDir t;
  std::string log = t / "c-json.log";
  LogWriter w(log, parse_log_options("none", {}));
  w.feed(Stream::out, "x\n", 2, kT0);
  w.flush();
  EXPECT_FALSE(fs::exists(log));
}

TEST(LogWriter, AFailingDiskDropsLinesCountsThemAndNeverThrows) {
  // /dev/full fails every write with ENOSPC.
  LogWriter w("/dev/full", {});
  std::string lines = numbered(0, 1000);
  for (int round = 0; round < 3; round++) {
    EXPECT_NO_THROW(w.feed(Stream::out, lines.data(), lines.size(), kT0));
    EXPECT_NO_THROW(w.flush());
  }
  EXPECT_EQ(w.stats().lines_dropped, 3000u);
  EXPECT_EQ(w.stats().lines_written, 0u);
  EXPECT_EQ(w.stats().last_errno, ENOSPC);
  EXPECT_GT(w.stats().bytes_dropped, lines.size() * 3);
}

TEST(LogReader, StdoutAndStderrApartOrTogetherInOrder) {
  TempDir t;
  std::string log = t / "c-json.log";
  {
    LogWriter w(log, {});
    for (int i = 0; i < 50; i++) {
      std::string o = "out " + std::to_string(i) + "\n", e = "err " + std::to_string(i) + "\n";
      w.feed(Stream::out, o.data(), o.size(), kT0 + i);
      w.feed(Stream::err, e.data(), e.size(), kT0 + i);
    }
  }
  auto [out, err] = read_both(t, log, {});
  EXPECT_EQ(out, numbered(0, 50, "out "));
  EXPECT_EQ(err, numbered(0, 50, "err "));
  // One file for both (2>&1): the entries' order.
  std::string both = t / "both.txt";
  int fd = ::open(both.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int fd2 = ::dup(fd);
  read_log(log, {}, fd, fd2);
  ::close(fd), ::close(fd2);
  std::string want;
  for (int i = 0; i < 50; i++) want += "out " + std::to_string(i) + "\nerr " + std::to_string(i) + "\n";
  EXPECT_EQ(read_file(both), want);
}

TEST(LogReader, SinceUntilAndTimestamps) {
  TempDir t;
  std::string log = t / "c-json.log";
  {
    LogWriter w(log, {});
    for (int i = 0; i < 10; i++) {
      std::string l = "at " + std::to_string(i) + "\n";
      w.feed(Stream::out, l.data(), l.size(), kT0 + i * 1000000000LL);
    }
  }
  ReadOptions o;
  o.since_ns = kT0 + 3 * 1000000000LL;
  o.until_ns = kT0 + 5 * 1000000000LL;
  EXPECT_EQ(read_both(t, log, o).first, "at 3\nat 4\nat 5\n");
  ReadOptions ts;
  ts.timestamps = true;
  ts.tail = 2;
  EXPECT_EQ(read_both(t, log, ts).first,
            "2025-11-26T01:02:11.000000000Z at 8\n2025-11-26T01:02:12.000000000Z at 9\n");
}

TEST(LogReader, ForeignLinesAreReadAndGarbageSkipped) {
  TempDir t;
  std::string log = t / "c-json.log";
  minirun::test::write_file(log,
                            "{\"time\":\"2026-01-01T00:00:00Z\",\"stream\":\"stdout\",\"log\":\"a\\u00e9\\n\"}\n"
                            "not json\n"
                            "{\"log\":\"b\\n\",\"stream\":\"stderr\",\"attrs\":{\"k\":\"v\"},\"time\":\"2026-01-01T00:00:01.5Z\"}\n");
  ReadOptions o;
  o.timestamps = true;
  auto [out, err] = read_both(t, log, o);
  EXPECT_EQ(out, "2026-01-01T00:00:00.000000000Z a\xc3\xa9\n");
  EXPECT_EQ(err, "2026-01-01T00:00:01.500000000Z b\n");
  EXPECT_EQ(read_both(t, t / "missing.log", {}).first, "");
}

TEST(LogReader, FollowSeesEveryLineAcrossRotationsAndStopsWithTheMonitor) {
  TempDir t;
  std::string log = t / "c-json.log";
  auto opts = parse_log_options("json-file", {"max-size=4k", "max-file=5"});
  int stop = ::eventfd(0, EFD_CLOEXEC);
  std::atomic<bool> reader_started{false};
  std::string out_path = t / "followed.txt";
  LogWriter w(log, opts);
  w.feed(Stream::out, "before\n", 7, kT0);
  w.flush();
  std::thread reader([&] {
    int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ReadOptions o;
    o.follow = true;
    o.stop_fd = stop;
    reader_started = true;
    read_log(log, o, fd, fd);
    ::close(fd);
  });
  while (!reader_started) std::this_thread::yield();
  std::string all;
  for (int i = 0; i < 300; i++) {
    std::string l = "followed line " + std::to_string(i) + "\n";
    all += l;
    w.feed(Stream::out, l.data(), l.size(), kT0 + i);
    w.flush();  // a write per line, rotating every ~40 lines: the reader must keep up by events
    if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(w.stats().rotations, 5u);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  uint64_t one = 1;
  ASSERT_EQ(::write(stop, &one, sizeof one), 8);
  reader.join();
  ::close(stop);
  EXPECT_EQ(read_file(out_path), "before\n" + all);
}

TEST(LogReader, DockerTimeValues) {
  const int64_t now = kT0;
  const int64_t s = 1000000000;
  EXPECT_EQ(parse_log_time("10m", now), now - 600 * s);
  EXPECT_EQ(parse_log_time("1h30m", now), now - 5400 * s);
  EXPECT_EQ(parse_log_time("1.5h", now), now - 5400 * s);
  EXPECT_EQ(parse_log_time("300ms", now), now - 300000000);
  EXPECT_EQ(parse_log_time("1764118923", now), kT0);
  EXPECT_EQ(parse_log_time("1764118923.5", now), kT0 + s / 2);
  EXPECT_EQ(parse_log_time("0", now), 0);  // a Unix time, not a duration
  EXPECT_EQ(parse_log_time("2025-11-26T01:02:03Z", now), kT0);
  EXPECT_EQ(parse_log_time("2025-11-26T02:02:03+01:00", now), kT0);
  EXPECT_EQ(parse_log_time("2025-11-26T01:02:03.25Z", now), kT0 + s / 4);
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  EXPECT_EQ(parse_log_time("2025-11-26T01:02:03", now), kT0);
  EXPECT_EQ(parse_log_time("2025-11-26T01:02", now), kT0 - 3 * s);
  EXPECT_EQ(parse_log_time("2025-11-26T01", now), kT0 - 123 * s);
  EXPECT_EQ(parse_log_time("2025-11-26", now), kT0 - 3723 * s);
  for (const char* bad : {"", "abc", "10x", "2025-13-01", "2025-11-26T1:2", "12.ab", "1-2"})
    EXPECT_THROW(parse_log_time(bad, now), Error) << bad;
  int64_t d;
  EXPECT_TRUE(parse_go_duration("-1h", d));
  EXPECT_EQ(d, -3600 * s);
  EXPECT_FALSE(parse_go_duration("h", d));
  EXPECT_FALSE(parse_go_duration("1", d));
}

TEST(LogReader, ALargeLogReadsTheSameAcrossManyReads) {
  // 10 MB read 256 KiB at a time: lines cut by the reads, escapes and both streams come out whole.
  TempDir t;
  std::string log = t / "c-json.log";
  std::string all;
  {
    LogWriter w(log, {});
    std::string pad(70, 'p');
    for (int i = 0; i < 80000; i++) {
      std::string l = pad + " " + std::to_string(i) + (i % 1000 == 0 ? " \"quoted\" \\ \xc3\xa9\t" : "") + "\n";
      all += l;
      w.feed(i % 7 == 0 ? Stream::err : Stream::out, l.data(), l.size(), kT0 + i);
    }
  }
  ASSERT_GT(fs::file_size(log), 8u << 20);
  auto [out, err] = read_both(t, log, {});
  std::string want_out, want_err;
  size_t pos = 0;
  for (int i = 0; i < 80000; i++) {
    size_t nl = all.find('\n', pos);
    (i % 7 == 0 ? want_err : want_out) += all.substr(pos, nl + 1 - pos);
    pos = nl + 1;
  }
  EXPECT_TRUE(out == want_out) << out.size() << " vs " << want_out.size();
  EXPECT_TRUE(err == want_err) << err.size() << " vs " << want_err.size();
  ReadOptions since;
  since.since_ns = kT0 + 79990;
  EXPECT_EQ(read_both(t, log, since).first.size() + read_both(t, log, since).second.size(),
            all.size() - all.find(std::string(70, 'p') + " 79990\n"));
}

// A read while the writer rotates shows a run of consecutive lines: the files after the first are
// taken as each one's successor (by inode), not by a name that may have moved several rotations
// on meanwhile. Nothing is deleted here (max-file is not reached), so nothing may be missing between the
// first line shown and the last.
TEST(LogReader, AReadDuringRotationsSkipsNoFile) {
  TempDir t;
  std::string log = t / "c-json.log";
  std::atomic<bool> stop{false}, written{false};
  std::thread writer([&] {
    LogWriter w(log, parse_log_options("json-file", {"max-size=1k", "max-file=500"}));
    for (int i = 0; i < 5000 && !stop; i++) {  // about 350 files: fewer than max-file, none deleted
      std::string line = "line " + std::to_string(i) + "\n";
      w.feed(Stream::out, line.data(), line.size(), kT0 + i);
      w.flush();
      if (i % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    written = true;
  });
  int reads = 0;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       !written && std::chrono::steady_clock::now() < until; reads++) {
    auto [out, err] = read_both(t, log, ReadOptions{});
    std::istringstream in(out);
    std::string l;
    long prev = -1;
    while (std::getline(in, l)) {
      long n = std::stol(l.substr(5));
      if (prev >= 0 && n != prev + 1) {
        ADD_FAILURE() << "read " << reads << ": line " << n << " after line " << prev;
        break;
      }
      prev = n;
    }
    if (HasFailure()) break;
  }
  stop = true;
  writer.join();
  EXPECT_GT(reads, 5);
}

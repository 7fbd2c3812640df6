// HealthThread (monitor/health_prober.h): a foreground container's health check on a thread,
// its probes plain children here (no container) reaped through pidfds: results in order, the
// timeout, and the stop that ends it unhealthy.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "minirun/monitor/health_prober.h"
#include "monitor_start.h"

using namespace minirun::monitor;
using minirun::test::sh_start;

namespace {

constexpr int64_t kMs = 1000000;

ProbeFn sh_probe(const std::string& script) {
  return [start = sh_start(script)](pid_t, int out) {
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = start(null, out, out);
    ::close(null);
    return pid;
  };
}

struct Recorder {
  std::mutex mu;
  std::vector<HealthState> states;
  std::function<void(const HealthState&)> fn() {
    return [this](const HealthState& s) {
      std::lock_guard<std::mutex> l(mu);
      states.push_back(s);
    };
  }
  HealthState last() {
    std::lock_guard<std::mutex> l(mu);
    return states.back();
  }
  // Waits up to 5 s for a state with `status` and at least `entries` results.
  bool wait_for(const std::string& status, size_t entries) {
    for (int i = 0; i < 500; i++) {
      {
        std::lock_guard<std::mutex> l(mu);
        for (const auto& s : states)
          if (s.status == status && s.log.size() >= entries) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

ProberOptions options(ProbeFn probe, Recorder& r, int64_t interval_ms, int64_t timeout_ms = 5000, int retries = 3) {
  ProberOptions o;
  o.check.argv = {"probe"};
  o.check.interval = interval_ms * kMs;
  o.check.timeout = timeout_ms * kMs;
  o.check.retries = retries;
  o.probe = std::move(probe);
  o.on_health = r.fn();
  return o;
}

}  // namespace

TEST(HealthThread, ProbesUntilStoppedThenUnhealthy) {
  Recorder r;
  {
    HealthThread t(options(sh_probe("echo fine"), r, 50), ::getpid());
    EXPECT_EQ(r.last().status, "starting") << "recorded before the constructor returns";
    EXPECT_TRUE(r.wait_for("healthy", 3));
  }
  HealthState end = r.last();
  EXPECT_EQ(end.status, "unhealthy") << "a stopped check is unhealthy";
  ASSERT_FALSE(end.log.empty());
  EXPECT_EQ(end.log.back().output, "fine\n");
  EXPECT_EQ(end.log.back().exit_code, 0);
  EXPECT_LE(end.log.size(), kHealthLogEntries);
}

TEST(HealthThread, FailuresAndATimeout) {
  Recorder fails;
  {
    HealthThread t(options(sh_probe("exit 4"), fails, 30, 5000, 2), ::getpid());
    EXPECT_TRUE(fails.wait_for("unhealthy", 2));
  }
  EXPECT_EQ(fails.states[2].failing_streak, 2);
  EXPECT_EQ(fails.states[2].log.back().exit_code, 4);

  Recorder slow;
  auto t0 = std::chrono::steady_clock::now();
  {
    HealthThread t(options(sh_probe("exec sleep 10"), slow, 30, 100, 1), ::getpid());
    EXPECT_TRUE(slow.wait_for("unhealthy", 1));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4)) << "the sleeping probe was killed";
  EXPECT_EQ(slow.states[1].log.back().exit_code, -1);
  EXPECT_EQ(slow.states[1].log.back().output, "Health check exceeded timeout (100ms)");
}

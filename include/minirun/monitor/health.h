// health.h — a container's health check as Docker runs it (moby daemon/health.go), apart from
// how a probe is started: the check's resolved settings, the state machine that turns probe
// results into State.Health (status, failing streak, the last five results), the interval before
// the next probe, a probe's output as Docker keeps it (4096 bytes, then "..."), and the state's
// JSON, which the monitor writes and `inspect`/`ps` read. Times are unix nanoseconds, given by
// the caller (the monitor's clock, a test's fake one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::monitor {

constexpr int64_t kSecondNs = 1000000000;
constexpr int64_t kDefaultProbeInterval = 30 * kSecondNs;  // Docker's defaults, used for a 0
constexpr int64_t kDefaultProbeTimeout = 30 * kSecondNs;
constexpr int64_t kDefaultStartInterval = 5 * kSecondNs;
constexpr int kDefaultProbeRetries = 3;
constexpr size_t kHealthLogEntries = 5;    // results kept in State.Health.Log
constexpr size_t kHealthOutputMax = 4096;  // bytes of a probe's output kept

// A health check with Docker's defaults applied: what the monitor runs.
struct HealthCheck {
  std::vector<std::string> argv;  // the probe: CMD's arguments, or the shell with CMD-SHELL's
  int64_t interval = kDefaultProbeInterval, timeout = kDefaultProbeTimeout;
  int64_t start_period = 0, start_interval = kDefaultStartInterval;
  int retries = kDefaultProbeRetries;
};

struct HealthResult {  // one probe: Docker's HealthcheckResult
  int64_t start = 0, end = 0;
  int exit_code = 0;  // 0 healthy; anything else a failure (-1: timed out, or not run)
  std::string output;
};

struct HealthState {  // State.Health
  std::string status = "starting";  // starting | healthy | unhealthy
  int failing_streak = 0;
  std::vector<HealthResult> log;  // oldest first, at most kHealthLogEntries
};

// The state machine of one container's check, across its starts.
class HealthMachine {
 public:
  explicit HealthMachine(HealthCheck check, HealthState previous = {});

  // The container (re)started at started_ns: status starting, streak 0; the log is kept.
  void started(int64_t started_ns);
  // The delay before the next probe at now_ns: StartInterval while starting within the start
  // period, else Interval.
  int64_t next_delay(int64_t now_ns) const;
  // A probe's result (handleProbeResult): a success makes it healthy with the streak reset; a
  // failure counts toward the streak unless it started within the start period while the
  // container had not yet been healthy; Retries consecutive counted failures make it unhealthy.
  // True when the status changed.
  bool record(HealthResult r);
  // The container stopped: unhealthy, as Docker marks a check whose monitor stopped.
  void stopped();

  const HealthState& state() const { return state_; }
  const HealthCheck& check() const { return check_; }

 private:
  HealthCheck check_;
  HealthState state_;
  int64_t started_ = 0;
};

// A probe's output as Docker keeps it: the first kHealthOutputMax bytes, "..." when more came.
class ProbeOutput {
 public:
  void append(const char* p, size_t n);
  std::string text() const { return truncated_ ? buf_ + "..." : buf_; }
  bool empty() const { return buf_.empty(); }

 private:
  std::string buf_;
  bool truncated_ = false;
};

// The result of a probe that timed out: exit code -1, Docker's message with what it wrote.
HealthResult timed_out_result(int64_t start, int64_t end, int64_t timeout, const ProbeOutput& out);

// State.Health as Docker's inspect prints it: {"Status","FailingStreak","Log":[{"Start","End",
// "ExitCode","Output"}]}, and back (nullopt when the text is not such a document).
std::string health_state_json(const HealthState& s);
std::optional<HealthState> parse_health_state(std::string_view json);

}  // namespace minirun::monitor

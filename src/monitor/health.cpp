// health.cpp — design: moby's daemon/health.go, line for line where it decides anything. The
// start period is measured from the container's start to the probe's start (a failure that
// began inside it does not count toward the streak while the container is still starting, even
// when it ended after it), and once healthy a failure always counts. The interval is re-armed
// after each result, not on a fixed cadence: a slow probe delays the next one, as Docker's
// timer reset after handleProbeResult does.
#include "minirun/monitor/health.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "minirun/util/go_duration.h"
#include "minirun/util/timefmt.h"

namespace minirun::monitor {

HealthMachine::HealthMachine(HealthCheck check, HealthState previous)
    : check_(std::move(check)), state_(std::move(previous)) {}

void HealthMachine::started(int64_t started_ns) {
  started_ = started_ns;
  state_.status = "starting";
  state_.failing_streak = 0;
}

int64_t HealthMachine::next_delay(int64_t now_ns) const {
  if (now_ns - started_ >= check_.start_period) return check_.interval;
  return state_.status == "starting" ? check_.start_interval : check_.interval;
}

bool HealthMachine::record(HealthResult r) {
  const std::string old = state_.status;
  const int64_t probe_start = r.start;
  const bool ok = r.exit_code == 0;
  state_.log.push_back(std::move(r));
  if (state_.log.size() > kHealthLogEntries)
    state_.log.erase(state_.log.begin(), state_.log.end() - static_cast<std::ptrdiff_t>(kHealthLogEntries));
  if (ok) {
    state_.failing_streak = 0;
    state_.status = "healthy";
  } else {
    const bool in_start_period = state_.status == "starting" && probe_start - started_ < check_.start_period;
    if (!in_start_period) {
      state_.failing_streak++;
      if (state_.failing_streak >= (check_.retries > 0 ? check_.retries : kDefaultProbeRetries))
        state_.status = "unhealthy";
    }
  }
  return state_.status != old;
}

void HealthMachine::stopped() { state_.status = "unhealthy"; }

void ProbeOutput::append(const char* p, size_t n) {
  size_t keep = buf_.size() < kHealthOutputMax ? std::min(kHealthOutputMax - buf_.size(), n) : 0;
  buf_.append(p, keep);
  if (keep < n) truncated_ = true;
}

HealthResult timed_out_result(int64_t start, int64_t end, int64_t timeout, const ProbeOutput& out) {
  HealthResult r;
  r.start = start;
  r.end = end;
  r.exit_code = -1;
  r.output = "Health check exceeded timeout (" + format_go_duration(timeout) + ")";
  if (!out.empty()) r.output += ": " + out.text();
  return r;
}

std::string health_state_json(const HealthState& s) {
  nlohmann::ordered_json log = nlohmann::ordered_json::array();
  for (const auto& r : s.log)
    log.push_back({{"Start", r.start ? format_rfc3339_nano(r.start) : kGoZeroTime},
                   {"End", r.end ? format_rfc3339_nano(r.end) : kGoZeroTime},
                   {"ExitCode", r.exit_code},
                   {"Output", r.output}});
  nlohmann::ordered_json j = {{"Status", s.status}, {"FailingStreak", s.failing_streak}, {"Log", log}};
  // Output is whatever a probe printed: invalid UTF-8 is replaced rather than refused.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<HealthState> parse_health_state(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("Status") || !j["Status"].is_string()) return std::nullopt;
  HealthState s;
  s.status = j["Status"].get<std::string>();
  if (j.contains("FailingStreak") && j["FailingStreak"].is_number_integer()) s.failing_streak = j["FailingStreak"].get<int>();
  if (j.contains("Log") && j["Log"].is_array()) {
    for (const auto& e : j["Log"]) {
      if (!e.is_object()) continue;
      HealthResult r;
      if (e.contains("Start") && e["Start"].is_string()) parse_rfc3339(e["Start"].get<std::string>(), r.start);
      if (e.contains("End") && e["End"].is_string()) parse_rfc3339(e["End"].get<std::string>(), r.end);
      if (e.contains("ExitCode") && e["ExitCode"].is_number_integer()) r.exit_code = e["ExitCode"].get<int>();
      if (e.contains("Output") && e["Output"].is_string()) r.output = e["Output"].get<std::string>();
      s.log.push_back(std::move(r));
    }
  }
  return s;
}

}  // namespace minirun::monitor

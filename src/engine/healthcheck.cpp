#include "minirun/engine/healthcheck.h"

#include "minirun/util/error.h"
#include "minirun/util/go_duration.h"

namespace minirun {

namespace {

constexpr int64_t kMinimumDuration = 1000000;  // Docker's container.MinimumDuration: 1ms

int64_t flag_duration(const std::string& text, const char* flag) {
  if (text.empty()) return 0;
  auto d = parse_go_duration(text);
  if (!d)
    throw Error("invalid argument \"" + text + "\" for \"" + flag + "\" flag: time: invalid duration \"" + text + "\"",
                125);
  return *d;
}

int64_t json_duration(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) throw Error(std::string("Healthcheck: ") + key + ": not an integer (nanoseconds)", 125);
  return it->get<int64_t>();
}

}  // namespace

std::optional<HealthConfig> health_config_from_flags(const HealthFlags& f) {
  HealthConfig c;
  c.interval = flag_duration(f.interval, "--health-interval");
  c.timeout = flag_duration(f.timeout, "--health-timeout");
  c.start_period = flag_duration(f.start_period, "--health-start-period");
  c.start_interval = flag_duration(f.start_interval, "--health-start-interval");
  c.retries = f.retries;
  const bool settings = !f.cmd.empty() || c.interval != 0 || c.timeout != 0 || c.start_period != 0 ||
                        c.start_interval != 0 || c.retries != 0;
  if (f.none) {
    if (settings) throw Error("--no-healthcheck conflicts with --health-* options", 125);
    return HealthConfig{{"NONE"}};
  }
  if (!settings) return std::nullopt;
  if (!f.cmd.empty()) c.test = {"CMD-SHELL", f.cmd};
  if (c.interval < 0) throw Error("--health-interval cannot be negative", 125);
  if (c.timeout < 0) throw Error("--health-timeout cannot be negative", 125);
  if (c.retries < 0) throw Error("--health-retries cannot be negative", 125);
  if (c.start_period < 0) throw Error("--health-start-period cannot be negative", 125);
  if (c.start_interval < 0) throw Error("--health-start-interval cannot be negative", 125);
  validate_health_config(c);
  return c;
}

void validate_health_config(const HealthConfig& c) {
  auto too_short = [](int64_t d) { return d != 0 && d < kMinimumDuration; };
  if (too_short(c.interval)) throw Error("Interval in Healthcheck cannot be less than 1ms", 125);
  if (too_short(c.timeout)) throw Error("Timeout in Healthcheck cannot be less than 1ms", 125);
  if (c.retries < 0) throw Error("Retries in Healthcheck cannot be negative", 125);
  if (too_short(c.start_period)) throw Error("StartPeriod in Healthcheck cannot be less than 1ms", 125);
  if (too_short(c.start_interval)) throw Error("StartInterval in Healthcheck cannot be less than 1ms", 125);
}

std::optional<HealthConfig> health_config_from_json(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  if (!j.is_object()) throw Error("Healthcheck: not an object", 125);
  HealthConfig c;
  if (auto it = j.find("Test"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw Error("Healthcheck: Test: not an array of strings", 125);
    for (const auto& a : *it) {
      if (!a.is_string()) throw Error("Healthcheck: Test: not an array of strings", 125);
      c.test.push_back(a.get<std::string>());
    }
  }
  c.interval = json_duration(j, "Interval");
  c.timeout = json_duration(j, "Timeout");
  c.start_period = json_duration(j, "StartPeriod");
  c.start_interval = json_duration(j, "StartInterval");
  if (auto it = j.find("Retries"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) throw Error("Healthcheck: Retries: not an integer", 125);
    c.retries = it->get<int>();
  }
  return c;
}

std::optional<HealthConfig> merge_health_config(const std::optional<HealthConfig>& user,
                                                const std::optional<HealthConfig>& image) {
  if (!user) return image;
  if (!image) return user;
  HealthConfig m = *user;
  if (m.test.empty()) m.test = image->test;
  if (m.interval == 0) m.interval = image->interval;
  if (m.timeout == 0) m.timeout = image->timeout;
  if (m.start_period == 0) m.start_period = image->start_period;
  if (m.start_interval == 0) m.start_interval = image->start_interval;
  if (m.retries == 0) m.retries = image->retries;
  return m;
}

std::optional<monitor::HealthCheck> health_probe(const std::optional<HealthConfig>& c,
                                                 const std::vector<std::string>& shell) {
  if (!c || c->test.empty()) return std::nullopt;
  monitor::HealthCheck h;
  const std::string& kind = c->test[0];
  if (kind == "CMD") {
    h.argv.assign(c->test.begin() + 1, c->test.end());
  } else if (kind == "CMD-SHELL") {
    h.argv = shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : shell;
    h.argv.insert(h.argv.end(), c->test.begin() + 1, c->test.end());
  } else {
    return std::nullopt;  // "NONE", or a kind Docker ignores too
  }
  if (h.argv.empty()) return std::nullopt;
  if (c->interval > 0) h.interval = c->interval;
  if (c->timeout > 0) h.timeout = c->timeout;
  if (c->start_period > 0) h.start_period = c->start_period;
  if (c->start_interval > 0) h.start_interval = c->start_interval;
  if (c->retries > 0) h.retries = c->retries;
  return h;
}

}  // namespace minirun

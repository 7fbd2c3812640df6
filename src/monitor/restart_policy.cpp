#include "minirun/monitor/restart_policy.h"

#include "minirun/util/error.h"

namespace minirun {

RestartPolicy parse_restart_policy(std::string_view s) {
  RestartPolicy p;
  std::string_view name = s.substr(0, s.find(':'));
  bool has_count = s.find(':') != std::string_view::npos;
  std::string_view count = has_count ? s.substr(s.find(':') + 1) : std::string_view();
  if (name.empty() || name == "no") {
    p.kind = RestartPolicy::Kind::no;
  } else if (name == "always") {
    p.kind = RestartPolicy::Kind::always;
  } else if (name == "unless-stopped") {
    p.kind = RestartPolicy::Kind::unless_stopped;
  } else if (name == "on-failure") {
    p.kind = RestartPolicy::Kind::on_failure;
  } else {
    throw Error("invalid restart policy '" + std::string(name) + "'");
  }
  if (has_count) {
    if (p.kind != RestartPolicy::Kind::on_failure)
      throw Error("maximum retry count cannot be used with restart policy '" + std::string(name) + "'");
    int n = 0;
    if (count.empty() || count.size() > 9) throw Error("invalid restart policy format");
    for (char c : count) {
      if (c < '0' || c > '9') throw Error("invalid restart policy format");
      n = n * 10 + (c - '0');
    }
    p.max_retries = n;
  }
  return p;
}

std::string restart_policy_name(const RestartPolicy& p) {
  switch (p.kind) {
    case RestartPolicy::Kind::on_failure: return "on-failure";
    case RestartPolicy::Kind::always: return "always";
    case RestartPolicy::Kind::unless_stopped: return "unless-stopped";
    default: return "no";
  }
}

RestartDecision decide_restart(const RestartPolicy& p, RestartState& st, int exit_code, bool manually_stopped,
                               std::chrono::milliseconds ran_for) {
  using std::chrono::milliseconds;
  constexpr milliseconds kFirst{100}, kMax{60 * 1000};
  RestartDecision d;
  if (p.kind == RestartPolicy::Kind::no || manually_stopped) return d;
  // A run of 10 s or more starts the back-off again.
  if (ran_for >= std::chrono::seconds(10)) st.delay = milliseconds(0);
  if (st.delay == milliseconds(0)) st.delay = kFirst;
  else if (st.delay < kMax) st.delay *= 2;
  if (st.delay > kMax) st.delay = kMax;
  switch (p.kind) {
    case RestartPolicy::Kind::always:
    case RestartPolicy::Kind::unless_stopped: d.restart = true; break;
    case RestartPolicy::Kind::on_failure:
      d.restart = exit_code != 0 && (p.max_retries == 0 || st.restart_count < p.max_retries);
      break;
    default: break;
  }
  if (d.restart) {
    st.restart_count++;
    d.delay = st.delay;
  }
  return d;
}

}  // namespace minirun

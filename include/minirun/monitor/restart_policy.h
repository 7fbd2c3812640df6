// restart_policy.h — `--restart no|on-failure[:N]|always|unless-stopped` and Docker's decision
// after each exit (its restart manager): whether to start again and after how long. The delay
// starts at 100 ms and doubles with each restart, up to 1 minute, and goes back to 100 ms once
// the container had run for 10 s. A stop by the user (stop, kill) always ends restarting. Pure
// functions: the monitor calls decide_restart, inspect shows RestartCount.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace minirun {

struct RestartPolicy {
  enum class Kind { no, on_failure, always, unless_stopped } kind = Kind::no;
  int max_retries = 0;  // on-failure only; 0: no limit
};

// Throws Error (125) with Docker's messages for anything else.
RestartPolicy parse_restart_policy(std::string_view s);
// "no", "on-failure", "always", "unless-stopped" (Docker's HostConfig.RestartPolicy.Name).
std::string restart_policy_name(const RestartPolicy& p);

struct RestartState {
  int restart_count = 0;              // restarts so far (inspect's RestartCount)
  std::chrono::milliseconds delay{0};  // the last back-off
};

struct RestartDecision {
  bool restart = false;
  std::chrono::milliseconds delay{0};  // wait this long before starting again
};

// After an exit: exit_code as `wait` reports it (128+N for a signal), manually_stopped when the
// user stopped or killed it, ran_for how long this run lasted. Updates state.
RestartDecision decide_restart(const RestartPolicy& p, RestartState& state, int exit_code, bool manually_stopped,
                               std::chrono::milliseconds ran_for);

}  // namespace minirun

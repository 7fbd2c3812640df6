// status_text.h — the STATUS column of `ps` as Docker prints it ("Up 3 seconds", "Up About a
// minute (Paused)", "Up 2 minutes (healthy)", "Up 5 seconds (health: starting)", "Exited (0) 2 minutes ago", "Restarting (1) 5 seconds ago", "Created"), and
// go-units' HumanDuration it is built from. Pure functions of the state and the current time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace minirun {

// go-units HumanDuration: "Less than a second", "1 second", "5 seconds", "About a minute",
// "3 minutes", "About an hour", "5 hours", "3 days", "2 weeks", "3 months", "2 years".
std::string human_duration(int64_t ns);

struct StatusView {
  std::string_view state;  // created | running | paused | restarting | removing | exited | dead
  int exit_code = 0;
  std::string_view started_at, finished_at;  // RFC 3339, "" or Go's zero time when never
  std::string_view health;  // starting | healthy | unhealthy; "" without a health check
};

// Docker's State.String() at time now_ns (unix ns).
std::string status_text(const StatusView& s, int64_t now_ns);

}  // namespace minirun

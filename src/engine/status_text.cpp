#include "minirun/engine/status_text.h"

#include "minirun/util/timefmt.h"

namespace minirun {

std::string human_duration(int64_t ns) {
  const double secs_f = static_cast<double>(ns) / 1e9;
  const int64_t seconds = ns / 1000000000;
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  const int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  const int64_t hours = static_cast<int64_t>(secs_f / 3600 + 0.5);  // rounded, as go-units does
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(static_cast<int64_t>(secs_f / 3600) / 24 / 365) + " years";
}

namespace {
// 0 for "", Go's zero time ("0001-01-01T00:00:00Z") or anything unreadable.
int64_t when(std::string_view t) {
  int64_t ns;
  if (t.empty() || t.substr(0, 4) == "0001" || !parse_rfc3339(t, ns)) return 0;
  return ns;
}
}  // namespace

std::string status_text(const StatusView& s, int64_t now) {
  int64_t started = when(s.started_at), finished = when(s.finished_at);
  auto since = [now](int64_t t) { return human_duration(now > t ? now - t : 0); };
  if (s.state == "running") {
    if (s.health.empty()) return "Up " + since(started);
    // Docker's Health.String(): "health: starting", else the status as it is.
    return "Up " + since(started) + " (" + (s.health == "starting" ? "health: starting" : std::string(s.health)) + ")";
  }
  if (s.state == "paused") return "Up " + since(started) + " (Paused)";
  if (s.state == "restarting")
    return "Restarting (" + std::to_string(s.exit_code) + ") " + since(finished) + " ago";
  if (s.state == "removing") return "Removal In Progress";
  if (s.state == "dead") return "Dead";
  if (started == 0) return "Created";
  if (finished == 0) return "";
  return "Exited (" + std::to_string(s.exit_code) + ") " + since(finished) + " ago";
}

}  // namespace minirun

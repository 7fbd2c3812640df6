// monitor_client.h — the other side of a monitor (monitor.h: its control fifo and attach
// socket protocols): `stop`, `kill`, `logs -f`, `wait` and `attach` reach a running container's
// monitor through the files it holds, with no daemon and no pid that could go stale.
#pragma once

#include <string>

namespace minirun::monitor {

// Sends one request; false when no monitor listens (the container is not running).
bool send_monitor_command(const std::string& ctl_path, const std::string& line);
// A descriptor that reports EPOLLERR/POLLERR once the monitor has exited (for read_log's
// stop_fd); -1 when no monitor listens. The caller closes it.
int watch_monitor(const std::string& ctl_path);
// Waits until the monitor has exited: true, or false after timeout_ms (< 0: no limit).
bool wait_monitor_exit(const std::string& ctl_path, int timeout_ms);
// Connects to a monitor's attach socket: the connected descriptor (close-on-exec), -1 when no
// monitor listens. Works for paths longer than sun_path (through /proc/self/fd).
int connect_attach(const std::string& attach_path);

}  // namespace minirun::monitor

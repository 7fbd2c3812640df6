// monitor_wire.h — what the monitor's three sides share (private to src/monitor): the attach
// socket's address, the monotonic clock in milliseconds, and the one-line readiness report
// ("ok <monitor pid> <container pid>\n" or "err <code> <message>\n") that a monitor writes to the
// process that started it.
#pragma once

#include <sys/un.h>

#include <cstdint>
#include <string>

namespace minirun::monitor {

// A unix socket address for path; a path too long for sun_path goes through an O_PATH descriptor
// of its directory (*dirfd, closed by the caller).
bool unix_address(const std::string& path, struct sockaddr_un& a, int* dirfd);

int64_t mono_ms();

// Writes s whole (a short line: below PIPE_BUF), retrying on EINTR; gives up on an error.
void write_line(int fd, const std::string& s);

// s with its line breaks made spaces: a message that fits the report's one line.
std::string one_line(std::string s);

}  // namespace minirun::monitor

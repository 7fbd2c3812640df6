// tty.h — the container's terminal: the process opens a pty in its own devpts and hands the
// master over a unix socket with SCM_RIGHTS (to minirun's relay, or to the engine's
// --console-socket as runc does); the relay copies between the caller's terminal and the master.
#pragma once

#include <string>

namespace minirun::runtime {

// Sends `payload` (at least one byte) with the descriptor fd (when >= 0). Returns sendmsg's value.
ssize_t send_fd(int sock, const std::string& payload, int fd, int flags = 0);
// The descriptor of the next message (close-on-exec), -1 when none came.
int receive_fd(int sock);

// In the container's process: opens /dev/pts/ptmx, sends the master on sock, makes the slave the
// controlling terminal and stdin/stdout/stderr. Returns 0 or an errno with what_failed set.
int attach_new_pty(int sock, const char** what_failed);

// Connects to a --console-socket path; throws Error.
int connect_console_socket(const std::string& path);

// In minirun: relays between its stdin/stdout and master until the pty closes; stdin is relayed
// only with forward_stdin (`run -i`). Puts a terminal stdin into raw mode meanwhile and copies
// the window size (again on SIGWINCH: call note_winch() from the handler).
void relay_tty(int master, bool forward_stdin);
void note_winch();

}  // namespace minirun::runtime

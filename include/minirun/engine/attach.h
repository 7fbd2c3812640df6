// attach.h — `attach` and `start -a [-i]`: the caller's stdin, stdout and stderr connected to a
// running container through its monitor's attach socket (monitor.h), Docker's way: live output
// only, stdin forwarded when the container keeps it open (-i), the caller's terminal raw while
// it types into a container's tty, detach keys (default ctrl-p ctrl-q) leave it running, signals
// proxied to the container (no tty), the container's exit code returned when it ends.
#pragma once

#include <string>
#include <utility>

#include "minirun/store/store.h"

namespace minirun {

struct AttachOptions {
  bool attach_stdin = true;                 // not --no-stdin (and the container has OpenStdin)
  bool sig_proxy = true;                    // --sig-proxy (no effect with a tty, as Docker)
  std::string detach_keys = "ctrl-p,ctrl-q";  // --detach-keys
};

// Docker's detach-key syntax: comma-separated keys, each one letter or "ctrl-X" (X a letter or
// one of @ [ \ ] ^ _). The byte sequence; Error(1) for anything else.
std::string parse_detach_keys(const std::string& keys);

// Where the detach sequence is in a byte stream (Docker's escape proxy): feed() returns the bytes
// to pass on (a partial match is held back until it fails) and sets detached once the whole
// sequence was typed.
class DetachKeys {
 public:
  explicit DetachKeys(std::string seq) : seq_(std::move(seq)) {}
  std::string feed(const char* p, size_t n, bool* detached);

 private:
  std::string seq_;
  size_t matched_ = 0;
};

struct AttachResult {
  bool detached = false;  // the detach keys were typed; the container runs on
  int exit_code = 0;      // the container's exit code when it ended
};

// What relay_attach needs to know of the container.
struct AttachTarget {
  bool tty = false;         // it has a terminal: the caller's is made raw while it types into it
  bool open_stdin = false;  // it keeps stdin open (-i): the caller's stdin goes there
  std::string ctl_path;     // its monitor's control fifo, for proxied signals
};

// Relays between the caller's stdio and a connected attach socket until the container ends or
// the caller types the detach keys. exit_code -1: the connection ended without the exit message
// (the monitor was killed, or the client was too slow to be given it): ask wait_container.
AttachResult relay_attach(int sock, const AttachTarget& t, const AttachOptions& o);

// The container's AttachTarget from its record.
AttachTarget attach_target(const Store& store, const std::string& cid);

// `attach`: Error(1) when the container is missing, not running or paused (Docker's messages).
AttachResult attach_container(Store& store, const std::string& cid, const AttachOptions& o);

}  // namespace minirun

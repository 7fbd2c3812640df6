// foreground_log.h — the json-file log of a container run in the foreground, as Docker logs every
// container: while it runs, minirun's own stdout and stderr are pipes (the container's stdio, or
// the runtime's terminal relay with -t, write there), read by a thread that passes every byte on
// to the real stdout and stderr and into the log (monitor/log_writer.h) that `logs` reads.
// A reader that goes away (EPIPE on the real stdout) closes that pipe: the container gets its
// EPIPE/SIGPIPE as it would have without the log.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "minirun/monitor/log_writer.h"

namespace minirun {

class ForegroundLog {
 public:
  // Opens the log and swaps fds 1 and 2 for the pipes. Throws Error when the log cannot be
  // opened; nothing is swapped then.
  ForegroundLog(const std::string& log_path, const logs::LogOptions& opts);
  // finish() if it was not called.
  ~ForegroundLog();
  ForegroundLog(const ForegroundLog&) = delete;
  ForegroundLog& operator=(const ForegroundLog&) = delete;

  // After the container has exited (nothing else holds the pipes): gives fds 1 and 2 back, and
  // returns once everything written is passed on and logged.
  void finish();

 private:
  void pump();

  std::unique_ptr<logs::LogWriter> writer_;
  int read_[2] = {-1, -1};   // the pipes' read ends (the thread's)
  int real_[2] = {-1, -1};   // the real stdout and stderr, kept aside
  int wake_[2] = {-1, -1};   // finish() → the thread: read what is left, then end (a process
                             // that inherited the pipes could hold them open for good)
  std::thread thread_;
  bool finished_ = false;
};

}  // namespace minirun

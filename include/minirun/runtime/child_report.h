// child_report.h — how a container's process, after clone(), reports a failure: it never throws;
// it writes {exit code, message} into a close-on-exec pipe and _exits, and the runtime turns the
// record into one Error line. A record with code 0 means a stage reached: "mounted" (only when the
// runtime asked, for its hooks), then "created, waiting for start".
#pragma once

#include <string>

namespace minirun::runtime {

struct ChildRecord {
  int code;
  char msg[1000];
};

class ChildReporter {
 public:
  explicit ChildReporter(int fd) : fd_(fd) {}
  [[noreturn]] void fail(const std::string& msg, int code = 125) const;
  // "what: strerror(errno)".
  [[noreturn]] void fail_errno(const std::string& what, int code = 125) const;
  // The created record (code 0); false when the runtime is gone.
  bool created() const;
  // The mounted record (code 0, before "created"); false when the runtime is gone.
  bool mounted() const { return created(); }
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace minirun::runtime

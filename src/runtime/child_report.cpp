#include "minirun/runtime/child_report.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace minirun::runtime {

void ChildReporter::fail(const std::string& msg, int code) const {
  ChildRecord r{};
  r.code = code;
  snprintf(r.msg, sizeof r.msg, "%s", msg.c_str());
  if (::write(fd_, &r, sizeof r) < 0) {
  }
  _exit(code);
}

void ChildReporter::fail_errno(const std::string& what, int code) const {
  fail(what + ": " + strerror(errno), code);
}

bool ChildReporter::created() const {
  ChildRecord r{};
  return ::write(fd_, &r, sizeof r) == static_cast<ssize_t>(sizeof r);
}

}  // namespace minirun::runtime

// error.h — the one error type of minirun.
//
// Every fallible core call throws minirun::Error, carrying a message built from context
// ("layer sha256:ab12…: usr/bin/x: File exists") and the exit status the CLI must use
// (Docker's conventions: 125 minirun failed, 126 cannot execute, 127 not found).
// Only the CLI catches, prints one line and maps to the exit status. Code that runs after
// clone() in a container child never throws (see container.cpp).
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace minirun {

constexpr int kExitFailed = 125;      // minirun itself failed
constexpr int kExitCannotExec = 126;  // command found but cannot be executed
constexpr int kExitNotFound = 127;    // command not found

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg, int exit_code = kExitFailed)
      : std::runtime_error(msg), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// "what: strerror(err)" as an Error.
Error sys_error(const std::string& what, int err = errno);

// Prefix an error's message with context, keeping its exit code: "context: message".
Error with_context(const std::string& context, const Error& e);

}  // namespace minirun

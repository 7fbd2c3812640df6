// fault_proxy.h — a proxy of the tests' own in front of a registry on 127.0.0.1 (plain HTTP):
// forwards every request, and injects the faults a pull must survive or refuse — a response cut
// after N bytes, 429 with Retry-After or 503 for N requests, a corrupted byte, a delay, an
// answer of the test's own (a hostile manifest or blob, with the headers it chooses) — while
// logging each request (method, path, Range, Authorization, status, bytes sent) for assertions.
// registry_helper.py's `proxy` mode does the work; rules apply from the next request on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "registry_fixture.h"

namespace minirun::test {

struct Fault {
  enum class Kind { cut, status, corrupt, delay, serve } kind = Kind::cut;
  std::string path;        // a regular expression searched in the path ("" = every path)
  std::string method;      // "" = every method
  int times = 1;           // how many matching requests it applies to (-1: all)
  uint64_t after = 0;      // cut: body bytes sent before the cut; corrupt: the byte flipped
  int status = 503;        // status: the answer
  std::string retry_after; // status: the Retry-After header ("" = none)
  int delay_ms = 0;        // delay: before the answer
  std::string body;        // serve: the answer's body (status is its status)
  std::vector<std::pair<std::string, std::string>> headers;  // serve: its headers

  static Fault cut(const std::string& path, uint64_t after, int times = 1);
  static Fault fail(const std::string& path, int status, int times = 1, const std::string& retry_after = "");
  static Fault corrupt(const std::string& path, uint64_t at, int times = 1);
  static Fault delay(const std::string& path, int ms, int times = 1);
  // Answers `body` with status 200 and these headers instead of forwarding (times: -1, every time).
  static Fault serve(const std::string& path, const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers, int times = -1);
};

class FaultProxy {
 public:
  // upstream: "http://127.0.0.1:PORT" (a Registry's url() without TLS).
  explicit FaultProxy(const std::string& upstream);
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  std::string host() const { return server_->host(); }
  std::string url() const { return "http://" + host(); }
  // Replaces the rules (the first that matches a request applies; counts start again).
  void set_faults(const std::vector<Fault>& faults);
  void clear_faults() { set_faults({}); }
  std::vector<LoggedRequest> requests() const { return server_->requests(); }

 private:
  TempDir dir_;
  std::string rules_;
  int bodies_ = 0;  // serve rules' body files written
  std::unique_ptr<HelperServer> server_;
};

}  // namespace minirun::test

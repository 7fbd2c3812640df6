#include "fault_proxy.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace minirun::test {

Fault Fault::cut(const std::string& path, uint64_t after, int times) {
  Fault f;
  f.kind = Kind::cut, f.path = path, f.after = after, f.times = times;
  return f;
}

Fault Fault::fail(const std::string& path, int status, int times, const std::string& retry_after) {
  Fault f;
  f.kind = Kind::status, f.path = path, f.status = status, f.times = times, f.retry_after = retry_after;
  return f;
}

Fault Fault::corrupt(const std::string& path, uint64_t at, int times) {
  Fault f;
  f.kind = Kind::corrupt, f.path = path, f.after = at, f.times = times;
  return f;
}

Fault Fault::delay(const std::string& path, int ms, int times) {
  Fault f;
  f.kind = Kind::delay, f.path = path, f.delay_ms = ms, f.times = times;
  return f;
}

Fault Fault::serve(const std::string& path, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers, int times) {
  Fault f;
  f.kind = Kind::serve, f.path = path, f.body = body, f.headers = headers, f.times = times, f.status = 200;
  return f;
}

FaultProxy::FaultProxy(const std::string& upstream) : dir_("minirun-fault-proxy-"), rules_(dir_ / "rules.json") {
  if (upstream.rfind("http://127.0.0.1:", 0) != 0) throw std::runtime_error("FaultProxy: upstream must be http://127.0.0.1:PORT");
  set_faults({});
  server_ = std::make_unique<HelperServer>("proxy", std::vector<std::string>{"--upstream", upstream, "--rules", rules_},
                                           dir_.path());
}

void FaultProxy::set_faults(const std::vector<Fault>& faults) {
  using nlohmann::json;
  json rules = json::array();
  for (const auto& f : faults) {
    json r;
    static const char* kinds[] = {"cut", "status", "corrupt", "delay", "serve"};
    if (f.kind == Fault::Kind::serve) {
      std::string file = dir_ / ("body-" + std::to_string(++bodies_));
      write_file(file, f.body);
      r["body_file"] = file;
      r["headers"] = json::object();
      for (const auto& [k, v] : f.headers) r["headers"][k] = v;
    }
    r["action"] = kinds[static_cast<int>(f.kind)];
    if (!f.path.empty()) r["path"] = f.path;
    if (!f.method.empty()) r["method"] = f.method;
    if (f.times >= 0) r["times"] = f.times;
    r["after"] = f.after;
    r["status"] = f.status;
    if (!f.retry_after.empty()) r["retry_after"] = f.retry_after;
    r["ms"] = f.delay_ms;
    rules.push_back(r);
  }
  // Whole or not at all: the proxy reads the file at each request.
  std::string tmp = rules_ + ".tmp";
  write_file(tmp, rules.dump());
  if (std::rename(tmp.c_str(), rules_.c_str()) != 0) throw std::runtime_error("FaultProxy: rename rules");
}

}  // namespace minirun::test

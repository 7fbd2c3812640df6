// seccomp_profile.cpp — Docker's profile format → runtime::Seccomp, following moby's
// profiles/seccomp setupSeccomp: archMap entries of the native architecture give it and its
// sub-architectures; a rule is dropped when an `excludes` matches (an arch equal to the host's,
// any listed cap in the bounding set, a kernel at least minKernel) or an `includes` does not
// (the host's arch not listed, a listed cap missing, a kernel below minKernel).
#include "minirun/engine/seccomp_profile.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

using nlohmann::json;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_array()) throw Error(std::string("seccomp profile: \"") + key + "\" must be a list");
  for (const auto& e : j[key]) out.push_back(e.get<std::string>());
  return out;
}

std::pair<int, int> running_kernel() {
  struct utsname u;
  int maj = 0, min = 0;
  if (::uname(&u) == 0) std::sscanf(u.release, "%d.%d", &maj, &min);
  return {maj, min};
}

std::pair<int, int> parse_kernel(const std::string& s) {
  int maj = 0, min = 0;
  if (std::sscanf(s.c_str(), "%d.%d", &maj, &min) < 1)
    throw Error("seccomp profile: minKernel \"" + s + "\": not a kernel version");
  return {maj, min};
}

std::string seccomp_arch_of_go(const std::string& go) {
  if (go == "amd64") return "SCMP_ARCH_X86_64";
  if (go == "386") return "SCMP_ARCH_X86";
  if (go == "arm64") return "SCMP_ARCH_AARCH64";
  if (go == "arm") return "SCMP_ARCH_ARM";
  if (go == "mips64") return "SCMP_ARCH_MIPS64";
  if (go == "mips64le") return "SCMP_ARCH_MIPSEL64";
  if (go == "mips") return "SCMP_ARCH_MIPS";
  if (go == "mipsle") return "SCMP_ARCH_MIPSEL";
  if (go == "ppc64") return "SCMP_ARCH_PPC64";
  if (go == "ppc64le") return "SCMP_ARCH_PPC64LE";
  if (go == "s390x") return "SCMP_ARCH_S390X";
  if (go == "riscv64") return "SCMP_ARCH_RISCV64";
  return "";
}

uint64_t u64(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return 0;
  if (!j[key].is_number_unsigned() && !(j[key].is_number_integer() && j[key].get<int64_t>() >= 0))
    throw Error(std::string("seccomp profile: \"") + key + "\" must be a non-negative integer");
  return j[key].get<uint64_t>();
}

}  // namespace

std::string native_go_arch() {
  struct utsname u;
  if (::uname(&u) != 0) return "";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m == "i386" || m == "i686") return "386";
  if (m.rfind("armv", 0) == 0) return "arm";
  if (m == "ppc64le" || m == "s390x" || m == "riscv64" || m == "ppc64") return m;
  if (m == "mips64") return "mips64le";
  return m;
}

const std::vector<std::string>& docker_default_capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_MKNOD",
      "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",    "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return caps;
}

runtime::Seccomp parse_docker_seccomp(const std::string& text, const SeccompTarget& target) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(std::string("decoding seccomp profile failed: ") + e.what());
  }
  if (!j.is_object()) throw Error("decoding seccomp profile failed: not a JSON object");
  const std::string arch = target.arch.empty() ? native_go_arch() : target.arch;
  const auto kernel = target.kernel ? *target.kernel : running_kernel();
  runtime::Seccomp out;
  try {
    auto archs = strings(j, "architectures");
    const bool has_map = j.contains("archMap") && j["archMap"].is_array() && !j["archMap"].empty();
    if (!archs.empty() && has_map)
      throw Error("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
    out.architectures = archs;
    const std::string native = seccomp_arch_of_go(arch);
    if (has_map && !native.empty()) {
      for (const auto& a : j["archMap"]) {
        if (a.value("architecture", "") != native) continue;
        out.architectures.push_back(native);
        for (const auto& s : strings(a, "subArchitectures")) out.architectures.push_back(s);
      }
    }
    out.default_action = j.value("defaultAction", "");
    if (out.default_action.empty()) throw Error("seccomp profile: defaultAction is missing");
    if (j.contains("defaultErrnoRet") && !j["defaultErrnoRet"].is_null())
      out.default_errno_ret = static_cast<uint32_t>(u64(j, "defaultErrnoRet"));
    out.flags = strings(j, "flags");
    out.listener_path = j.value("listenerPath", "");
    out.listener_metadata = j.value("listenerMetadata", "");
    if (j.contains("syscalls") && !j["syscalls"].is_null()) {
      if (!j["syscalls"].is_array()) throw Error("seccomp profile: \"syscalls\" must be a list");
      for (const auto& c : j["syscalls"]) {
        if (c.is_null()) continue;
        const json none = json::object();
        const json& exc = c.contains("excludes") && c["excludes"].is_object() ? c["excludes"] : none;
        const json& inc = c.contains("includes") && c["includes"].is_object() ? c["includes"] : none;
        bool skip = false;
        if (contains(strings(exc, "arches"), arch)) skip = true;
        for (const auto& cap : strings(exc, "caps"))
          if (contains(target.capabilities, cap)) skip = true;
        if (exc.contains("minKernel") && exc["minKernel"].is_string() && kernel >= parse_kernel(exc["minKernel"]))
          skip = true;
        auto inc_arches = strings(inc, "arches");
        if (!inc_arches.empty() && !contains(inc_arches, arch)) skip = true;
        for (const auto& cap : strings(inc, "caps"))
          if (!contains(target.capabilities, cap)) skip = true;
        if (inc.contains("minKernel") && inc["minKernel"].is_string() && kernel < parse_kernel(inc["minKernel"]))
          skip = true;
        if (skip) continue;
        runtime::SeccompSyscall s;
        const std::string name = c.value("name", "");
        s.names = strings(c, "names");
        if (!name.empty() && !s.names.empty())
          throw Error("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
        if (!name.empty()) s.names.push_back(name);
        s.action = c.value("action", "");
        if (s.action.empty()) throw Error("seccomp profile: a syscalls entry has no action");
        if (c.contains("errnoRet") && !c["errnoRet"].is_null()) s.errno_ret = static_cast<uint32_t>(u64(c, "errnoRet"));
        if (c.contains("args") && c["args"].is_array())
          for (const auto& a : c["args"]) {
            runtime::SeccompArg arg;
            arg.index = static_cast<uint32_t>(u64(a, "index"));
            arg.value = u64(a, "value");
            arg.value_two = u64(a, "valueTwo");
            arg.op = a.value("op", "");
            s.args.push_back(arg);
          }
        out.syscalls.push_back(std::move(s));
      }
    }
  } catch (const json::exception& e) {
    throw Error(std::string("decoding seccomp profile failed: ") + e.what());
  }
  return out;
}

runtime::Seccomp docker_default_seccomp(const SeccompTarget& target) {
  return parse_docker_seccomp(docker_default_seccomp_json(), target);
}

runtime::SeccompProgram docker_default_seccomp_program(const SeccompTarget& target, const std::string& cache_dir) {
  // The embedded text's own hash: an edited profile never meets an old cache file.
  const std::string profile_id = "docker-default " + std::to_string(docker_default_seccomp_json_hash());
  std::vector<std::string> caps = target.capabilities;
  std::sort(caps.begin(), caps.end());
  caps.erase(std::unique(caps.begin(), caps.end()), caps.end());
  const auto kernel = target.kernel ? *target.kernel : running_kernel();
  std::string key = profile_id + ";" + (target.arch.empty() ? native_go_arch() : target.arch) + ";" +
                    std::to_string(kernel.first) + "." + std::to_string(kernel.second) + ";";
  for (const auto& c : caps) key += c + ",";
  return runtime::seccomp_program_cached(key, [&] { return docker_default_seccomp(target); }, cache_dir);
}

std::optional<runtime::Seccomp> seccomp_from_option(const std::string& value, const SeccompTarget& target,
                                                    std::string* file_text) {
  if (value == "unconfined") return std::nullopt;
  if (value.empty() || value == "builtin") return docker_default_seccomp(target);
  auto text = read_file_if_exists(value, 1 << 20);
  if (!text) throw Error("opening seccomp profile (" + value + ") failed: no such file");
  try {
    auto profile = parse_docker_seccomp(*text, target);
    if (file_text) *file_text = std::move(*text);
    return profile;
  } catch (const Error& e) {
    throw with_context("seccomp profile " + value, e);
  }
}

}  // namespace minirun

// seccomp.cpp — runtime::Seccomp → libseccomp filter → BPF bytes in memory (exported through a
// memfd: libseccomp 2.5 has no export to memory), and the two-call installation in the child.
//
// Rules follow runc's InitSeccomp: a rule whose action equals the default is skipped (libseccomp
// refuses it); a syscall name libseccomp does not know is skipped; conditions on distinct
// arguments are one rule (AND), while several conditions on the same argument become one rule
// each (OR), the behaviour Docker's profiles are written for.
#include "minirun/runtime/seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::runtime {

namespace {

struct Ctx {
  scmp_filter_ctx c = nullptr;
  ~Ctx() {
    if (c) seccomp_release(c);
  }
};

uint32_t action_of(const std::string& name, std::optional<uint32_t> errno_ret) {
  const uint32_t e = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(e);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(e);
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") throw Error("seccomp: SCMP_ACT_NOTIFY needs a listener, which minirun does not provide");
  throw Error("seccomp: unknown action \"" + name + "\"");
}

scmp_compare op_of(const std::string& op) {
  if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (op == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (op == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  throw Error("seccomp: unknown operator \"" + op + "\"");
}

uint32_t arch_of(const std::string& name) {
  std::string n = name;
  if (n.rfind("SCMP_ARCH_", 0) == 0) n = n.substr(10);
  for (auto& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  uint32_t a = seccomp_arch_resolve_name(n.c_str());
  if (a == 0) throw Error("seccomp: unknown architecture \"" + name + "\"");
  return a;
}

unsigned int flag_of(const std::string& f) {
  if (f == "SECCOMP_FILTER_FLAG_TSYNC") return SECCOMP_FILTER_FLAG_TSYNC;
  if (f == "SECCOMP_FILTER_FLAG_LOG") return SECCOMP_FILTER_FLAG_LOG;
  if (f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  throw Error("seccomp: unsupported flag \"" + f + "\"");
}

std::string canonical(const Seccomp& s) {
  // Every field, length-prefixed: the cache key must change whenever the program could.
  std::string out;
  auto put = [&](const std::string& v) { out += std::to_string(v.size()) + ":" + v + ";"; };
  auto num = [&](uint64_t v) { out += std::to_string(v) + ";"; };
  put(s.default_action);
  num(s.default_errno_ret ? *s.default_errno_ret + 1ULL : 0);
  num(s.architectures.size());
  for (const auto& a : s.architectures) put(a);
  num(s.flags.size());
  for (const auto& f : s.flags) put(f);
  put(s.listener_path);
  num(s.syscalls.size());
  for (const auto& c : s.syscalls) {
    num(c.names.size());
    for (const auto& n : c.names) put(n);
    put(c.action);
    num(c.errno_ret ? *c.errno_ret + 1ULL : 0);
    num(c.args.size());
    for (const auto& a : c.args) {
      num(a.index), num(a.value), num(a.value_two);
      put(a.op);
    }
  }
  return out;
}

}  // namespace

SeccompProgram compile_seccomp(const Seccomp& profile) {
  if (!profile.listener_path.empty()) throw Error("seccomp: listenerPath is not supported");
  const uint32_t def = action_of(profile.default_action, profile.default_errno_ret);
  Ctx ctx;
  ctx.c = seccomp_init(def);
  if (!ctx.c) throw Error("seccomp: seccomp_init failed (default action " + profile.default_action + ")");
  // The program is exported and loaded by hand: libseccomp's own no_new_privs handling is off.
  seccomp_attr_set(ctx.c, SCMP_FLTATR_CTL_NNP, 0);
  // A binary tree over the syscall numbers instead of a linear list: Docker's profile becomes
  // 1,223 instructions instead of 980, but the kernel evaluates O(log n) of them per call, and
  // seccomp(2) itself, which emulates the filter for every syscall number to build its bitmap
  // of always-allowed calls, takes ~0.26 ms instead of ~0.65 ms (bench/limits_bench.cpp).
  seccomp_attr_set(ctx.c, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (const auto& a : profile.architectures) {
    int rc = seccomp_arch_add(ctx.c, arch_of(a));
    if (rc != 0 && rc != -EEXIST) throw sys_error("seccomp: add architecture " + a, -rc);
  }
  for (const auto& call : profile.syscalls) {
    const uint32_t act = action_of(call.action, call.errno_ret);
    if (act == def) continue;
    std::vector<scmp_arg_cmp> conds;
    bool same_arg = false;
    unsigned counts[6] = {0, 0, 0, 0, 0, 0};
    for (const auto& a : call.args) {
      if (a.index > 5) throw Error("seccomp: argument index " + std::to_string(a.index) + " (at most 5)");
      if (++counts[a.index] > 1) same_arg = true;
      conds.push_back(scmp_arg_cmp{a.index, op_of(a.op), a.value, a.value_two});
    }
    for (const auto& name : call.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown here: another architecture's or a newer kernel's
      int rc;
      if (conds.empty() || !same_arg) {
        rc = seccomp_rule_add_array(ctx.c, act, nr, static_cast<unsigned>(conds.size()), conds.data());
      } else {
        rc = 0;
        for (const auto& c : conds) {
          rc = seccomp_rule_add_array(ctx.c, act, nr, 1, &c);
          if (rc != 0) break;
        }
      }
      if (rc != 0) throw sys_error("seccomp: rule for " + name + " (" + call.action + ")", -rc);
    }
  }
  int fd = static_cast<int>(::syscall(SYS_memfd_create, "minirun-seccomp", MFD_CLOEXEC));
  if (fd < 0) throw sys_error("seccomp: memfd_create");
  int rc = seccomp_export_bpf(ctx.c, fd);
  if (rc != 0) {
    ::close(fd);
    throw sys_error("seccomp: export", -rc);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_size % sizeof(struct sock_filter) != 0) {
    ::close(fd);
    throw Error("seccomp: exported program has a bad size");
  }
  SeccompProgram prog;
  prog.insns.resize(static_cast<size_t>(st.st_size) / sizeof(struct sock_filter));
  ssize_t n = ::pread(fd, prog.insns.data(), static_cast<size_t>(st.st_size), 0);
  ::close(fd);
  if (n != st.st_size) throw Error("seccomp: reading the exported program failed");
  if (prog.insns.size() > BPF_MAXINSNS)
    throw Error("seccomp: the profile compiles to " + std::to_string(prog.insns.size()) +
                " instructions, more than the kernel's " + std::to_string(BPF_MAXINSNS));
  for (const auto& f : profile.flags) prog.flags |= flag_of(f);
  return prog;
}

namespace {

std::string versioned(const std::string& key) {
  const scmp_version* v = seccomp_version();
  return "minirun-seccomp-2;libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->micro) + ";" + key;
}

// FNV-1a, 64 bits: names the cache file. The file holds the whole key and is used only when it
// matches exactly, so a collision costs a compile, never a wrong program.
std::string fnv_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::string seccomp_cache_key(const Seccomp& profile) { return fnv_hex(versioned(canonical(profile))); }

SeccompProgram compile_seccomp_cached(const Seccomp& profile, const std::string& cache_dir) {
  return seccomp_program_cached(canonical(profile), [&] { return profile; }, cache_dir);
}

SeccompProgram seccomp_program_cached(const std::string& key_text, const std::function<Seccomp()>& make,
                                      const std::string& cache_dir) {
  static std::mutex mu;
  static std::map<std::string, SeccompProgram> memo;
  const std::string key = versioned(key_text);
  {
    std::lock_guard<std::mutex> l(mu);
    auto it = memo.find(key);
    if (it != memo.end()) return it->second;
  }
  SeccompProgram prog;
  bool have = false;
  // File: "MRSC", u32 key length, u32 flags, u32 count, the key, then the instructions.
  const std::string file = cache_dir.empty() ? "" : cache_dir + "/" + fnv_hex(key) + ".bpf";
  if (!file.empty()) {
    if (auto data = read_file_if_exists(file, 4 << 20)) {
      uint32_t klen = 0, flags = 0, count = 0;
      if (data->size() >= 16 && data->compare(0, 4, "MRSC") == 0) {
        std::memcpy(&klen, data->data() + 4, 4);
        std::memcpy(&flags, data->data() + 8, 4);
        std::memcpy(&count, data->data() + 12, 4);
        if (klen == key.size() && count > 0 && count <= BPF_MAXINSNS &&
            data->size() == 16 + klen + count * sizeof(struct sock_filter) && data->compare(16, klen, key) == 0) {
          prog.flags = flags;
          prog.insns.resize(count);
          std::memcpy(prog.insns.data(), data->data() + 16 + klen, count * sizeof(struct sock_filter));
          have = true;
        }
      }
    }
  }
  if (!have) {
    prog = compile_seccomp(make());
    if (!file.empty()) {
      std::string data = "MRSC";
      uint32_t klen = static_cast<uint32_t>(key.size()), flags = prog.flags,
               count = static_cast<uint32_t>(prog.insns.size());
      data.append(reinterpret_cast<const char*>(&klen), 4);
      data.append(reinterpret_cast<const char*>(&flags), 4);
      data.append(reinterpret_cast<const char*>(&count), 4);
      data += key;
      data.append(reinterpret_cast<const char*>(prog.insns.data()), count * sizeof(struct sock_filter));
      try {
        ::mkdir(cache_dir.c_str(), 0700);
        write_file_atomic(file, data, 0600);
      } catch (const Error&) {
        // A cache that cannot be written only costs the next run a compile.
      }
    }
  }
  std::lock_guard<std::mutex> l(mu);
  memo.emplace(key, prog);
  return prog;
}

int install_seccomp(const SeccompProgram& prog, bool set_no_new_privs) noexcept {
  if (set_no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  if (prog.insns.empty()) return 0;
  struct sock_fprog fp;
  fp.len = static_cast<unsigned short>(prog.insns.size());
  fp.filter = const_cast<struct sock_filter*>(prog.insns.data());
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, prog.flags, &fp) != 0) return errno;
  return 0;
}

}  // namespace minirun::runtime

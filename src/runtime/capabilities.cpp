// capabilities.cpp — names ⇄ numbers, and the capset/prctl sequence that leaves a process with
// exactly the five sets of its spec.
#include "minirun/runtime/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "minirun/util/error.h"

namespace minirun::runtime {

namespace {

constexpr const char* kNames[] = {
    "CHOWN",       "DAC_OVERRIDE",    "DAC_READ_SEARCH", "FOWNER",         "FSETID",      "KILL",
    "SETGID",      "SETUID",          "SETPCAP",         "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
    "NET_ADMIN",   "NET_RAW",         "IPC_LOCK",        "IPC_OWNER",      "SYS_MODULE",  "SYS_RAWIO",
    "SYS_CHROOT",  "SYS_PTRACE",      "SYS_PACCT",       "SYS_ADMIN",      "SYS_BOOT",    "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME",       "SYS_TTY_CONFIG",  "MKNOD",          "LEASE",       "AUDIT_WRITE",
    "AUDIT_CONTROL", "SETFCAP",       "MAC_OVERRIDE",    "MAC_ADMIN",      "SYSLOG",      "WAKE_ALARM",
    "BLOCK_SUSPEND", "AUDIT_READ",    "PERFMON",         "BPF",            "CHECKPOINT_RESTORE"};
constexpr int kKnown = static_cast<int>(sizeof kNames / sizeof kNames[0]);

uint64_t mask_of(const std::vector<std::string>& names, const char* set) {
  uint64_t m = 0;
  for (const auto& n : names) {
    int c = capability_number(n);
    if (c < 0) throw Error(std::string("unknown capability \"") + n + "\" in process.capabilities." + set);
    if (c <= last_capability()) m |= 1ull << c;  // a capability this kernel lacks is left out, as runc does
  }
  return m;
}

}  // namespace

int capability_number(const std::string& name) {
  std::string n;
  for (char ch : name) n += static_cast<char>(toupper(static_cast<unsigned char>(ch)));
  if (n.rfind("CAP_", 0) == 0) n = n.substr(4);
  for (int i = 0; i < kKnown; i++)
    if (n == kNames[i]) return i;
  return -1;
}

std::string capability_name(int number) {
  if (number >= 0 && number < kKnown) return std::string("CAP_") + kNames[number];
  return "CAP_" + std::to_string(number);
}

int last_capability() {
  static int last = [] {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int v = 40;
    in >> v;
    return v < kKnown ? v : kKnown - 1;
  }();
  return last;
}

std::vector<std::string> all_capability_names() {
  std::vector<std::string> out;
  for (int c = 0; c <= last_capability(); c++) out.push_back(capability_name(c));
  return out;
}

CapabilitySets capability_sets(const std::optional<Capabilities>& caps) {
  CapabilitySets s;
  if (!caps) return s;
  s.bounding = mask_of(caps->bounding, "bounding");
  s.effective = mask_of(caps->effective, "effective");
  s.inheritable = mask_of(caps->inheritable, "inheritable");
  s.permitted = mask_of(caps->permitted, "permitted");
  s.ambient = mask_of(caps->ambient, "ambient");
  return s;
}

int drop_bounding(const CapabilitySets& sets, uint64_t never, const char** what) {
  uint64_t keep = sets.bounding & ~never;
  for (int c = 0; c <= last_capability(); c++)
    if (!(keep & (1ull << c)) && ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) {
      *what = "drop a capability from the bounding set";
      return errno;
    }
  // Keep the permitted set across the switch to a non-root uid; apply_capabilities sets it.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    *what = "keep capabilities";
    return errno;
  }
  return 0;
}

int apply_capabilities(const CapabilitySets& sets, uint64_t never, const char** what) {
  // Never more than the process itself holds (a restricted host: --privileged takes what there is).
  struct __user_cap_header_struct hh = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct have[2] = {};
  uint64_t held = ~0ull;
  if (syscall(SYS_capget, &hh, have) == 0) held = (static_cast<uint64_t>(have[1].permitted) << 32) | have[0].permitted;
  uint64_t perm = sets.permitted & held & ~never, eff = sets.effective & perm, inh = sets.inheritable & ~never;
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2] = {};
  d[0].effective = static_cast<uint32_t>(eff);
  d[1].effective = static_cast<uint32_t>(eff >> 32);
  d[0].permitted = static_cast<uint32_t>(perm);
  d[1].permitted = static_cast<uint32_t>(perm >> 32);
  d[0].inheritable = static_cast<uint32_t>(inh);
  d[1].inheritable = static_cast<uint32_t>(inh >> 32);
  if (syscall(SYS_capset, &h, d) != 0) {
    // The inheritable set may not exceed the bounding set: try once more without the extra.
    d[0].inheritable &= static_cast<uint32_t>(perm);
    d[1].inheritable &= static_cast<uint32_t>(perm >> 32);
    if (syscall(SYS_capset, &h, d) != 0) {
      *what = "capset";
      return errno;
    }
  }
  ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int c = 0; c <= last_capability(); c++)
    if ((sets.ambient & ~never & (1ull << c)) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0 &&
        errno != EPERM) {
      *what = "raise an ambient capability";
      return errno;
    }
  return 0;
}

}  // namespace minirun::runtime

// resource_flags.cpp — Docker's resource flags (the device and ulimit flags are device_flags.cpp
// and ulimit_flags.cpp), with the checks and the wording of the docker CLI (opts) and of dockerd
// (daemon_unix.go's verifyPlatformContainerResources and adaptContainerSettings).
#include "minirun/engine/resource_flags.h"

#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "minirun/util/error.h"
#include "minirun/util/go_int.h"
#include "minirun/util/fsutil.h"

namespace minirun {

namespace {

constexpr int64_t kMinMemory = 6 * 1024 * 1024;  // dockerd's linuxMinMemory ("6MB")

Error flag_error(const std::string& value, const std::string& flag, const std::string& msg) {
  return Error("invalid argument \"" + value + "\" for \"" + flag + "\" flag: " + msg);
}

bool parse_i64(const std::string& s, int64_t& out) {
  auto v = parse_go_int(s);
  if (v) out = *v;
  return v.has_value();
}

int64_t int_flag(const std::string& value, const std::string& flag) {
  int64_t v;
  if (!parse_i64(value, v)) throw flag_error(value, flag, "strconv.ParseInt: parsing \"" + value + "\": invalid syntax");
  return v;
}

// "0-3,5" → {0,1,2,3,5}; false on bad syntax.
bool parse_uint_list(const std::string& s, std::set<unsigned>& out) {
  if (s.empty()) return false;
  size_t i = 0;
  while (i <= s.size()) {
    size_t comma = s.find(',', i);
    std::string part = s.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    if (part.empty()) return false;
    size_t dash = part.find('-');
    auto num = [](const std::string& t, unsigned& v) {
      if (t.empty() || t.size() > 6) return false;
      for (char c : t)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      v = static_cast<unsigned>(std::stoul(t));
      return true;
    };
    unsigned a, b;
    if (dash == std::string::npos) {
      if (!num(part, a)) return false;
      out.insert(a);
    } else {
      if (!num(part.substr(0, dash), a) || !num(part.substr(dash + 1), b) || b < a) return false;
      for (unsigned x = a; x <= b; x++) out.insert(x);
    }
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  return true;
}

unsigned online_cpus() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

std::string available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return "0-" + std::to_string(online_cpus() - 1);
  std::string out;
  for (int i = 0; i < CPU_SETSIZE; i++) {
    if (!CPU_ISSET(i, &set)) continue;
    int j = i;
    while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &set)) j++;
    out += (out.empty() ? "" : ",") + std::to_string(i) + (j > i ? "-" + std::to_string(j) : "");
    i = j;
  }
  return out;
}

std::string available_mems() {
  auto s = read_file_if_exists("/sys/devices/system/node/online", 4096);
  std::string v = s ? *s : "0";
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  return v.empty() ? "0" : v;
}

}  // namespace

int64_t parse_ram_in_bytes(const std::string& s) {
  // ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$
  size_t i = 0;
  auto digits = [&] {
    size_t st = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) i++;
    return i > st;
  };
  const Error bad("invalid size: '" + s + "'");
  if (!digits()) throw bad;
  while (i < s.size() && s[i] == '.') {
    i++;
    if (!digits()) throw bad;
  }
  const std::string number = s.substr(0, i);
  if (i < s.size() && s[i] == ' ') i++;
  int64_t mul = 1;
  if (i < s.size()) {
    switch (std::tolower(static_cast<unsigned char>(s[i]))) {
      case 'k': mul = 1LL << 10; i++; break;
      case 'm': mul = 1LL << 20; i++; break;
      case 'g': mul = 1LL << 30; i++; break;
      case 't': mul = 1LL << 40; i++; break;
      case 'p': mul = 1LL << 50; i++; break;
      default: break;
    }
  }
  if (i < s.size() && (s[i] == 'i' || s[i] == 'I')) i++;
  if (i < s.size() && (s[i] == 'b' || s[i] == 'B')) i++;
  if (i != s.size()) throw bad;
  double v = std::strtod(number.c_str(), nullptr) * static_cast<double>(mul);
  if (!(v < 9.2e18)) throw bad;
  return static_cast<int64_t>(v);
}

int64_t parse_nano_cpus(const std::string& s) {
  // A decimal (big.Rat accepts "1.5", "0.25", "2", "1/2"); more than 9 decimals is "too precise".
  const Error bad("failed to parse " + s + " as a rational number");
  if (s.empty()) throw bad;
  size_t slash = s.find('/');
  if (slash != std::string::npos) {
    int64_t a, b;
    if (!parse_i64(s.substr(0, slash), a) || !parse_i64(s.substr(slash + 1), b) || b == 0) throw bad;
    if ((a * 1000000000LL) % b != 0) throw Error("value is too precise");
    return a * 1000000000LL / b;
  }
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') neg = s[0] == '-', i = 1;
  int64_t whole = 0, frac = 0;
  int frac_digits = 0;
  bool any = false;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); i++, any = true) {
    whole = whole * 10 + (s[i] - '0');
    if (whole > 1000000000LL) throw bad;
  }
  if (i < s.size() && s[i] == '.') {
    for (i++; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); i++, any = true) {
      if (frac_digits == 9) {
        if (s[i] != '0') throw Error("value is too precise");
        continue;
      }
      frac = frac * 10 + (s[i] - '0');
      frac_digits++;
    }
  }
  if (!any || i != s.size()) throw bad;
  while (frac_digits < 9) frac *= 10, frac_digits++;
  int64_t nano = whole * 1000000000LL + frac;
  return neg ? -nano : nano;
}

runtime::ThrottleDevice parse_throttle_device(const std::string& s, bool iops) {
  size_t colon = s.find(':');
  if (colon == std::string::npos) throw Error("bad format: " + s);
  const std::string path = s.substr(0, colon), rate_s = s.substr(colon + 1);
  if (path.rfind("/dev/", 0) != 0) throw Error("bad format for device path: " + s);
  uint64_t rate;
  if (iops) {
    int64_t v;
    if (!parse_i64(rate_s, v) || v < 0)
      throw Error("invalid rate for device: " + s +
                  ". The correct format is <device-path>:<number>. Number must be a positive integer");
    rate = static_cast<uint64_t>(v);
  } else {
    int64_t v;
    try {
      v = parse_ram_in_bytes(rate_s);
    } catch (const Error&) {
      v = -1;
    }
    if (v < 0)
      throw Error("invalid rate for device: " + s +
                  ". The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit "
                  "is optional and can be kb, mb, or gb");
    rate = static_cast<uint64_t>(v);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw sys_error("stat " + path);
  if (!S_ISBLK(st.st_mode)) throw Error(path + ": not a block device");
  runtime::ThrottleDevice t;
  t.major = major(st.st_rdev);
  t.minor = minor(st.st_rdev);
  t.rate = rate;
  return t;
}

ResourceSettings resources_from_flags(const ResourceFlags& f, const HostInfo& host_in) {
  ResourceSettings out;
  runtime::Resources& r = out.resources;
  HostInfo host = host_in;
  if (host.online_cpus == 0) host.online_cpus = online_cpus();
  if (host.cpuset_available.empty()) host.cpuset_available = available_cpus();

  // Memory.
  int64_t memory = 0, swap = 0, reservation = 0;
  auto ram = [](const std::string& v, const std::string& flag) {
    try {
      return parse_ram_in_bytes(v);
    } catch (const Error& e) {
      throw flag_error(v, flag, e.what());
    }
  };
  if (f.memory) memory = ram(*f.memory, "-m, --memory");
  if (f.memory_swap) swap = *f.memory_swap == "-1" ? -1 : ram(*f.memory_swap, "--memory-swap");
  if (f.memory_reservation) reservation = ram(*f.memory_reservation, "--memory-reservation");
  if (memory != 0 && memory < kMinMemory) throw Error("Minimum memory limit allowed is 6MB");
  if (swap != 0 && memory == 0) throw Error("You should always set the Memory limit when using Memoryswap limit, see usage");
  if (swap > 0 && swap < memory) throw Error("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (reservation != 0 && reservation < kMinMemory) throw Error("Minimum memory reservation allowed is 6MB");
  if (memory > 0 && reservation > 0 && memory < reservation)
    throw Error("Minimum memory limit can not be less than memory reservation limit, see usage");
  if (memory > 0 && swap == 0) swap = host.swap_accounting ? memory * 2 : 0;
  if (swap != 0 && !host.swap_accounting) {
    out.warnings.push_back(
        "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.");
    swap = 0;
  }
  if (f.oom_kill_disable && memory == 0)
    out.warnings.push_back("Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.");
  if (memory || swap || reservation || f.oom_kill_disable) {
    runtime::MemoryResources m;
    if (memory) m.limit = memory;
    if (swap) m.swap = swap;
    if (reservation) m.reservation = reservation;
    if (f.oom_kill_disable) m.disable_oom_killer = true;
    r.memory = m;
  }

  // CPU.
  runtime::CpuResources cpu;
  bool any_cpu = false;
  int64_t nano = 0, period = 0, quota = 0;
  if (f.cpus) {
    try {
      nano = parse_nano_cpus(*f.cpus);
    } catch (const Error& e) {
      throw flag_error(*f.cpus, "--cpus", e.what());
    }
  }
  if (f.cpu_period) period = int_flag(*f.cpu_period, "--cpu-period");
  if (f.cpu_quota) quota = int_flag(*f.cpu_quota, "--cpu-quota");
  if (nano > 0 && period > 0) throw Error("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (nano > 0 && quota > 0) throw Error("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (nano < 0 || nano > static_cast<int64_t>(host.online_cpus) * 1000000000LL)
    throw Error("Range of CPUs is from 0.01 to " + std::to_string(host.online_cpus) + ".00, as there are only " +
                std::to_string(host.online_cpus) + " CPUs available");
  if (period != 0 && (period < 1000 || period > 1000000))
    throw Error("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  if (quota > 0 && quota < 1000) throw Error("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  if (nano > 0) {
    cpu.period = 100000;
    cpu.quota = nano * 100000 / 1000000000LL;
    if (*cpu.quota < 1000) cpu.quota = 1000;  // runc's minimum
    any_cpu = true;
  }
  if (period > 0) cpu.period = static_cast<uint64_t>(period), any_cpu = true;
  if (quota != 0) cpu.quota = quota, any_cpu = true;
  if (f.cpu_shares) {
    int64_t shares = int_flag(*f.cpu_shares, "-c, --cpu-shares");
    if (shares < 0) throw Error("shares: invalid argument");
    if (shares > 0) {
      cpu.shares = static_cast<uint64_t>(std::clamp<int64_t>(shares, 2, 262144));
      any_cpu = true;
    }
  }
  if (f.cpuset_cpus && !f.cpuset_cpus->empty()) {
    std::set<unsigned> want, have;
    if (!parse_uint_list(*f.cpuset_cpus, want)) throw Error("Invalid value " + *f.cpuset_cpus + " for cpuset cpus");
    parse_uint_list(host.cpuset_available, have);
    for (unsigned c : want)
      if (!have.count(c))
        throw Error("Requested CPUs are not available - requested " + *f.cpuset_cpus + ", available: " +
                    host.cpuset_available);
    cpu.cpus = *f.cpuset_cpus;
    any_cpu = true;
  }
  if (f.cpuset_mems && !f.cpuset_mems->empty()) {
    std::set<unsigned> want, have;
    if (!parse_uint_list(*f.cpuset_mems, want)) throw Error("Invalid value " + *f.cpuset_mems + " for cpuset mems");
    const std::string avail = available_mems();
    parse_uint_list(avail, have);
    for (unsigned c : want)
      if (!have.count(c))
        throw Error("Requested memory nodes are not available - requested " + *f.cpuset_mems + ", available: " + avail);
    cpu.mems = *f.cpuset_mems;
    any_cpu = true;
  }
  if (any_cpu) r.cpu = cpu;

  // Process count.
  if (f.pids_limit) {
    int64_t p = int_flag(*f.pids_limit, "--pids-limit");
    if (p > 0) r.pids_limit = p;
    else if (p < 0) r.pids_limit = -1;  // explicit "unlimited"
  }

  // Block I/O.
  runtime::BlockIoResources bio;
  bool any_bio = false;
  if (f.blkio_weight) {
    int64_t w = int_flag(*f.blkio_weight, "--blkio-weight");
    if (w != 0 && (w < 10 || w > 1000)) throw Error("Range of blkio weight is from 10 to 1000");
    if (w) bio.weight = static_cast<uint16_t>(w), any_bio = true;
  }
  for (const auto& s : f.device_read_bps) bio.throttle_read_bps_device.push_back(parse_throttle_device(s, false)), any_bio = true;
  for (const auto& s : f.device_write_bps) bio.throttle_write_bps_device.push_back(parse_throttle_device(s, false)), any_bio = true;
  for (const auto& s : f.device_read_iops) bio.throttle_read_iops_device.push_back(parse_throttle_device(s, true)), any_bio = true;
  for (const auto& s : f.device_write_iops) bio.throttle_write_iops_device.push_back(parse_throttle_device(s, true)), any_bio = true;
  if (any_bio) r.block_io = bio;

  // Devices.
  if (f.privileged) {
    runtime::DeviceRule all;  // every device, as --privileged
    all.allow = true;
    all.type = "a";
    all.access = "rwm";
    r.devices = {all};
  } else {
    r.devices = docker_default_device_rules();
  }
  for (const auto& d : f.devices) {
    auto [dev, rl] = device_from_mapping(parse_device_flag(d));
    out.devices.push_back(dev);
    if (!f.privileged) r.devices.push_back(rl);
  }
  for (const auto& s : f.device_cgroup_rules) {
    auto rl = parse_device_cgroup_rule(s);
    if (!f.privileged) r.devices.push_back(rl);
  }

  // Rlimits: Docker's defaults, each replaced by a --ulimit of the same name.
  out.rlimits = docker_default_rlimits();
  for (const auto& u : f.ulimits) {
    auto rl = parse_ulimit(u);
    bool replaced = false;
    for (auto& have : out.rlimits)
      if (have.type == rl.type) have = rl, replaced = true;
    if (!replaced) out.rlimits.push_back(rl);
  }
  return out;
}

}  // namespace minirun

// cgroup_v1.cpp — the cgroup v1 driver: one directory per mounted controller hierarchy.
//
// Order matters in a few places, as in runc: memory and memory+swap limits are written in the
// order the kernel accepts (memsw must never be below the memory limit), the CFS period before
// the quota, and a new cpuset group must get its parent's cpus and mems before a task can join.
// Files of a controller the kernel lacks are skipped where Docker only warns (swap accounting,
// blkio weight without CFQ/BFQ); a value the kernel refuses is an error.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <sstream>
#include <thread>

#include "cgroup_files.h"
#include "minirun/util/error.h"

namespace minirun::runtime::cg::v1 {

namespace {

std::string cdir(const CgroupHierarchy& h, const std::string& ctrl, const std::string& rel) {
  auto it = h.v1.find(ctrl);
  return it == h.v1.end() ? "" : it->second + "/" + rel;
}

std::string i64(int64_t v) { return std::to_string(v); }

void set_memory(const std::string& d, const MemoryResources& m) {
  std::optional<int64_t> limit = m.limit, swap = m.swap;
  if (limit && *limit == -1 && !swap) swap = -1;
  const bool has_memsw = (limit || swap) && [&] {
    int fd = open_in(d, "memory.memsw.limit_in_bytes", O_RDONLY);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
  }();
  auto set_limit = [&] {
    if (limit) write(d, "memory.limit_in_bytes", i64(*limit));
  };
  auto set_swap = [&] {
    if (swap && has_memsw) write(d, "memory.memsw.limit_in_bytes", i64(*swap));
  };
  if (limit && swap && has_memsw) {
    auto cur = read_u64(d, "memory.limit_in_bytes");  // nullopt: unlimited
    if (*swap == -1 || (cur && *cur < static_cast<uint64_t>(*swap))) {
      set_swap();
      set_limit();
    } else {
      set_limit();
      set_swap();
    }
  } else {
    set_limit();
    set_swap();
  }
  if (m.reservation) write(d, "memory.soft_limit_in_bytes", i64(*m.reservation));
  if (m.disable_oom_killer) write(d, "memory.oom_control", *m.disable_oom_killer ? "1" : "0");
  if (m.swappiness && *m.swappiness <= 100) write_if_exists(d, "memory.swappiness", std::to_string(*m.swappiness));
  if (m.kernel_tcp) write_if_exists(d, "memory.kmem.tcp.limit_in_bytes", i64(*m.kernel_tcp));
}

std::string devnum(int64_t major, int64_t minor) { return std::to_string(major) + ":" + std::to_string(minor); }

}  // namespace

std::vector<std::string> dirs(const CgroupHierarchy& h, const std::string& rel) {
  std::vector<std::string> mounts;
  for (const auto& [ctrl, mnt] : h.v1)
    if (std::find(mounts.begin(), mounts.end(), mnt) == mounts.end()) mounts.push_back(mnt);
  std::vector<std::string> out;
  for (const auto& m : mounts) out.push_back(m + "/" + rel);
  return out;
}

std::vector<std::string> create(const CgroupHierarchy& h, const std::string& rel) {
  std::vector<std::string> created;
  const auto parts = split_path(rel);
  const std::string cpuset_mnt = h.v1.count("cpuset") ? h.v1.at("cpuset") : "";
  // A new cpuset group starts with no cpus and no mems (no task could join it) unless its
  // parent has cgroup.clone_children set: then it gets the parent's. Parents made here get the
  // flag, so that usually the two reads find both set.
  auto init_cpuset = [](const std::string& parent, const std::string& d) {
    for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
      auto cur = read(d, f);
      if (cur && (cur->empty() || *cur == "\n")) {
        auto pv = read(parent, f);
        if (pv && !pv->empty() && *pv != "\n") write(d, f, *pv);
      }
    }
  };
  try {
    std::vector<std::string> mounts;
    for (const auto& [ctrl, mnt] : h.v1)
      if (std::find(mounts.begin(), mounts.end(), mnt) == mounts.end()) mounts.push_back(mnt);
    for (const auto& m : mounts) {
      // The usual case: the parents exist and only the container's own directory is new.
      std::string parent = m;
      for (size_t i = 0; i + 1 < parts.size(); i++) parent += "/" + parts[i];
      const std::string leaf = parent + "/" + parts.back();
      int pfd = dir_fd(parent);
      if (pfd >= 0 && ::mkdirat(pfd, parts.back().c_str(), 0755) == 0) {
        created.push_back(leaf);
        if (m == cpuset_mnt) init_cpuset(parent, leaf);
        continue;
      }
      if (pfd >= 0 && errno != EEXIST) throw sys_error(leaf + ": mkdir");
      if (pfd >= 0) {  // reused (a container started again)
        if (m == cpuset_mnt) init_cpuset(parent, leaf);
        continue;
      }
      std::string d = m;
      for (const auto& p : parts) {
        std::string up = d;
        d += "/" + p;
        if (::mkdir(d.c_str(), 0755) == 0) {
          created.push_back(d);
          if (m == cpuset_mnt && d != leaf) write_if_exists(d, "cgroup.clone_children", "1");
        } else if (errno != EEXIST) {
          throw sys_error(d + ": mkdir");
        }
        if (m == cpuset_mnt) init_cpuset(up, d);
      }
    }
  } catch (...) {
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
      forget_dir(*it);
      ::rmdir(it->c_str());
    }
    throw;
  }
  return created;
}

void apply(const CgroupHierarchy& h, const std::string& rel, const Resources& res) {
  if (!res.unified.empty()) throw Error("linux.resources.unified needs cgroup v2; this host uses cgroup v1");
  if (res.memory) {
    std::string d = cdir(h, "memory", rel);
    if (d.empty()) throw Error("memory limits: the memory controller is not mounted");
    set_memory(d, *res.memory);
  }
  if (res.cpu) {
    const auto& c = *res.cpu;
    std::string d = cdir(h, "cpu", rel);
    if ((c.shares || c.period || c.quota || c.realtime_runtime || c.realtime_period || c.idle) && d.empty())
      throw Error("cpu limits: the cpu controller is not mounted");
    if (c.shares) write(d, "cpu.shares", std::to_string(*c.shares));
    if (c.period) write(d, "cpu.cfs_period_us", std::to_string(*c.period));
    if (c.quota) write(d, "cpu.cfs_quota_us", i64(*c.quota > 0 ? *c.quota : -1));
    if (c.realtime_period) write(d, "cpu.rt_period_us", std::to_string(*c.realtime_period));
    if (c.realtime_runtime) write(d, "cpu.rt_runtime_us", i64(*c.realtime_runtime));
    if (c.idle) write_if_exists(d, "cpu.idle", i64(*c.idle));
    if (!c.cpus.empty() || !c.mems.empty()) {
      std::string s = cdir(h, "cpuset", rel);
      if (s.empty()) throw Error("cpuset: the cpuset controller is not mounted");
      if (!c.cpus.empty()) write(s, "cpuset.cpus", c.cpus);
      if (!c.mems.empty()) write(s, "cpuset.mems", c.mems);
    }
  }
  if (res.pids_limit) {
    std::string d = cdir(h, "pids", rel);
    if (d.empty()) throw Error("pids limit: the pids controller is not mounted");
    write(d, "pids.max", *res.pids_limit > 0 ? i64(*res.pids_limit) : "max");
  }
  if (res.block_io) {
    const auto& b = *res.block_io;
    std::string d = cdir(h, "blkio", rel);
    if (d.empty()) throw Error("block I/O limits: the blkio controller is not mounted");
    if (b.weight && !write_if_exists(d, "blkio.weight", std::to_string(*b.weight)))
      write_if_exists(d, "blkio.bfq.weight", std::to_string(*b.weight));
    if (b.leaf_weight) write_if_exists(d, "blkio.leaf_weight", std::to_string(*b.leaf_weight));
    for (const auto& w : b.weight_device) {
      if (w.weight && !write_if_exists(d, "blkio.weight_device", devnum(w.major, w.minor) + " " + std::to_string(*w.weight)))
        write_if_exists(d, "blkio.bfq.weight_device", devnum(w.major, w.minor) + " " + std::to_string(*w.weight));
    }
    auto throttle = [&](const std::vector<ThrottleDevice>& v, const char* file) {
      for (const auto& t : v) write(d, file, devnum(t.major, t.minor) + " " + std::to_string(t.rate));
    };
    throttle(b.throttle_read_bps_device, "blkio.throttle.read_bps_device");
    throttle(b.throttle_write_bps_device, "blkio.throttle.write_bps_device");
    throttle(b.throttle_read_iops_device, "blkio.throttle.read_iops_device");
    throttle(b.throttle_write_iops_device, "blkio.throttle.write_iops_device");
  }
  for (const auto& hp : res.hugepage_limits) {
    std::string d = cdir(h, "hugetlb", rel);
    if (d.empty()) throw Error("hugepage limits: the hugetlb controller is not mounted");
    write(d, "hugetlb." + hp.page_size + ".limit_in_bytes", std::to_string(hp.limit));
  }
  if (res.network) {
    if (res.network->class_id) {
      std::string d = cdir(h, "net_cls", rel);
      if (!d.empty()) write(d, "net_cls.classid", std::to_string(*res.network->class_id));
    }
    std::string d = cdir(h, "net_prio", rel);
    if (!d.empty())
      for (const auto& [ifname, prio] : res.network->priorities)
        write(d, "net_prio.ifpriomap", ifname + " " + std::to_string(prio));
  }
  if (!res.devices.empty()) {
    std::string d = cdir(h, "devices", rel);
    if (d.empty()) throw Error("device rules: the devices controller is not mounted");
    // Rules in order, each on top of the previous state: the spec's list normally starts with
    // "deny all" (Docker's and runc's defaults).
    // Runs of the same file go through one open file: a rule per write(2), as the kernel reads them.
    for (size_t i = 0; i < res.devices.size();) {
      const bool allow = res.devices[i].allow;
      std::vector<std::string> rules;
      for (; i < res.devices.size() && res.devices[i].allow == allow; i++) rules.push_back(device_rule_v1(res.devices[i]));
      write_each(d, allow ? "devices.allow" : "devices.deny", rules);
    }
  }
}

CgroupStats stats(const CgroupHierarchy& h, const std::string& rel) {
  CgroupStats s;
  std::string d = cdir(h, "cpuacct", rel);
  if (!d.empty()) s.cpu_usage_ns = read_u64(d, "cpuacct.usage").value_or(0);
  d = cdir(h, "memory", rel);
  if (!d.empty()) {
    s.memory_usage = read_u64(d, "memory.usage_in_bytes").value_or(0);
    s.memory_limit = read_u64(d, "memory.limit_in_bytes");
    s.memory_cache = read_keyed(d, "memory.stat", "total_inactive_file").value_or(0);
  }
  d = cdir(h, "pids", rel);
  if (!d.empty()) {
    s.pids_current = read_u64(d, "pids.current").value_or(0);
    s.pids_limit = read_u64(d, "pids.max");
  }
  d = cdir(h, "blkio", rel);
  if (!d.empty()) {
    // "8:0 Read 4096" lines (and "Total"); the throttle file counts every I/O, whatever the
    // scheduler.
    auto txt = read(d, "blkio.throttle.io_service_bytes_recursive");
    if (!txt || txt->empty()) txt = read(d, "blkio.throttle.io_service_bytes");
    if (txt) {
      std::istringstream in(*txt);
      std::string line;
      while (std::getline(in, line)) {
        std::istringstream l(line);
        std::string dev, op;
        uint64_t v;
        if (!(l >> dev >> op >> v)) continue;
        if (op == "Read") s.blkio_read_bytes += v;
        if (op == "Write") s.blkio_write_bytes += v;
      }
    }
  }
  return s;
}

bool oom_killed(const CgroupHierarchy& h, const std::string& rel) {
  std::string d = cdir(h, "memory", rel);
  if (d.empty()) return false;
  return read_keyed(d, "memory.oom_control", "oom_kill").value_or(0) > 0;
}

void freeze(const CgroupHierarchy& h, const std::string& rel, bool frozen) {
  std::string d = cdir(h, "freezer", rel);
  if (d.empty()) throw Error("the freezer controller is not mounted");
  const std::string want = frozen ? "FROZEN" : "THAWED";
  Backoff b;
  int round = 0;
  do {
    if (round++ % 8 == 0) write(d, "freezer.state", want);  // FREEZING can stall on a task in vfork: retry
    auto st = read(d, "freezer.state");
    if (st && st->compare(0, want.size(), want) == 0) return;
  } while (b.wait());
  throw Error(d + ": freezer.state did not become " + want);
}

}  // namespace minirun::runtime::cg::v1

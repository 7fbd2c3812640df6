// cgroup_v2.cpp — the cgroup v2 driver: one directory in the unified tree.
//
// A controller's files exist in a group only when its parent lists the controller in
// cgroup.subtree_control, so create() enables every available controller along the path (each
// separately: one the kernel refuses, say cpu with a realtime task in the parent, does not block
// the others; a limit that needs it then fails with the file's name). Units follow runc's
// conversion: memory.swap.max is the swap alone (the spec's swap is memory+swap), cpu.weight
// comes from shares, io.weight from the blkio weight. Device rules become an eBPF program
// (cgroup_devices.cpp).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <sstream>
#include <thread>

#include "cgroup_files.h"
#include "minirun/util/error.h"

namespace minirun::runtime::cg::v2 {

namespace {
const char* const kControllers[] = {"cpuset", "cpu", "io", "memory", "pids", "hugetlb", "misc", "rdma"};

std::string max_or(int64_t v) { return v < 0 ? "max" : std::to_string(v); }
}  // namespace

std::string dir(const CgroupHierarchy& h, const std::string& rel) { return h.v2_root + "/" + rel; }

std::vector<std::string> create(const CgroupHierarchy& h, const std::string& rel) {
  std::vector<std::string> created;
  const auto parts = split_path(rel);
  try {
    std::string d = h.v2_root;
    for (const auto& p : parts) {
      auto avail = read(d, "cgroup.controllers");
      auto enabled = read(d, "cgroup.subtree_control");
      if (avail) {
        std::istringstream in(*avail);
        std::string c;
        while (in >> c) {
          bool wanted = false;
          for (const char* k : kControllers) wanted = wanted || c == k;
          if (!wanted || (enabled && (" " + *enabled + " ").find(" " + c + " ") != std::string::npos)) continue;
          try {
            write(d, "cgroup.subtree_control", "+" + c);
          } catch (const Error&) {
            // Left disabled; a limit that needs it fails on its file.
          }
        }
      }
      d += "/" + p;
      if (::mkdir(d.c_str(), 0755) == 0)
        created.push_back(d);
      else if (errno != EEXIST)
        throw sys_error(d + ": mkdir");
    }
  } catch (...) {
    for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
    throw;
  }
  return created;
}

void apply(const CgroupHierarchy& h, const std::string& rel, const Resources& res) {
  const std::string d = dir(h, rel);
  if (res.memory) {
    const auto& m = *res.memory;
    if (m.limit) write(d, "memory.max", max_or(*m.limit));
    if (m.reservation) write(d, "memory.low", max_or(*m.reservation));
    if (m.swap) {
      std::string v;
      if (*m.swap < 0)
        v = "max";
      else if (!m.limit || *m.limit < 0)
        throw Error("memory.swap.max: a swap limit needs a memory limit");
      else if (*m.swap < *m.limit)
        throw Error("memory.swap.max: memory+swap limit (" + std::to_string(*m.swap) + ") below the memory limit (" +
                    std::to_string(*m.limit) + ")");
      else
        v = std::to_string(*m.swap - *m.limit);
      write_if_exists(d, "memory.swap.max", v);  // absent without swap accounting: Docker warns only
    }
    // memory.oom_control has no v2 counterpart (runc ignores disable_oom_killer there too).
  }
  if (res.cpu) {
    const auto& c = *res.cpu;
    if (c.shares) write(d, "cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)));
    if (c.quota || c.period) {
      uint64_t period = c.period.value_or(100000);
      std::string quota = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
      if (!c.quota) {
        // Keep the current quota and change only the period.
        auto cur = read(d, "cpu.max");
        if (cur) quota = cur->substr(0, cur->find(' '));
      }
      write(d, "cpu.max", quota + " " + std::to_string(period));
    }
    if (c.idle) write(d, "cpu.idle", std::to_string(*c.idle));
    if (!c.cpus.empty()) write(d, "cpuset.cpus", c.cpus);
    if (!c.mems.empty()) write(d, "cpuset.mems", c.mems);
    if (c.realtime_runtime || c.realtime_period) throw Error("cpu realtime limits are not supported on cgroup v2");
  }
  if (res.pids_limit) write(d, "pids.max", *res.pids_limit > 0 ? std::to_string(*res.pids_limit) : "max");
  if (res.block_io) {
    const auto& b = *res.block_io;
    if (b.weight) {
      // io.bfq.weight takes the blkio range itself; io.weight the 1…10000 one.
      if (!write_if_exists(d, "io.bfq.weight", std::to_string(*b.weight)))
        write(d, "io.weight", std::to_string(blkio_weight_to_io_weight(*b.weight)));
    }
    for (const auto& w : b.weight_device)
      if (w.weight)
        write(d, "io.weight", std::to_string(w.major) + ":" + std::to_string(w.minor) + " " +
                                  std::to_string(blkio_weight_to_io_weight(*w.weight)));
    auto io_max = [&](const std::vector<ThrottleDevice>& v, const char* key) {
      for (const auto& t : v)
        write(d, "io.max", std::to_string(t.major) + ":" + std::to_string(t.minor) + " " + key + "=" +
                               (t.rate == 0 ? std::string("max") : std::to_string(t.rate)));
    };
    io_max(b.throttle_read_bps_device, "rbps");
    io_max(b.throttle_write_bps_device, "wbps");
    io_max(b.throttle_read_iops_device, "riops");
    io_max(b.throttle_write_iops_device, "wiops");
  }
  for (const auto& hp : res.hugepage_limits) write(d, "hugetlb." + hp.page_size + ".max", std::to_string(hp.limit));
  for (const auto& [file, value] : res.unified) {
    if (file.find('/') != std::string::npos || file.empty() || file[0] == '.')
      throw Error("linux.resources.unified: \"" + file + "\" is not a file name");
    write(d, file, value);
  }
  if (!res.devices.empty()) attach_device_filter(d, res.devices);
}

CgroupStats stats(const CgroupHierarchy& h, const std::string& rel) {
  const std::string d = dir(h, rel);
  CgroupStats s;
  s.cpu_usage_ns = read_keyed(d, "cpu.stat", "usage_usec").value_or(0) * 1000;
  s.memory_usage = read_u64(d, "memory.current").value_or(0);
  s.memory_limit = read_u64(d, "memory.max");
  s.memory_cache = read_keyed(d, "memory.stat", "inactive_file").value_or(0);
  s.pids_current = read_u64(d, "pids.current").value_or(0);
  s.pids_limit = read_u64(d, "pids.max");
  if (auto txt = read(d, "io.stat")) {
    // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
    std::istringstream in(*txt);
    std::string tok;
    while (in >> tok) {
      auto eq = tok.find('=');
      if (eq == std::string::npos) continue;
      uint64_t v = std::strtoull(tok.c_str() + eq + 1, nullptr, 10);
      if (tok.compare(0, eq, "rbytes") == 0) s.blkio_read_bytes += v;
      if (tok.compare(0, eq, "wbytes") == 0) s.blkio_write_bytes += v;
    }
  }
  return s;
}

bool oom_killed(const CgroupHierarchy& h, const std::string& rel) {
  return read_keyed(dir(h, rel), "memory.events", "oom_kill").value_or(0) > 0;
}

void freeze(const CgroupHierarchy& h, const std::string& rel, bool frozen) {
  const std::string d = dir(h, rel);
  write(d, "cgroup.freeze", frozen ? "1" : "0");
  const uint64_t want = frozen ? 1 : 0;
  Backoff b;
  do {
    auto v = read_keyed(d, "cgroup.events", "frozen");
    if (!v || *v == want) return;  // no "frozen" key: a kernel before 5.2 (no freezer at all)
  } while (b.wait());
  throw Error(d + ": cgroup.events did not report frozen " + std::to_string(want));
}

bool kill_all(const CgroupHierarchy& h, const std::string& rel) {
  try {
    return write_if_exists(dir(h, rel), "cgroup.kill", "1");
  } catch (const Error&) {
    return false;
  }
}

}  // namespace minirun::runtime::cg::v2

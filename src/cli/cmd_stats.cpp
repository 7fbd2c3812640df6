// minirun stats [--no-stream] [--format json] [CONTAINER…] — live resource use of containers,
// read from each container's cgroup (<its --cgroup-parent, default minirun>/<full id>), in docker stats'
// columns and units: CPU % over the interval between two samples, memory without the inactive
// page cache (as Docker shows it) against the limit (the host's memory when unlimited), block
// I/O, and the number of processes. Without CONTAINER: every running container.
#include <sys/sysinfo.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include <fstream>
#include <optional>
#include <sstream>
#include "cli.h"
#include "minirun/engine/container_state.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/util/error.h"

namespace minirun::cli {

namespace {

// go-units: "%.4g" with binary (MiB) or decimal (MB) steps.
std::string units(double v, bool binary) {
  static const char* bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  static const char* dec[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  const double base = binary ? 1024.0 : 1000.0;
  int i = 0;
  while (v >= base && i < 5) v /= base, i++;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", v, binary ? bin[i] : dec[i]);
  return buf;
}

struct Sample {
  bool ok = false;
  runtime::CgroupStats s;
  std::chrono::steady_clock::time_point at;
};

// The container's cgroup as it was run (under its --cgroup-parent; "" without one).
Sample sample(const std::string& path) {
  Sample out;
  out.at = std::chrono::steady_clock::now();
  if (path.empty() || !runtime::Cgroup::exists(path)) return out;
  try {
    out.s = runtime::Cgroup::open(path).stats();
    out.ok = true;
  } catch (const Error&) {
  }
  return out;
}

uint64_t host_memory() {
  struct sysinfo si;
  if (::sysinfo(&si) != 0) return 0;
  return static_cast<uint64_t>(si.totalram) * si.mem_unit;
}

// Bytes received and sent on the container's interfaces other than lo, from its network
// namespace's /proc/<pid>/net/dev (Docker's NET I/O); nothing for --network host or none.
std::optional<std::pair<uint64_t, uint64_t>> net_io(const ContainerRecord& r) {
  if (r.container_pid <= 0 || (r.status != ContainerStatus::running && r.status != ContainerStatus::paused)) return std::nullopt;
  if (r.config.network_mode == "host" || r.config.network_mode == "none") return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(r.container_pid) + "/net/dev");
  if (!in) return std::nullopt;
  std::string line;
  uint64_t rx = 0, tx = 0;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    if (name == "lo") continue;
    std::istringstream f(line.substr(colon + 1));
    uint64_t v[9] = {};
    for (auto& x : v) f >> x;  // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes
    rx += v[0];
    tx += v[8];
  }
  return std::make_pair(rx, tx);
}

struct Row {
  std::string id, name, cpu, mem_usage, mem_perc, net, block, pids;
};

Row row(const ContainerRecord& r, const Sample& a, const Sample& b) {
  Row out;
  out.id = r.id.substr(0, 12);
  out.name = r.name;
  out.net = "0B / 0B";
  if (auto io = net_io(r)) out.net = units(static_cast<double>(io->first), false) + " / " + units(static_cast<double>(io->second), false);
  if (!b.ok) {
    out.cpu = "0.00%";
    out.mem_usage = "0B / 0B";
    out.mem_perc = "0.00%";
    out.block = "0B / 0B";
    out.pids = "0";
    return out;
  }
  double wall = std::chrono::duration<double>(b.at - a.at).count();
  double cpu = 0;
  if (a.ok && wall > 0 && b.s.cpu_usage_ns >= a.s.cpu_usage_ns)
    cpu = static_cast<double>(b.s.cpu_usage_ns - a.s.cpu_usage_ns) / 1e9 / wall * 100.0;
  uint64_t used = b.s.memory_usage > b.s.memory_cache ? b.s.memory_usage - b.s.memory_cache : b.s.memory_usage;
  uint64_t limit = b.s.memory_limit ? *b.s.memory_limit : host_memory();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", cpu);
  out.cpu = buf;
  out.mem_usage = units(static_cast<double>(used), true) + " / " + units(static_cast<double>(limit), true);
  std::snprintf(buf, sizeof buf, "%.2f%%", limit ? static_cast<double>(used) * 100.0 / static_cast<double>(limit) : 0.0);
  out.mem_perc = buf;
  out.block = units(static_cast<double>(b.s.blkio_read_bytes), false) + " / " +
              units(static_cast<double>(b.s.blkio_write_bytes), false);
  out.pids = std::to_string(b.s.pids_current);
  return out;
}

}  // namespace

void register_stats(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("stats", "Display a live stream of container(s) resource usage statistics");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto no_stream = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>();
  cmd->add_option("container", *refs, "Container names or IDs (default: all running)");
  cmd->add_flag("--no-stream", *no_stream, "Disable streaming stats and only pull the first result");
  cmd->add_option("--format", *format, "json: one JSON object per line")->check(CLI::IsMember({"json", "table"}));
  cmd->footer("Example: minirun stats --no-stream web");
  cmd->callback([&g, refs, no_stream, format] {
    Store store = open_store(g);
    std::vector<std::string> ids;
    if (refs->empty()) {
      for (const auto& cid : store.container_ids())
        if (auto r = refresh_container_state(store, cid); r && r->status == ContainerStatus::running) ids.push_back(cid);
    } else {
      for (const auto& r : *refs) ids.push_back(store.resolve_container(r));
    }
    std::map<std::string, Sample> prev;
    std::map<std::string, std::string> cgroup;
    for (const auto& id : ids) {
      if (auto rec = store.container(id)) cgroup[id] = container_cgroup(*rec);
      prev[id] = sample(cgroup[id]);
    }
    const bool tty = ::isatty(STDOUT_FILENO);
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(*no_stream ? 500 : 1000));
      std::vector<std::vector<std::string>> rows = {
          {"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"}};
      if (!*no_stream && tty && *format != "json") std::cout << "\033[2J\033[H";
      for (const auto& id : ids) {
        auto rec = refresh_container_state(store, id);
        if (!rec) continue;
        Sample now = sample(cgroup[id]);
        Row r = row(*rec, prev[id], now);
        prev[id] = now;
        if (*format == "json") {
          nlohmann::json j = {{"BlockIO", r.block}, {"CPUPerc", r.cpu},   {"Container", r.id},
                              {"ID", r.id},         {"MemPerc", r.mem_perc}, {"MemUsage", r.mem_usage},
                              {"Name", r.name},     {"NetIO", r.net},     {"PIDs", r.pids}};
          std::cout << j.dump() << "\n";
        } else {
          rows.push_back({r.id, r.name, r.cpu, r.mem_usage, r.mem_perc, r.net, r.block, r.pids});
        }
      }
      if (*format != "json") print_table(rows);
      std::cout.flush();
      if (*no_stream) break;
    }
  });
}

}  // namespace minirun::cli

// minirun top CONTAINER — the container's processes (those in its pid namespace), as `ps -ef`.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli.h"
#include "minirun/engine/container_state.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::cli {

namespace {

std::string ns_of(pid_t pid) {
  char buf[64];
  ssize_t n = ::readlink(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

}  // namespace

void register_top(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("top", "Display the running processes of a container");
  auto ref = std::make_shared<std::string>();
  cmd->add_option("container", *ref, "Container name or ID")->required();
  cmd->callback([&g, ref] {
    Store store = open_store(g);
    std::string cid = store.resolve_container(*ref);
    auto rec = refresh_container_state(store, cid);
    if (!rec || (rec->status != ContainerStatus::running && rec->status != ContainerStatus::paused) || rec->container_pid <= 0)
      throw Error("Container " + cid + " is not running", 1);
    std::string want = ns_of(rec->container_pid);
    if (want.empty()) throw Error("Container " + cid + " is not running", 1);
    std::vector<std::vector<std::string>> rows = {{"UID", "PID", "PPID", "CMD"}};
    std::vector<pid_t> pids;
    if (DIR* d = ::opendir("/proc")) {
      while (auto* e = ::readdir(d))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9') pids.push_back(std::atoi(e->d_name));
      ::closedir(d);
    }
    std::sort(pids.begin(), pids.end());
    for (pid_t pid : pids) {
      if (ns_of(pid) != want) continue;
      std::string base = "/proc/" + std::to_string(pid);
      auto stat = read_file_if_exists(base + "/stat", 4096);
      auto cmdline = read_file_if_exists(base + "/cmdline", 65536);
      if (!stat || !cmdline) continue;
      // ppid: the 2nd field after the ")" that ends the command name.
      std::istringstream rest(stat->substr(stat->rfind(')') + 2));
      std::string state, ppid;
      rest >> state >> ppid;
      std::string cmdl;
      for (char c : *cmdline) cmdl += c ? c : ' ';
      while (!cmdl.empty() && cmdl.back() == ' ') cmdl.pop_back();
      struct stat st;
      std::string uid = ::stat(base.c_str(), &st) == 0 ? std::to_string(st.st_uid) : "?";
      rows.push_back({uid, std::to_string(pid), ppid, cmdl});
    }
    print_table(rows);
  });
}

}  // namespace minirun::cli

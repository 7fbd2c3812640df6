// limits_bench — what cgroups and seccomp add to a run, measured on the modules (root):
//   seccomp: parse Docker's default profile; compile it with libseccomp; a cache hit in memory
//            and from the cache file (in a fresh process); install_seccomp in a child
//   cgroups: create + apply `--memory 64m --cpus 1 --pids-limit 100` (and Docker's device rules)
//            + add a process + destroy, on the host's hierarchy
// Prints the median and the minimum of each, in microseconds. Usage: minirun_limits_bench [N]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "minirun/engine/resource_flags.h"
#include "minirun/engine/seccomp_profile.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/util/fsutil.h"

using namespace minirun;
using namespace minirun::runtime;
using Clock = std::chrono::steady_clock;

namespace {

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

void report(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("%-48s median %9.1f us   min %9.1f us   (n=%zu)\n", what, v[v.size() / 2], v.front(), v.size());
}

// Runs f in a forked child n times (one child each) and collects the microseconds it reports.
std::vector<double> in_children(int n, const std::function<double()>& f) {
  std::vector<double> out;
  for (int i = 0; i < n; i++) {
    int p[2];
    if (pipe(p) != 0) break;
    pid_t pid = fork();
    if (pid == 0) {
      double us = f();
      (void)!write(p[1], &us, sizeof us);
      _exit(0);
    }
    close(p[1]);
    double us = -1;
    if (read(p[0], &us, sizeof us) == sizeof us && us >= 0) out.push_back(us);
    close(p[0]);
    waitpid(pid, nullptr, 0);
  }
  return out;
}

}  // namespace

// A fresh process (exec'd, as `minirun run` is): one docker_default_seccomp_program call.
std::vector<double> in_fresh_processes(int n, const std::string& dir) {
  std::vector<double> out;
  for (int i = 0; i < n; i++) {
    int p[2];
    if (pipe(p) != 0) break;
    pid_t pid = fork();
    if (pid == 0) {
      dup2(p[1], 1);
      execl("/proc/self/exe", "limits_bench", "--hit", dir.c_str(), nullptr);
      _exit(127);
    }
    close(p[1]);
    char buf[64] = {};
    ssize_t r = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    waitpid(pid, nullptr, 0);
    if (r > 0) out.push_back(std::atof(buf));
  }
  return out;
}

int main(int argc, char** argv) {
  const SeccompTarget target{docker_default_capabilities(), "", std::nullopt};
  if (argc == 3 && std::string(argv[1]) == "--hit") {
    auto t0 = Clock::now();
    auto p = docker_default_seccomp_program(target, argv[2]);
    std::printf("%.1f\n", p.empty() ? -1.0 : us_since(t0));
    return 0;
  }
  const int n = argc > 1 ? std::atoi(argv[1]) : 30;

  std::vector<double> parse, compile;
  Seccomp profile;
  for (int i = 0; i < n; i++) {
    auto t0 = Clock::now();
    profile = docker_default_seccomp(target);
    parse.push_back(us_since(t0));
    t0 = Clock::now();
    auto prog = compile_seccomp(profile);
    compile.push_back(us_since(t0));
    if (i == 0) std::printf("Docker default profile: %zu rules, %zu BPF instructions\n", profile.syscalls.size(), prog.insns.size());
  }
  report("seccomp: parse+resolve Docker's default profile", parse);
  report("seccomp: compile (libseccomp, export to memfd)", compile);

  char tmpl[] = "/tmp/minirun-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  // First use writes the file; later fresh processes read it (their in-memory cache is empty).
  in_children(1, [&] { compile_seccomp_cached(profile, dir); return 0.0; });
  report("seccomp: cache hit from file (forked process)", in_children(n, [&] {
           auto t0 = Clock::now();
           auto p = compile_seccomp_cached(profile, dir);
           return p.empty() ? -1.0 : us_since(t0);
         }));
  in_fresh_processes(1, dir);  // writes the default program's file
  report("seccomp: docker_default_seccomp_program, file hit (exec'd)", in_fresh_processes(n, dir));
  report("seccomp: cache hit in memory (same process)", in_children(n, [&] {
           compile_seccomp_cached(profile, dir);
           auto t0 = Clock::now();
           auto p = compile_seccomp_cached(profile, dir);
           return p.empty() ? -1.0 : us_since(t0);
         }));
  remove_tree(dir);
  const auto prog = compile_seccomp(profile);
  report("seccomp: install_seccomp in the child", in_children(n, [&] {
           auto t0 = Clock::now();
           int rc = install_seccomp(prog, true);
           return rc ? -1.0 : us_since(t0);
         }));

  if (geteuid() != 0 || CgroupHierarchy::host().mode == CgroupHierarchy::Mode::none) {
    std::printf("cgroups: skipped (needs root and a cgroup file system)\n");
    return 0;
  }
  ResourceFlags f;
  f.memory = "64m";
  f.cpus = "1";
  f.pids_limit = "100";
  const Resources res = resources_from_flags(f).resources;
  const std::string parent = "minirun-bench-" + std::to_string(getpid());
  std::vector<double> create, add, destroy, destroy_empty, total;
  for (int i = 0; i < n; i++) {
    pid_t child = fork();
    if (child == 0) {
      pause();
      _exit(0);
    }
    const std::string path = parent + "/c" + std::to_string(i);
    auto t0 = Clock::now();
    auto cg = Cgroup::create(path, res);
    create.push_back(us_since(t0));
    auto t1 = Clock::now();
    cg.add_pid(child);
    add.push_back(us_since(t1));
    auto t2 = Clock::now();
    cg.destroy();
    destroy.push_back(us_since(t2));
    total.push_back(us_since(t0));
    // The run path's case: the container has exited before its group is removed.
    auto empty = Cgroup::create(path + "e", res);
    auto t3 = Clock::now();
    empty.destroy();
    destroy_empty.push_back(us_since(t3));
    waitpid(child, nullptr, 0);
  }
  cleanup_stale_cgroups({}, parent);
  for (const auto& [c, m] : CgroupHierarchy::host().v1) rmdir((m + "/" + parent).c_str());
  if (!CgroupHierarchy::host().v2_root.empty()) rmdir((CgroupHierarchy::host().v2_root + "/" + parent).c_str());
  const char* mode = CgroupHierarchy::host().mode == CgroupHierarchy::Mode::v2 ? "v2" : "v1";
  std::printf("cgroups (%s): --memory 64m --cpus 1 --pids-limit 100 + Docker's device rules\n", mode);
  report("cgroups: create + apply", create);
  report("cgroups: add_pid", add);
  report("cgroups: destroy (kill 1 process, rmdir)", destroy);
  report("cgroups: destroy of an empty group", destroy_empty);
  report("cgroups: create + add_pid + destroy (1 process)", total);
  return 0;
}

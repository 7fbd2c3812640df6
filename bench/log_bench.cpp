// log_bench — drives the monitor's log pipeline outside a container, for bench/logs.sh:
//   log_bench write LOG CMD...      the monitor loop (run_monitor) around CMD, its output into LOG
//   log_bench idle LOG CTL          a detached monitor around `sleep 1000`; prints its pid
//   log_bench record ROOT           a container record in the store at ROOT; prints its id, so
//                                   that `minirun --root ROOT logs ID` reads Store::container_log_path
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "minirun/monitor/daemonize.h"
#include "minirun/monitor/monitor.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "monitor_start.h"  // tests/support: the StartFn and record the tests use

using namespace minirun;

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "write" && argc > 3) {
      monitor::MonitorOptions o;
      o.log_path = argv[2];
      return monitor::run_monitor(o, test::exec_start(argv[3], std::vector<std::string>(argv + 3, argv + argc)));
    }
    if (mode == "idle" && argc == 4) {
      // $BALLAST_MB: heap the starting process has touched (and still holds) when it forks the
      // monitor, as the CLI's parsed flags, image config and store records are: the forked
      // monitor's RSS counts those pages too.
      std::vector<std::string> ballast;
      if (const char* mb = std::getenv("BALLAST_MB"))
        for (int i = 0; i < std::atoi(mb) * 16; i++) ballast.emplace_back(64 * 1024, 'b');
      monitor::MonitorOptions o;
      o.log_path = argv[2];
      o.ctl_path = argv[3];
      auto d = monitor::daemonize_monitor([&](int ready) {
        o.ready_fd = ready;
        return monitor::run_monitor(o, test::exec_start("sleep", {"sleep", "1000"}));
      });
      std::printf("%d %d\n", d.monitor_pid, d.container_pid);
      return 0;
    }
    if (mode == "record" && argc == 3) {
      Store store(argv[2]);
      ContainerRecord r = test::put_exited_container(store, "logbench");
      std::printf("%s %s\n", r.id.c_str(), store.container_log_path(r.id).c_str());
      return 0;
    }
    std::fprintf(stderr, "usage: log_bench write LOG CMD... | idle LOG CTL | record ROOT\n");
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return e.exit_code();
  }
}

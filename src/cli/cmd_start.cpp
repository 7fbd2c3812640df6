// minirun start [-a] CONTAINER… — runs a stopped container's command again, on the same upper
// layer, under a new monitor (its log appended). -a: follows its output and exits with its code.
#include <unistd.h>

#include "cli.h"
#include "minirun/engine/detached.h"
#include "minirun/monitor/log_reader.h"
#include "minirun/monitor/monitor.h"
#include "minirun/util/error.h"
#include "minirun/util/timefmt.h"

namespace minirun::cli {

void register_start(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("start", "Start one or more stopped containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto attach = std::make_shared<bool>(false);
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->add_flag("-a,--attach", *attach, "Attach STDOUT/STDERR (from the log) and exit with the container's code");
  cmd->footer("Example: minirun start web");
  cmd->callback([&g, refs, attach] {
    if (!*attach) {
      g.exit_code = for_each_container(g, *refs, [](Store& s, const std::string& cid) { start_container(s, cid); });
      return;
    }
    if (refs->size() != 1) throw Error("you cannot start and attach multiple containers at once", 1);
    Store store = open_store(g);
    std::string cid = store.resolve_container(refs->front());
    int64_t from = now_unix_ns();
    start_container(store, cid);
    logs::ReadOptions ro;
    ro.follow = true;
    ro.since_ns = from;
    ro.stop_fd = monitor::watch_monitor(store.container_ctl_path(cid));
    if (ro.stop_fd >= 0) logs::read_log(store.container_log_path(cid), ro, 1, 2);
    if (ro.stop_fd >= 0) ::close(ro.stop_fd);
    g.exit_code = wait_container(store, cid);
  });
}

}  // namespace minirun::cli

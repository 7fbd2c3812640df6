// minirun logs [-f] [--tail N] [--since T] [--until T] [-t] CONTAINER — a container's log, its
// stdout entries on standard output and its stderr entries on standard error (log_reader.h).
// -f follows until the container's monitor exits; a container that is not running is read once.
#include <unistd.h>

#include "cli.h"
#include "minirun/monitor/log_reader.h"
#include "minirun/monitor/monitor.h"
#include "minirun/monitor/monitor_client.h"
#include "minirun/util/error.h"
#include "minirun/util/timefmt.h"

namespace minirun::cli {

void register_logs(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("logs", "Fetch the logs of a container");
  struct Opts {
    bool follow = false, timestamps = false;
    std::string tail = "all", since, until, container;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_flag("-f,--follow", o->follow, "Follow log output");
  cmd->add_option("-n,--tail", o->tail, "Number of lines to show from the end of the logs (default \"all\")");
  cmd->add_option("--since", o->since,
                  "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)");
  cmd->add_option("--until", o->until,
                  "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)");
  cmd->add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
  cmd->add_option("container", o->container, "Container name or ID")->required();
  cmd->footer("Example: minirun logs -f --tail 10 web");
  cmd->callback([&g, o] {
    Store store = open_store(g);
    std::string cid = store.resolve_container(o->container);
    logs::ReadOptions r;
    r.timestamps = o->timestamps;
    if (o->tail != "all" && !o->tail.empty()) {
      try {
        size_t used;
        r.tail = std::stoll(o->tail, &used);
        if (used != o->tail.size()) throw 0;
      } catch (...) {
        throw Error("invalid value for \"tail\": \"" + o->tail + "\"");
      }
      if (r.tail < 0) r.tail = -1;  // Docker: a negative count is all
    }
    int64_t now = now_unix_ns();
    try {
      if (!o->since.empty()) r.since_ns = logs::parse_log_time(o->since, now);
      if (!o->until.empty()) r.until_ns = logs::parse_log_time(o->until, now);
    } catch (const Error& e) {
      throw Error(std::string("invalid value for \"") + (!o->since.empty() && r.since_ns == 0 ? "since" : "until") +
                  "\": " + e.what());
    }
    int watch = -1;
    if (o->follow) {
      watch = monitor::watch_monitor(store.container_ctl_path(cid));
      r.follow = watch >= 0;  // not running: what is there, then done (as Docker)
      r.stop_fd = watch;
    }
    try {
      logs::read_log(store.container_log_path(cid), r, STDOUT_FILENO, STDERR_FILENO);
    } catch (...) {
      if (watch >= 0) ::close(watch);
      throw;
    }
    if (watch >= 0) ::close(watch);
  });
}

}  // namespace minirun::cli

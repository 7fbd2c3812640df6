// minirun start [-a] [-i] [--detach-keys KEYS] CONTAINER… — runs a stopped container's command
// again, on the same upper layer, under a new monitor (its log appended). -a: attached to it
// from its first byte (engine/attach.h: the monitor gets the attach connection before the
// process starts), exits with its code; -i: also its stdin (Docker's start -ai). A detach
// (ctrl-p ctrl-q) exits 0 without a word, as docker start -ai does (attach: 1).
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "minirun/engine/attach.h"
#include "minirun/engine/container_state.h"
#include "minirun/engine/detached.h"
#include "minirun/util/error.h"

namespace minirun::cli {

void register_start(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("start", "Start one or more stopped containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto attach = std::make_shared<bool>(false);
  auto interactive = std::make_shared<bool>(false);
  auto keys = std::make_shared<std::string>("ctrl-p,ctrl-q");
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->add_flag("-a,--attach", *attach, "Attach STDOUT/STDERR and exit with the container's code");
  cmd->add_flag("-i,--interactive", *interactive, "Attach container's STDIN");
  cmd->add_option("--detach-keys", *keys, "Override the key sequence for detaching a container (default ctrl-p,ctrl-q)");
  cmd->footer("Example: minirun start -ai shell");
  cmd->callback([&g, refs, attach, interactive, keys] {
    if (!*attach && !*interactive) {
      g.exit_code = for_each_container(g, *refs, [](Store& s, const std::string& cid) { start_container(s, cid); });
      return;
    }
    if (refs->size() != 1) throw Error("you cannot start and attach multiple containers at once", 1);
    AttachOptions ao;
    ao.attach_stdin = *interactive;
    ao.detach_keys = *keys;
    parse_detach_keys(ao.detach_keys);
    Store store = open_store(g);
    std::string cid = store.resolve_container(refs->front());
    auto rec = refresh_container_state(store, cid);
    AttachResult r;
    if (rec && (rec->status == ContainerStatus::running || rec->status == ContainerStatus::restarting)) {
      r = attach_container(store, cid, ao);  // already running: as docker start -a, attach
    } else {
      // Connected before the process starts: nothing it writes is missed.
      int sp[2];
      if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) throw sys_error("socketpair");
      try {
        start_container(store, cid, {sp[1]});
      } catch (...) {
        ::close(sp[0]);
        ::close(sp[1]);
        throw;
      }
      ::close(sp[1]);
      r = relay_attach(sp[0], attach_target(store, cid), ao);
      ::close(sp[0]);
      if (!r.detached && r.exit_code < 0) r.exit_code = wait_container(store, cid);
    }
    g.exit_code = r.detached ? 0 : r.exit_code;  // docker start -ai: a detach is status 0, silent
  });
}

}  // namespace minirun::cli

// minirun kill [-s SIG] CONTAINER… — a signal to the container's first process (via its monitor).
#include "cli.h"
#include "minirun/engine/detached.h"
#include "minirun/runtime/lifecycle.h"

namespace minirun::cli {

void register_kill(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("kill", "Kill one or more running containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto sig = std::make_shared<std::string>("KILL");
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->add_option("-s,--signal", *sig, "Signal to send (default KILL)");
  cmd->footer("Example: minirun kill -s HUP web");
  cmd->callback([&g, refs, sig] {
    int n = runtime::Lifecycle::signal_number(*sig);
    g.exit_code = for_each_container(g, *refs, [&](Store& s, const std::string& cid) { kill_container(s, cid, n); });
  });
}

}  // namespace minirun::cli

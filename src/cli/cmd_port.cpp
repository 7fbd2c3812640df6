// minirun port CONTAINER [PRIVATE_PORT[/PROTO]] — a container's published ports, as `docker port`:
// "80/tcp -> 0.0.0.0:8080".
#include <iostream>

#include "cli.h"
#include "minirun/engine/container_state.h"
#include "minirun/network/network.h"
#include "minirun/util/error.h"

namespace minirun::cli {

void register_port(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("port", "List port mappings or a specific mapping for the container");
  auto ref = std::make_shared<std::string>();
  auto which = std::make_shared<std::string>();
  cmd->add_option("container", *ref, "Container name or ID")->required();
  cmd->add_option("private_port", *which, "PRIVATE_PORT[/PROTO]");
  cmd->footer("Example: minirun port web 80/tcp");
  cmd->callback([&g, ref, which] {
    Store store = open_store(g);
    std::string cid = store.resolve_container(*ref);
    auto rec = refresh_container_state(store, cid);
    std::optional<network::Attachment> a;
    if (rec && rec->status == ContainerStatus::running) a = network::attachment(store, cid);
    std::string want = *which;
    if (!want.empty() && want.find('/') == std::string::npos) want += "/tcp";
    bool found = false;
    for (const auto& p : a ? a->ports : std::vector<network::PortMapping>{}) {
      std::string key = std::to_string(p.container_port) + "/" + p.proto;
      if (!want.empty() && key != want) continue;
      std::string host = (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":" + std::to_string(p.host_port);
      std::cout << (want.empty() ? key + " -> " + host : host) << "\n";
      found = true;
    }
    if (!want.empty() && !found) throw Error("No public port '" + want + "' published for " + *ref, 1);
  });
}

}  // namespace minirun::cli

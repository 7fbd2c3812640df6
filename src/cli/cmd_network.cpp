// minirun network create|ls|inspect|rm — user-defined bridge networks (network/network.h).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "minirun/network/network.h"
#include "minirun/util/error.h"

namespace minirun::cli {

namespace {

nlohmann::json inspect_json(const Store& store, const network::NetworkRecord& r) {
  nlohmann::json containers = nlohmann::json::object();
  for (const auto& a : network::network_endpoints(store, r.name)) {
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& p : a.ports) ports.push_back(network::format_port(p));
    containers[a.container_id] = {{"Name", a.container_name},
                                  {"MacAddress", a.mac},
                                  {"IPv4Address", a.ip + "/" + std::to_string(a.prefix)},
                                  {"Ports", ports}};
  }
  return {{"Name", r.name},
          {"Id", r.id},
          {"Created", r.created},
          {"Scope", "local"},
          {"Driver", "bridge"},
          {"IPAM", {{"Driver", "default"}, {"Config", {{{"Subnet", r.subnet}, {"Gateway", r.gateway}}}}}},
          {"Containers", containers},
          {"Options", {{"com.docker.network.bridge.name", r.bridge}}}};
}

}  // namespace

void register_network(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("network", "Manage networks");
  cmd->require_subcommand(1);

  auto* create = cmd->add_subcommand("create", "Create a bridge network");
  auto name = std::make_shared<std::string>();
  auto subnet = std::make_shared<std::string>();
  auto gateway = std::make_shared<std::string>();
  create->add_option("name", *name, "Network name")->required();
  create->add_option("--subnet", *subnet, "Subnet in CIDR format (default: a free private /16)");
  create->add_option("--gateway", *gateway, "IPv4 gateway (default: the subnet's first address)");
  create->add_option("-d,--driver", "Driver (bridge only)")->check(CLI::IsMember({"bridge"}));
  create->footer("Example: minirun network create --subnet 10.210.0.0/24 backend");
  create->callback([&g, name, subnet, gateway] {
    Store store = open_store(g);
    std::cout << network::create_network(store, *name, *subnet, *gateway).id << "\n";
  });

  auto* ls = cmd->add_subcommand("ls", "List networks");
  ls->alias("list");
  auto quiet = std::make_shared<bool>(false);
  ls->add_flag("-q,--quiet", *quiet, "Only display network IDs");
  ls->callback([&g, quiet] {
    Store store = open_store(g);
    std::vector<std::vector<std::string>> rows{{"NETWORK ID", "NAME", "DRIVER", "SCOPE"}};
    for (const auto& r : network::list_networks(store)) {
      if (*quiet) std::cout << r.id.substr(0, 12) << "\n";
      else rows.push_back({r.id.substr(0, 12), r.name, "bridge", "local"});
    }
    if (!*quiet) print_table(rows);
  });

  auto* inspect = cmd->add_subcommand("inspect", "Display detailed information on networks");
  auto refs = std::make_shared<std::vector<std::string>>();
  inspect->add_option("network", *refs, "Network names or IDs")->required();
  inspect->callback([&g, refs] {
    Store store = open_store(g);
    nlohmann::json out = nlohmann::json::array();
    std::string missing;
    for (const auto& ref : *refs) {
      if (auto r = network::find_network(store, ref)) out.push_back(inspect_json(store, *r));
      else missing = ref;
    }
    std::cout << out.dump(4) << "\n";
    if (!missing.empty()) throw Error("network " + missing + " not found", 1);
  });

  auto* rm = cmd->add_subcommand("rm", "Remove networks");
  rm->alias("remove");
  auto rm_refs = std::make_shared<std::vector<std::string>>();
  rm->add_option("network", *rm_refs, "Network names or IDs")->required();
  rm->callback([&g, rm_refs] {
    Store store = open_store(g);
    int code = 0;
    for (const auto& ref : *rm_refs) {
      try {
        network::remove_network(store, ref);
        std::cout << ref << "\n";
      } catch (const Error& e) {
        std::cerr << "Error: " << e.what() << "\n";
        code = 1;
      }
    }
    g.exit_code = code;
  });
}

}  // namespace minirun::cli

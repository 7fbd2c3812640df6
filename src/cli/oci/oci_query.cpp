// oci_query.cpp — state, list, ps.
#include <iostream>
#include <nlohmann/json.hpp>

#include "minirun/runtime/lifecycle.h"
#include "minirun/util/error.h"
#include "oci.h"

namespace minirun::cli::oci {

void register_query(CLI::App& app, Globals& g) {
  struct Flags {
    std::string id, format = "table";
    bool quiet = false;
  };
  auto f = std::make_shared<Flags>();
  auto* state = app.add_subcommand("state", "The container's state (runtime-spec state JSON)");
  state->add_option("id", f->id, "Container ID")->required();
  state->callback([&g, f] {
    runtime::Lifecycle lc(g.root);
    std::cout << lc.state_json(lc.state(f->id)).dump(2) << std::endl;
  });
  auto* list = app.add_subcommand("list", "List containers");
  list->alias("ls");
  list->add_option("-f,--format", f->format, "table or json")->check(CLI::IsMember({"table", "json"}));
  list->add_flag("-q,--quiet", f->quiet, "IDs only");
  list->callback([&g, f] {
    runtime::Lifecycle lc(g.root);
    auto all = lc.list();
    if (f->quiet) {
      for (const auto& s : all) std::cout << s.id << "\n";
      return;
    }
    if (f->format == "json") {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& s : all) a.push_back(lc.state_json(s));
      std::cout << a.dump() << std::endl;
      return;
    }
    printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
    for (const auto& s : all)
      printf("%-20s %-8d %-10s %-40s %s\n", s.id.c_str(), s.status == "stopped" ? 0 : s.pid, s.status.c_str(),
             s.bundle.c_str(), s.created.c_str());
  });
  auto* ps = app.add_subcommand("ps", "Processes of a container (host pids)");
  ps->add_option("-f,--format", f->format, "table or json")->check(CLI::IsMember({"table", "json"}));
  ps->add_option("id", f->id, "Container ID")->required();
  ps->allow_extras();
  ps->callback([&g, f] {
    auto pids = runtime::Lifecycle(g.root).pids(f->id);
    if (f->format == "json") {
      std::cout << nlohmann::json(pids).dump() << std::endl;
      return;
    }
    printf("PID\n");
    for (pid_t p : pids) printf("%d\n", p);
  });
}

}  // namespace minirun::cli::oci

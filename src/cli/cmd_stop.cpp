// minirun stop [-t N] CONTAINER… — the stop signal, SIGKILL after N seconds (engine/detached.h).
// Several containers are stopped at once (each waits for its own monitor), as Docker does.
#include <iostream>
#include <optional>
#include <thread>

#include "cli.h"
#include "minirun/engine/detached.h"
#include "minirun/util/error.h"

namespace minirun::cli {

void register_stop(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("stop", "Stop one or more running containers");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto t = std::make_shared<std::optional<int>>();
  cmd->add_option("container", *refs, "Container names or IDs")->required();
  cmd->add_option("-t,--time", *t, "Seconds to wait before killing it (default: its --stop-timeout, else 10)");
  cmd->footer("Example: minirun stop -t 2 web");
  cmd->callback([&g, refs, t] {
    Store store = open_store(g);
    const size_t n = refs->size();
    std::vector<std::string> errors(n);
    auto one = [&](size_t i) {
      try {
        stop_container(store, store.resolve_container((*refs)[i]), *t);
      } catch (const Error& e) {
        errors[i] = e.what();
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    };
    if (n == 1) {
      one(0);
    } else {
      std::vector<std::thread> th;
      for (size_t i = 0; i < n; i++) th.emplace_back(one, i);
      for (auto& x : th) x.join();
    }
    int code = 0;
    for (size_t i = 0; i < n; i++) {
      if (errors[i].empty()) {
        std::cout << (*refs)[i] << "\n";
      } else {
        std::cerr << "Error: " << errors[i] << "\n";
        code = 1;
      }
    }
    g.exit_code = code;
  });
}

}  // namespace minirun::cli

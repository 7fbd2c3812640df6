// oci_signal.cpp — kill, pause, resume.
#include "minirun/runtime/lifecycle.h"
#include "minirun/util/error.h"
#include "oci.h"

namespace minirun::cli::oci {

void register_signal(CLI::App& app, Globals& g) {
  struct Flags {
    std::string id, signal = "SIGTERM";
    bool all = false;
  };
  auto f = std::make_shared<Flags>();
  auto* kill = app.add_subcommand("kill", "Send a signal (number or name; default SIGTERM) to the container");
  kill->add_flag("-a,--all", f->all, "Every process of the container");
  kill->add_option("id", f->id, "Container ID")->required();
  kill->add_option("signal", f->signal, "Signal");
  kill->callback([&g, f] { runtime::Lifecycle(g.root).kill(f->id, f->signal, f->all); });
  auto* pause = app.add_subcommand("pause", "Suspend every process of the container");
  pause->add_option("id", f->id, "Container ID")->required();
  pause->callback([&g, f] { runtime::Lifecycle(g.root).pause(f->id, true); });
  auto* resume = app.add_subcommand("resume", "Resume a paused container");
  resume->add_option("id", f->id, "Container ID")->required();
  resume->callback([&g, f] { runtime::Lifecycle(g.root).pause(f->id, false); });
}

}  // namespace minirun::cli::oci

// container_network.h — what `run`'s network flags mean for one container, between the CLI and
// network/network.h: validating them before any record exists (plan_network), the network
// namespace the spec asks for (ContainerRequest::network, network_ns_path), attaching in the
// runtime's on_created, detaching after the exit, on failure and at `rm`, and the start-up
// recovery of every verb. Modes as Docker's: bridge (the default), none, host, container:NAME|ID,
// or a user-defined network's name.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "minirun/network/network.h"
#include "minirun/store/store.h"

namespace minirun {

// run's network flags as typed.
struct NetworkFlags {
  std::string network = "bridge";              // --network
  std::vector<std::string> publish;            // -p
  bool publish_all = false;                    // -P
  std::string ip, mac;                         // --ip, --mac-address
  std::vector<std::string> dns, dns_search, dns_option, add_host;
};

// The validated plan of one container's network.
struct NetworkPlan {
  std::string mode;          // bridge | none | host | container | user (a user-defined network)
  std::string network_mode;  // what ContainerRequest::network gets: "bridge", "none", "host",
                             // "container:<id>", or the user network's name
  std::string ns_path;       // container: the other container's /proc/<pid>/ns/net
  std::string peer_id;       // container: the other container's id
  network::AttachRequest attach;  // bridge | user
  bool attaches() const { return mode == "bridge" || mode == "user"; }
};

// Validates the flags (Docker's refusals: -p/--ip/--mac-address/--dns with host, none or
// container:; --ip on the default bridge; an unknown network or a container that is not
// running) and parses them. exposed: the image config's ExposedPorts keys (for -P). hostname:
// the container's host name (for /etc/hosts). Throws Error (exit code 125).
NetworkPlan plan_network(const Store& store, const NetworkFlags& flags, const std::vector<std::string>& exposed,
                         const std::string& hostname);

// For container:NAME — after write_state_files: the container's hosts and resolv.conf become
// copies of the other container's (its name resolution, as Docker shares them).
void copy_peer_files(const Store& store, const NetworkPlan& plan, const std::string& state_dir);

// One container's network across its run. on_created() in the runtime's RunOptions::on_created
// (host namespace, the process waiting before exec); exited() once the container's last process
// is gone; failed() on every failure path after on_created may have run. Each is a no-op for
// modes that attach nothing, and idempotent.
class ContainerNetwork {
 public:
  ContainerNetwork(Store& store, std::string container_id, std::string name, NetworkPlan plan)
      : store_(store), id_(std::move(container_id)), name_(std::move(name)), plan_(std::move(plan)) {}
  // Attaches the container whose process is pid (opens /proc/<pid>/ns/net). Error after undoing
  // its own work.
  void on_created(pid_t pid);
  // The namespace is released with the process: the kernel deletes the veth; the DNAT elements,
  // endpoint and lease go now. Never throws (a failure is logged; recovery retries).
  void exited() noexcept;
  // A failure anywhere: detach, deleting the veth too (idempotent, never throws).
  void failed() noexcept;
  const std::optional<network::Attachment>& attachment() const { return attachment_; }

 private:
  Store& store_;
  std::string id_, name_;
  NetworkPlan plan_;
  std::optional<network::Attachment> attachment_;
  bool attached_ = false;
};

// The plan kept in a container's record (ContainerConfig::network_plan), so that `start` and the
// monitor's restarts put the container on its network again (a new namespace each time), and
// back: hostname is the container's (its /etc/hosts names it).
ConfigNetworkPlan network_plan_config(const NetworkPlan& plan);
NetworkPlan network_plan_from_config(const ConfigNetworkPlan& recorded, const std::string& hostname);

// `rm`: takes a container off its network (veth deleted if it is still there). Never throws.
void detach_container_network(Store& store, const std::string& container_id) noexcept;

// Start-up recovery (every verb that opens the store): when any network exists, containers
// whose minirun process is alive are live, and network::recover cleans up after the others.
// One readdir when no network exists. Never throws (a warning is logged).
void recover_container_networks(Store& store) noexcept;

}  // namespace minirun

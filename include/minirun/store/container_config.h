// container_config.h — what a container was created with (ContainerRecord::config): every run
// option `run`/`create` records and `start`, `restart`, `exec`, `attach`, `stats`, `update` and
// `inspect` read back, as typed plain data (the engine converts to and from its own types). One
// writer (to_json) and one reader (from_json/parse) of its JSON, Docker's Config/HostConfig keys
// ("Cmd", "Env", "Binds", "RestartPolicy", …) plus "NetworkPlan", kept in state.json's "spec".
// The reader takes what it finds: a missing key or one of the wrong type leaves the default, an
// unknown key is ignored, so records of earlier versions still read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace minirun {

// A device node given with --device (runtime-spec's linux.devices entry).
struct ConfigDevice {
  std::string type = "c", path;
  int64_t major = 0, minor = 0;
  std::optional<uint32_t> file_mode, uid, gid;
  bool operator==(const ConfigDevice&) const = default;
};

// Docker's Healthcheck: durations in nanoseconds, 0 = unset; Test [] = inherit, ["NONE"] = none.
struct ConfigHealthcheck {
  std::vector<std::string> test;
  int64_t interval = 0, timeout = 0, start_period = 0, start_interval = 0;
  int retries = 0;
  bool operator==(const ConfigHealthcheck&) const = default;
};
// Docker's JSON of it: Test, Interval, Timeout, StartPeriod, StartInterval, Retries, in that
// order, each left out when empty or 0.
nlohmann::ordered_json healthcheck_json(const ConfigHealthcheck& c);

// Docker's HostConfig.RestartPolicy.
struct ConfigRestartPolicy {
  std::string name = "no";
  int maximum_retry_count = 0;
  bool operator==(const ConfigRestartPolicy&) const = default;
};

// Docker's HostConfig.LogConfig as minirun keeps it: the driver and its --log-opt KEY=VALUEs.
struct ConfigLog {
  std::string type = "json-file";
  std::vector<std::string> opts;
  bool operator==(const ConfigLog&) const = default;
};

// A published port (-p), as the network plan holds it.
struct ConfigPort {
  std::string host_ip;
  uint16_t host_port = 0, container_port = 0;
  std::string proto = "tcp";
  bool operator==(const ConfigPort&) const = default;
};

// The container's validated network plan (engine/container_network.h: NetworkPlan), so that
// every start puts it on its network again.
struct ConfigNetworkPlan {
  std::string mode;          // bridge | none | host | container | user
  std::string network_mode;  // "bridge", "none", "host", "container:<id>", a user network's name
  std::string ns_path, peer_id;
  std::string network = "bridge", ip, mac;
  std::vector<ConfigPort> ports;
  std::vector<std::pair<std::string, std::string>> extra_hosts;  // --add-host name, address
  std::vector<std::string> dns, dns_search, dns_options;
  bool operator==(const ConfigNetworkPlan&) const = default;
};

struct ContainerConfig {
  // Docker's Config.
  std::string hostname;  // "" in a record without one: the ID's first 12 characters
  std::string user, working_dir;
  std::string entrypoint;  // --entrypoint as given ("" when none)
  std::vector<std::string> env, cmd;
  bool tty = false, open_stdin = false, stdin_once = false;
  std::optional<ConfigHealthcheck> healthcheck;
  std::string stop_signal;            // "" → SIGTERM
  std::optional<int> stop_timeout;    // seconds; unset → 10
  // Docker's HostConfig.
  std::string network_mode = "host";  // a record without one predates networks: the host's
  std::vector<std::string> binds;     // SRC:DST[:ro|rw]
  bool readonly_rootfs = false, init = false, privileged = false, no_new_privileges = false;
  std::vector<std::string> cap_add, cap_drop, security_opt, ulimits;
  std::string cgroup_parent = "minirun";
  std::optional<std::string> cgroup;  // the container's cgroup path, "" = none (--cgroups=disabled)
  // The limits as the runtime-spec's linux.resources object (runtime/spec_json.h reads and
  // writes it); null when the container has none.
  nlohmann::json resources;
  std::vector<ConfigDevice> devices;
  std::optional<ConfigRestartPolicy> restart_policy;  // recorded at the first start
  std::optional<ConfigLog> log_config;                // recorded at the first start
  std::optional<ConfigNetworkPlan> network_plan;

  bool operator==(const ContainerConfig&) const = default;

  // The one writer: Docker's keys; the optional ones (Healthcheck, StopSignal, StopTimeout,
  // StdinOnce, Cgroup, RestartPolicy, LogConfig, NetworkPlan) only when set.
  nlohmann::json to_json() const;
  // The one reader. A non-object gives the defaults.
  static ContainerConfig from_json(const nlohmann::json& j);
  // from_json of JSON text; text that is empty or not JSON gives the defaults.
  static ContainerConfig parse(std::string_view text);
};

}  // namespace minirun

// container_config.cpp — see container_config.h. The reader goes key by key, each with the type
// the writer gives it; anything else keeps the field's default.
#include "minirun/store/container_config.h"

namespace minirun {

using json = nlohmann::json;

namespace {

void read(const json& j, const char* key, std::string& out) {
  if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
}

void read(const json& j, const char* key, bool& out) {
  if (auto it = j.find(key); it != j.end() && it->is_boolean()) out = it->get<bool>();
}

template <class Int>
void read_int(const json& j, const char* key, Int& out) {
  if (auto it = j.find(key); it != j.end() && it->is_number_integer()) out = it->get<Int>();
}

void read(const json& j, const char* key, std::vector<std::string>& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return;
  out.clear();
  for (const auto& s : *it)
    if (s.is_string()) out.push_back(s.get<std::string>());
}

// nullopt when it is not an object or its Test is not a list of strings (a check that cannot be
// read is no check).
std::optional<ConfigHealthcheck> read_healthcheck(const json& j) {
  if (!j.is_object()) return std::nullopt;
  ConfigHealthcheck c;
  if (auto it = j.find("Test"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return std::nullopt;
    for (const auto& a : *it) {
      if (!a.is_string()) return std::nullopt;
      c.test.push_back(a.get<std::string>());
    }
  }
  read_int(j, "Interval", c.interval);
  read_int(j, "Timeout", c.timeout);
  read_int(j, "StartPeriod", c.start_period);
  read_int(j, "StartInterval", c.start_interval);
  read_int(j, "Retries", c.retries);
  return c;
}

json device_json(const ConfigDevice& d) {
  json o = {{"type", d.type}, {"path", d.path}, {"major", d.major}, {"minor", d.minor}};
  if (d.file_mode) o["fileMode"] = *d.file_mode;
  if (d.uid) o["uid"] = *d.uid;
  if (d.gid) o["gid"] = *d.gid;
  return o;
}

ConfigDevice read_device(const json& o) {
  ConfigDevice d;
  read(o, "type", d.type);
  read(o, "path", d.path);
  read_int(o, "major", d.major);
  read_int(o, "minor", d.minor);
  auto opt = [&o](const char* key, std::optional<uint32_t>& out) {
    if (auto it = o.find(key); it != o.end() && it->is_number_integer() && it->get<int64_t>() >= 0)
      out = it->get<uint32_t>();
  };
  opt("fileMode", d.file_mode);
  opt("uid", d.uid);
  opt("gid", d.gid);
  return d;
}

json network_plan_json(const ConfigNetworkPlan& p) {
  json ports = json::array();
  for (const auto& m : p.ports)
    ports.push_back({{"HostIp", m.host_ip}, {"HostPort", m.host_port}, {"ContainerPort", m.container_port}, {"Proto", m.proto}});
  json hosts = json::array();
  for (const auto& [name, ip] : p.extra_hosts) hosts.push_back({name, ip});
  return {{"Mode", p.mode},       {"NetworkMode", p.network_mode}, {"NsPath", p.ns_path}, {"PeerId", p.peer_id},
          {"Network", p.network}, {"Ip", p.ip},                    {"Mac", p.mac},        {"Ports", ports},
          {"ExtraHosts", hosts},  {"Dns", p.dns},                  {"DnsSearch", p.dns_search},
          {"DnsOptions", p.dns_options}};
}

ConfigNetworkPlan read_network_plan(const json& n) {
  ConfigNetworkPlan p;
  read(n, "Mode", p.mode);
  read(n, "NetworkMode", p.network_mode);
  read(n, "NsPath", p.ns_path);
  read(n, "PeerId", p.peer_id);
  read(n, "Network", p.network);
  read(n, "Ip", p.ip);
  read(n, "Mac", p.mac);
  if (auto it = n.find("Ports"); it != n.end() && it->is_array())
    for (const auto& m : *it) {
      if (!m.is_object()) continue;
      ConfigPort pm;
      read(m, "HostIp", pm.host_ip);
      read_int(m, "HostPort", pm.host_port);
      read_int(m, "ContainerPort", pm.container_port);
      read(m, "Proto", pm.proto);
      p.ports.push_back(pm);
    }
  if (auto it = n.find("ExtraHosts"); it != n.end() && it->is_array())
    for (const auto& h : *it)
      if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string())
        p.extra_hosts.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
  read(n, "Dns", p.dns);
  read(n, "DnsSearch", p.dns_search);
  read(n, "DnsOptions", p.dns_options);
  return p;
}

}  // namespace

nlohmann::ordered_json healthcheck_json(const ConfigHealthcheck& c) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (!c.test.empty()) j["Test"] = c.test;
  if (c.interval) j["Interval"] = c.interval;
  if (c.timeout) j["Timeout"] = c.timeout;
  if (c.start_period) j["StartPeriod"] = c.start_period;
  if (c.start_interval) j["StartInterval"] = c.start_interval;
  if (c.retries) j["Retries"] = c.retries;
  return j;
}

json ContainerConfig::to_json() const {
  json devs = json::array();
  for (const auto& d : devices) devs.push_back(device_json(d));
  json j = {{"Hostname", hostname},       {"User", user},
            {"Env", env},                 {"Cmd", cmd},
            {"WorkingDir", working_dir},  {"Entrypoint", entrypoint},
            {"Tty", tty},                 {"OpenStdin", open_stdin},
            {"NetworkMode", network_mode}, {"ReadonlyRootfs", readonly_rootfs},
            {"Init", init},               {"Privileged", privileged},
            {"NoNewPrivileges", no_new_privileges},
            {"CapAdd", cap_add},          {"CapDrop", cap_drop},
            {"Binds", binds},             {"CgroupParent", cgroup_parent},
            {"SecurityOpt", security_opt}, {"Resources", resources.is_object() ? resources : json()},
            {"Devices", devs},            {"Ulimits", ulimits}};
  if (stdin_once) j["StdinOnce"] = true;
  if (cgroup) j["Cgroup"] = *cgroup;
  if (healthcheck) j["Healthcheck"] = json(healthcheck_json(*healthcheck));
  if (!stop_signal.empty()) j["StopSignal"] = stop_signal;
  if (stop_timeout) j["StopTimeout"] = *stop_timeout;
  if (restart_policy)
    j["RestartPolicy"] = {{"Name", restart_policy->name}, {"MaximumRetryCount", restart_policy->maximum_retry_count}};
  if (log_config) j["LogConfig"] = {{"Type", log_config->type}, {"Opts", log_config->opts}};
  if (network_plan) j["NetworkPlan"] = network_plan_json(*network_plan);
  return j;
}

ContainerConfig ContainerConfig::from_json(const json& j) {
  ContainerConfig c;
  if (!j.is_object()) return c;
  read(j, "Hostname", c.hostname);
  read(j, "User", c.user);
  read(j, "Env", c.env);
  read(j, "Cmd", c.cmd);
  read(j, "WorkingDir", c.working_dir);
  read(j, "Entrypoint", c.entrypoint);
  read(j, "Tty", c.tty);
  read(j, "OpenStdin", c.open_stdin);
  read(j, "StdinOnce", c.stdin_once);
  if (auto it = j.find("Healthcheck"); it != j.end()) c.healthcheck = read_healthcheck(*it);
  read(j, "StopSignal", c.stop_signal);
  if (auto it = j.find("StopTimeout"); it != j.end() && it->is_number_integer()) c.stop_timeout = it->get<int>();
  read(j, "NetworkMode", c.network_mode);
  read(j, "Binds", c.binds);
  read(j, "ReadonlyRootfs", c.readonly_rootfs);
  read(j, "Init", c.init);
  read(j, "Privileged", c.privileged);
  read(j, "NoNewPrivileges", c.no_new_privileges);
  read(j, "CapAdd", c.cap_add);
  read(j, "CapDrop", c.cap_drop);
  read(j, "SecurityOpt", c.security_opt);
  read(j, "Ulimits", c.ulimits);
  read(j, "CgroupParent", c.cgroup_parent);
  if (auto it = j.find("Cgroup"); it != j.end() && it->is_string()) c.cgroup = it->get<std::string>();
  if (auto it = j.find("Resources"); it != j.end() && it->is_object()) c.resources = *it;
  if (auto it = j.find("Devices"); it != j.end() && it->is_array())
    for (const auto& o : *it)
      if (o.is_object()) c.devices.push_back(read_device(o));
  if (auto it = j.find("RestartPolicy"); it != j.end() && it->is_object()) {
    ConfigRestartPolicy p;
    read(*it, "Name", p.name);
    read_int(*it, "MaximumRetryCount", p.maximum_retry_count);
    c.restart_policy = p;
  }
  if (auto it = j.find("LogConfig"); it != j.end() && it->is_object()) {
    ConfigLog l;
    read(*it, "Type", l.type);
    read(*it, "Opts", l.opts);
    c.log_config = l;
  }
  if (auto it = j.find("NetworkPlan"); it != j.end() && it->is_object()) c.network_plan = read_network_plan(*it);
  return c;
}

ContainerConfig ContainerConfig::parse(std::string_view text) {
  if (text.empty()) return {};
  return from_json(json::parse(text, nullptr, /*allow_exceptions=*/false));
}

}  // namespace minirun

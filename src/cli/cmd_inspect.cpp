// minirun inspect [-f TEMPLATE] REF… — JSON array like `docker inspect`, or a Go template per object.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "gotemplate.h"
#include "minirun/engine/container_state.h"
#include "minirun/util/error.h"
#include "minirun/util/timefmt.h"
#include "minirun/engine/images.h"
#include "minirun/network/network.h"
#include "minirun/engine/container_health.h"
#include "minirun/runtime/spec_json.h"

namespace minirun::cli {

using ojson = nlohmann::ordered_json;

namespace {

// The same JSON with its objects' keys in order (nlohmann::json keeps them sorted).
ojson ordered(const nlohmann::json& j) {
  using T = nlohmann::json::value_t;
  switch (j.type()) {
    case T::object: {
      ojson o = ojson::object();
      for (const auto& [k, v] : j.items()) o[k] = ordered(v);
      return o;
    }
    case T::array: {
      ojson a = ojson::array();
      for (const auto& v : j) a.push_back(ordered(v));
      return a;
    }
    case T::string: return j.get<std::string>();
    case T::boolean: return j.get<bool>();
    case T::number_integer: return j.get<int64_t>();
    case T::number_unsigned: return j.get<uint64_t>();
    case T::number_float: return j.get<double>();
    default: return nullptr;
  }
}

// Docker's HostConfig limits and policies, from the container's config (Resources in the runtime
// spec's form): what `docker inspect -f '{{.HostConfig.Memory}}'` scripts read; 0 is "not set".
ojson host_config(const ContainerConfig& config) {
  runtime::Resources r;
  if (config.resources.is_object()) r = runtime::resources_from_json(config.resources);
  const auto m = r.memory.value_or(runtime::MemoryResources{});
  const auto c = r.cpu.value_or(runtime::CpuResources{});
  int64_t nano = 0, quota = c.quota.value_or(0);
  if (c.period && *c.period == 100000 && quota > 0) nano = quota * 10000;  // --cpus
  ojson h;
  h["NetworkMode"] = config.network_mode;
  if (const auto& p = config.restart_policy)
    h["RestartPolicy"] = {{"MaximumRetryCount", p->maximum_retry_count}, {"Name", p->name}};
  else
    h["RestartPolicy"] = {{"Name", "no"}, {"MaximumRetryCount", 0}};
  if (const auto& l = config.log_config) {  // Docker's shape: the --log-opt pairs as a map
    ojson opts = ojson::object();
    for (const auto& kv : l->opts) {
      const size_t eq = kv.find('=');
      opts[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    h["LogConfig"] = {{"Type", l->type}, {"Config", opts}};
  } else
    h["LogConfig"] = {{"Type", "json-file"}, {"Config", ojson::object()}};
  h["CgroupParent"] = config.cgroup_parent;
  h["Memory"] = m.limit.value_or(0);
  h["MemoryReservation"] = m.reservation.value_or(0);
  h["MemorySwap"] = m.swap.value_or(0);
  h["OomKillDisable"] = m.disable_oom_killer.value_or(false);
  h["NanoCpus"] = nano;
  h["CpuShares"] = c.shares.value_or(0);
  h["CpuPeriod"] = nano ? 0 : c.period.value_or(0);
  h["CpuQuota"] = nano ? 0 : quota;
  h["CpusetCpus"] = c.cpus;
  h["CpusetMems"] = c.mems;
  h["PidsLimit"] = r.pids_limit && *r.pids_limit > 0 ? ojson(*r.pids_limit) : ojson(nullptr);
  h["BlkioWeight"] = r.block_io ? r.block_io->weight.value_or(0) : 0;
  return h;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

ojson graph_driver(const Store& store, const std::string& top, bool container) {
  ojson data = ojson::object();
  if (top.empty()) return {{"Data", nullptr}, {"Name", "overlay2"}};
  auto lowers = store.lower_diffs(top);
  if (!lowers.empty()) {
    for (auto& l : lowers) {
      // l/<short> -> ../<id>/diff: show the canonical path, like Docker.
      auto pos = l.find("/l/../");
      if (pos != std::string::npos) l = l.substr(0, pos) + "/" + l.substr(pos + 6);
    }
    data["LowerDir"] = join(lowers, ":");
  }
  data["MergedDir"] = store.layer_dir(top) + "/merged";
  data["UpperDir"] = store.diff_dir(top);
  data["WorkDir"] = store.layer_dir(top) + "/work";
  (void)container;
  return {{"Data", data}, {"Name", "overlay2"}};
}

ojson inspect_image(const Store& store, const std::string& hex) {
  auto cfg = parse_image_config(store.image_config(hex));
  auto ids = image_layer_ids(cfg);
  ojson j;
  j["Id"] = "sha256:" + hex;
  j["RepoTags"] = store.tags_of(hex);
  j["RepoDigests"] = store.repo_digests(hex);
  j["Parent"] = "";
  j["Comment"] = cfg.history.empty() ? "" : cfg.history.back().comment;
  j["Created"] = cfg.created;
  j["DockerVersion"] = cfg.raw.value("docker_version", "");
  j["Author"] = cfg.author;
  j["Config"] = cfg.raw.contains("config") ? cfg.raw["config"] : nlohmann::json(nullptr);
  j["Architecture"] = cfg.architecture;
  if (!cfg.variant.empty()) j["Variant"] = cfg.variant;
  j["Os"] = cfg.os;
  j["Size"] = image_size(store, cfg);
  j["GraphDriver"] = graph_driver(store, ids.empty() ? "" : ids.back(), false);
  j["RootFS"] = {{"Type", "layers"}, {"Layers", cfg.diff_ids}};
  j["Metadata"] = {{"LastTagTime", store.image_loaded_time(hex)}};
  return j;
}

// Docker's NetworkSettings: the address, gateway, MAC and published ports of a container on a
// bridge network while it runs (empty otherwise, as Docker shows a stopped container).
ojson network_settings(const Store& store, const ContainerRecord& rec) {
  ojson ports = ojson::object();
  ojson n = {{"Bridge", ""}, {"Ports", ports}, {"Gateway", ""}, {"IPAddress", ""}, {"IPPrefixLen", 0},
             {"MacAddress", ""}, {"Networks", ojson::object()}};
  auto a = rec.status == ContainerStatus::running ? network::attachment(store, rec.id) : std::nullopt;
  if (!a) return n;
  for (const auto& p : a->ports) {
    std::string key = std::to_string(p.container_port) + "/" + p.proto;
    if (!ports.contains(key)) ports[key] = ojson::array();
    ports[key].push_back({{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip}, {"HostPort", std::to_string(p.host_port)}});
  }
  auto net = network::find_network(store, a->network);
  n["Bridge"] = net ? net->bridge : "";
  n["Ports"] = ports;
  n["Gateway"] = a->gateway;
  n["IPAddress"] = a->ip;
  n["IPPrefixLen"] = a->prefix;
  n["MacAddress"] = a->mac;
  n["Networks"][a->network] = {{"NetworkID", net ? net->id : ""}, {"Gateway", a->gateway}, {"IPAddress", a->ip},
                               {"IPPrefixLen", a->prefix}, {"MacAddress", a->mac}};
  return n;
}

// A time never set is Go's zero time in Docker's inspect.
std::string time_or_zero(const std::string& t) { return t.empty() ? kGoZeroTime : t; }

ojson inspect_container(const Store& store, const std::string& cid) {
  auto rec = store.container(cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  ojson j;
  j["Id"] = rec->id;
  j["Created"] = rec->created;
  j["Path"] = rec->command.empty() ? "" : rec->command[0];
  j["Args"] = rec->command.size() > 1 ? std::vector<std::string>(rec->command.begin() + 1, rec->command.end())
                                      : std::vector<std::string>{};
  auto fresh = refresh_container_state(store, cid);  // a dead monitor shows as exited
  if (fresh) rec = fresh;
  // Docker: Running stays true while paused or restarting.
  bool running = container_active(*rec);
  j["State"] = {{"Status", status_name(rec->status)},   {"Running", running},          {"Paused", rec->status == ContainerStatus::paused},
                {"Restarting", rec->status == ContainerStatus::restarting}, {"OOMKilled", rec->oom_killed}, {"Dead", false},
                {"Pid", running ? rec->container_pid : 0}, {"ExitCode", rec->exit_code},
                {"Error", rec->error},     {"StartedAt", time_or_zero(rec->started)},
                {"FinishedAt", time_or_zero(rec->finished)}};
  // State.Health once a container with a health check has started (its monitor's last state).
  if (auto h = container_health(store, *rec)) j["State"]["Health"] = ojson::parse(monitor::health_state_json(*h));
  j["RestartCount"] = rec->restart_count;
  j["LogPath"] = store.container_log_path(rec->id);
  j["Image"] = "sha256:" + rec->image_id;
  j["Name"] = "/" + rec->name;
  j["Driver"] = "overlay2";
  j["GraphDriver"] = graph_driver(store, rec->id, true);
  ojson config = ordered(rec->config.to_json());
  config["Image"] = rec->image_ref;
  j["Config"] = config;
  j["HostConfig"] = host_config(rec->config);
  j["NetworkSettings"] = network_settings(store, *rec);
  return j;
}

}  // namespace

void register_inspect(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("inspect", "Show low-level information on images or containers (JSON, or a Go template with -f)");
  auto refs = std::make_shared<std::vector<std::string>>();
  auto type = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>();
  cmd->add_option("ref", *refs, "Image (NAME[:TAG], ID) or container (name, ID)")->required();
  cmd->add_option("--type", *type, "image or container")->check(CLI::IsMember({"image", "container"}));
  cmd->add_option("-f,--format", *format,
                  "A Go template run on each object: '{{.State.Pid}}', '{{json .Config}}', "
                  "'{{join .Config.Env \"\\n\"}}' (json: the JSON array, the default)");
  cmd->footer("Examples:\n  minirun inspect busybox:latest\n  minirun inspect -f '{{.State.Status}} {{.State.Pid}}' web");
  cmd->callback([&g, refs, type, format] {
    // The template is parsed before anything is read, so a mistyped one fails alone.
    std::unique_ptr<GoTemplate> tmpl;
    if (!format->empty() && *format != "json") tmpl = std::make_unique<GoTemplate>(*format);
    Store store = open_store(g);
    ojson out = ojson::array();
    std::string missing;
    for (const auto& r : *refs) {
      try {
        if (*type != "container") {
          try {
            out.push_back(inspect_image(store, store.resolve_image(r)));
            continue;
          } catch (const Error& e) {
            if (e.exit_code() != 1 || *type == "image") throw;
          }
        }
        out.push_back(inspect_container(store, store.resolve_container(r)));
      } catch (const Error& e) {
        if (e.exit_code() != 1) throw;
        missing = "No such object: " + r;
      }
    }
    if (tmpl) {
      std::string text;
      for (const auto& o : out) text += tmpl->execute(o) + "\n";
      std::cout << text;
    } else {
      std::cout << out.dump(4) << "\n";
    }
    if (!missing.empty()) throw Error(missing, 1);
  });
}

}  // namespace minirun::cli

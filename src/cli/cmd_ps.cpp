// minirun ps [-a] [-q] [--no-trunc] [-f FILTER] [--format json|TEMPLATE] — list containers.
#include <algorithm>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "gotemplate.h"
#include "table_format.h"
#include "minirun/engine/container_health.h"
#include "minirun/engine/container_state.h"
#include "minirun/network/network.h"
#include "minirun/engine/status_text.h"
#include "minirun/util/error.h"
#include "minirun/util/timefmt.h"

namespace minirun::cli {

namespace {
// State.Health.Status as its monitor recorded it; "none" without a health check (Docker's filter
// value).
std::string health_of(const Store& store, const ContainerRecord& r) {
  auto h = container_health(store, r);
  return h ? h->status : "none";
}

std::string status_text(const ContainerRecord& r, const std::string& health) {
  return minirun::status_text({status_name(r.status), r.exit_code, r.started, r.finished, health == "none" ? "" : health},
                              now_unix_ns());
}

std::string quote_command(const std::vector<std::string>& cmd) {
  std::string s;
  for (const auto& a : cmd) s += (s.empty() ? "" : " ") + a;
  return "\"" + s + "\"";
}
using Filters = std::map<std::string, std::vector<std::string>>;

// Docker's `ps -f KEY=VALUE`: status= (exact state), name= (substring of the name), ancestor=
// (the image as named, or its ID or an ID prefix), id= (ID prefix), health= (starting, healthy,
// unhealthy, none). Same keys OR, different AND. Checked before any container is read.
Filters parse_filters(const std::vector<std::string>& filters) {
  Filters by;
  for (const auto& f : filters) {
    auto eq = f.find('=');
    if (eq == std::string::npos) throw Error("bad format of filter (expected name=value)", 1);
    std::string k = f.substr(0, eq);
    if (k != "status" && k != "name" && k != "ancestor" && k != "id" && k != "health")
      throw Error("invalid filter '" + k + "'", 1);
    std::string v = f.substr(eq + 1);
    if (k == "health" && v != "starting" && v != "healthy" && v != "unhealthy" && v != "none")
      throw Error("Unrecognised filter value for health: " + v, 1);
    // Docker's states; "removing" and "dead" are valid words that no minirun container is in.
    if (k == "status" && !parse_status(v) && v != "removing" && v != "dead")
      throw Error("Unrecognised filter value for status: " + v, 1);
    by[k].push_back(v);
  }
  return by;
}

bool matches(const Store& store, const ContainerRecord& r, const std::string& health, const Filters& by) {
  for (const auto& [k, vals] : by) {
    bool any = false;
    for (const auto& v : vals) {
      if (k == "status") any |= status_name(r.status) == v;
      else if (k == "name") any |= r.name.find(v) != std::string::npos;
      else if (k == "id") any |= r.id.rfind(v, 0) == 0;
      else if (k == "health") any |= health == v;
      else {
        std::string img;
        try {
          img = store.resolve_image(v);
        } catch (const Error&) {
        }
        any |= r.image_ref == v || (!img.empty() && img == r.image_id);
      }
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace

void register_ps(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("ps", "List containers");
  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto notrunc = std::make_shared<bool>(false);
  auto format = std::make_shared<std::string>();
  auto filters = std::make_shared<std::vector<std::string>>();
  cmd->add_flag("-a,--all", *all, "Show all containers (default shows just running)");
  cmd->add_flag("-q,--quiet", *quiet, "Only display container IDs");
  cmd->add_flag("--no-trunc", *notrunc, "Don't truncate output");
  cmd->add_option("--format", *format,
                  "table (the default), json (one object per line), or a Go template: '{{.ID}} {{.Names}}', "
                  "'table {{.ID}}\\t{{.Status}}' (fields: ID, Image, Command, CreatedAt, RunningFor, Status, "
                  "State, Names, Ports, Size, Labels, Mounts, Networks, LocalVolumes)");
  cmd->add_option("-f,--filter", *filters, "Filter: status=, name=, ancestor=, id=, health=starting|healthy|unhealthy|none")->allow_extra_args(false);
  cmd->footer("Examples:\n  minirun ps -a\n  minirun ps -a --format '{{.ID}} {{.Names}} {{.Status}}'");
  cmd->callback([&g, all, quiet, notrunc, format, filters] {
    const Filters by = parse_filters(*filters);
    Store store = open_store(g);
    std::vector<std::vector<std::string>> rows = {
        {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
    std::vector<nlohmann::ordered_json> items;
    std::vector<ContainerRecord> recs;
    for (const auto& cid : store.container_ids())
      if (auto r = refresh_container_state(store, cid)) recs.push_back(*r);
    std::sort(recs.begin(), recs.end(), [](const auto& a, const auto& b) { return a.created > b.created; });
    for (const auto& r : recs) {
      const bool shown = container_active(r);
      if (!*all && !shown && !std::any_of(filters->begin(), filters->end(), [](const std::string& f) {
            return f.rfind("status=", 0) == 0;
          }))
        continue;
      const std::string health = health_of(store, r);
      if (!matches(store, r, health, by)) continue;
      std::string id = *notrunc ? r.id : r.id.substr(0, 12);
      if (*quiet) {
        std::cout << id << "\n";
        continue;
      }
      std::string ports;  // "0.0.0.0:8080->80/tcp, …" while attached to a bridge network
      if (r.status == ContainerStatus::running)
        if (auto a = network::attachment(store, r.id))
          for (const auto& p : a->ports) ports += (ports.empty() ? "" : ", ") + network::format_port(p);
      std::string command = quote_command(r.command);
      if (!*notrunc) command = truncate(command, 20);
      rows.push_back({id, r.image_ref, command, human_ago(r.created), status_text(r, health), ports, r.name});
      // Docker's container fields, in the (alphabetical) order its --format json prints them.
      items.push_back({{"Command", command},          {"CreatedAt", r.created}, {"ID", id},
                       {"Image", r.image_ref},        {"Labels", ""},           {"LocalVolumes", "0"},
                       {"Mounts", ""},                {"Names", r.name},        {"Networks", ""},
                       {"Ports", ports},                 {"RunningFor", human_ago(r.created)},
                       {"Size", "N/A"},               {"State", status_name(r.status)},      {"Status", status_text(r, health)}});
    }
    if (*quiet) return;
    static const nlohmann::ordered_json headers = {
        {"Command", "COMMAND"}, {"CreatedAt", "CREATED AT"}, {"ID", "CONTAINER ID"}, {"Image", "IMAGE"},
        {"Labels", "LABELS"},   {"LocalVolumes", "LOCAL VOLUMES"}, {"Mounts", "MOUNTS"}, {"Names", "NAMES"},
        {"Networks", "NETWORKS"}, {"Ports", "PORTS"}, {"RunningFor", "CREATED"}, {"Size", "SIZE"},
        {"State", "STATE"},     {"Status", "STATUS"}};
    std::string out;
    if (format_rows(*format, headers, items, out)) std::cout << out;
    else print_table(rows);
  });
}

}  // namespace minirun::cli

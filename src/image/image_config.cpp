#include "minirun/image/image_config.h"

#include "minirun/util/digest.h"
#include "minirun/util/error.h"

namespace minirun {

using nlohmann::json;

namespace {

Error bad(const std::string& why) { return Error("image config: " + why); }

std::string str(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (!it->is_string()) throw bad(std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

std::vector<std::string> strings(const json& obj, const char* key, bool* present = nullptr) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (present) *present = it != obj.end() && !it->is_null();
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) throw bad(std::string("\"") + key + "\" is not an array");
  for (const auto& e : *it) {
    if (!e.is_string()) throw bad(std::string("\"") + key + "\" holds a non-string");
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

ImageConfig parse_image_config(std::string_view bytes, bool history) {
  ImageConfig c;
  try {
    if (history) {
      c.raw = json::parse(bytes);
    } else {
      // A 500-layer image's history is about a third of the parse (0.75 ms instead of 1.05 ms).
      c.raw = json::parse(bytes, [](int depth, json::parse_event_t event, json& parsed) {
        return !(depth == 1 && event == json::parse_event_t::key && parsed == "history");
      });
    }
  } catch (const json::exception& e) {
    throw bad(std::string("malformed JSON: ") + e.what());
  }
  const json& j = c.raw;
  if (!j.is_object()) throw bad("not a JSON object");
  c.architecture = str(j, "architecture");
  c.os = str(j, "os");
  c.variant = str(j, "variant");
  c.created = str(j, "created");
  c.author = str(j, "author");
  if (auto it = j.find("config"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw bad("\"config\" is not an object");
    c.env = strings(*it, "Env");
    c.cmd = strings(*it, "Cmd", &c.has_cmd);
    c.entrypoint = strings(*it, "Entrypoint", &c.has_entrypoint);
    c.user = str(*it, "User");
    c.workdir = str(*it, "WorkingDir");
    if (auto ep = it->find("ExposedPorts"); ep != it->end() && !ep->is_null()) {
      if (!ep->is_object()) throw bad("\"ExposedPorts\" is not an object");
      for (auto e = ep->begin(); e != ep->end(); ++e) c.exposed_ports.push_back(e.key());
    }
  }
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object()) throw bad("no \"rootfs\" object");
  std::string type = str(*rootfs, "type");
  if (type != "layers") throw bad("unknown rootfs.type \"" + type + "\" (want \"layers\")");
  c.diff_ids = strings(*rootfs, "diff_ids");
  for (const auto& d : c.diff_ids)
    if (!is_valid_digest(d)) throw bad("invalid diff_id \"" + d.substr(0, 80) + "\"");
  if (auto it = j.find("history"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw bad("\"history\" is not an array");
    for (const auto& h : *it) {
      if (!h.is_object()) throw bad("a history entry is not an object");
      HistoryEntry e;
      e.created = str(h, "created");
      e.created_by = str(h, "created_by");
      e.author = str(h, "author");
      e.comment = str(h, "comment");
      if (auto el = h.find("empty_layer"); el != h.end() && !el->is_null()) {
        if (!el->is_boolean()) throw bad("\"empty_layer\" is not a boolean");
        e.empty_layer = el->get<bool>();
      }
      c.history.push_back(std::move(e));
    }
  }
  return c;
}

}  // namespace minirun

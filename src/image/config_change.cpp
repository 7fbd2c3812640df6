#include "minirun/image/config_change.h"

#include <cctype>
#include <utility>
#include <vector>

#include "minirun/util/error.h"

namespace minirun {

using ojson = nlohmann::ordered_json;

namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// CMD/ENTRYPOINT: JSON array form, else shell form.
ojson command_form(const std::string& arg) {
  if (!arg.empty() && arg[0] == '[') {
    try {
      auto j = ojson::parse(arg);
      if (j.is_array()) {
        for (const auto& e : j)
          if (!e.is_string()) throw Error("not an array of strings");
        return j;
      }
    } catch (const ojson::exception&) {
    }
  }
  return ojson::array({"/bin/sh", "-c", arg});
}

// "K=V K2=V2" or the old "K V" form.
std::vector<std::pair<std::string, std::string>> pairs_of(const std::string& arg) {
  std::vector<std::pair<std::string, std::string>> out;
  if (arg.find('=') == std::string::npos) {
    auto sp = arg.find(' ');
    if (sp == std::string::npos) throw Error("\"" + arg + "\": want KEY=VALUE");
    out.emplace_back(arg.substr(0, sp), trim(arg.substr(sp + 1)));
    return out;
  }
  size_t i = 0;
  while (i < arg.size()) {
    while (i < arg.size() && arg[i] == ' ') i++;
    if (i >= arg.size()) break;
    std::string tok;
    bool quoted = false;
    for (; i < arg.size() && (quoted || arg[i] != ' '); i++) {
      if (arg[i] == '"') quoted = !quoted;
      else tok += arg[i];
    }
    auto eq = tok.find('=');
    if (eq == std::string::npos || eq == 0) throw Error("\"" + tok + "\": want KEY=VALUE");
    out.emplace_back(tok.substr(0, eq), tok.substr(eq + 1));
  }
  return out;
}

}  // namespace

void apply_config_change(ojson& cfg, const std::string& change) {
  std::string c = trim(change);
  auto sp = c.find_first_of(" \t");
  std::string verb = c.substr(0, sp), arg = sp == std::string::npos ? "" : trim(c.substr(sp + 1));
  for (auto& ch : verb) ch = static_cast<char>(toupper(ch));
  if (!cfg.contains("config") || !cfg["config"].is_object()) cfg["config"] = ojson::object();
  ojson& conf = cfg["config"];
  if (verb == "CMD") conf["Cmd"] = command_form(arg);
  else if (verb == "ENTRYPOINT") conf["Entrypoint"] = command_form(arg);
  else if (verb == "WORKDIR") conf["WorkingDir"] = arg;
  else if (verb == "USER") conf["User"] = arg;
  else if (verb == "STOPSIGNAL") conf["StopSignal"] = arg;
  else if (verb == "ENV") {
    ojson env = conf.contains("Env") && conf["Env"].is_array() ? conf["Env"] : ojson::array();
    for (const auto& [k, v] : pairs_of(arg)) {
      bool replaced = false;
      for (auto& e : env)
        if (e.get<std::string>().rfind(k + "=", 0) == 0) {
          e = k + "=" + v;
          replaced = true;
        }
      if (!replaced) env.push_back(k + "=" + v);
    }
    conf["Env"] = env;
  } else if (verb == "LABEL") {
    if (!conf.contains("Labels") || !conf["Labels"].is_object()) conf["Labels"] = ojson::object();
    for (const auto& [k, v] : pairs_of(arg)) conf["Labels"][k] = v;
  } else if (verb == "EXPOSE") {
    if (!conf.contains("ExposedPorts") || !conf["ExposedPorts"].is_object()) conf["ExposedPorts"] = ojson::object();
    size_t i = 0;
    while (i < arg.size()) {
      size_t j = arg.find(' ', i);
      std::string p = arg.substr(i, j == std::string::npos ? std::string::npos : j - i);
      if (!p.empty()) conf["ExposedPorts"][p.find('/') == std::string::npos ? p + "/tcp" : p] = ojson::object();
      if (j == std::string::npos) break;
      i = j + 1;
    }
  } else if (verb == "VOLUME") {
    if (!conf.contains("Volumes") || !conf["Volumes"].is_object()) conf["Volumes"] = ojson::object();
    conf["Volumes"][arg] = ojson::object();
  } else {
    throw Error("unsupported change \"" + change + "\": use CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME or STOPSIGNAL");
  }
}

}  // namespace minirun

// credentials.cpp — see credentials.h.
#include "minirun/registry/credentials.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "minirun/util/base64.h"
#include "minirun/util/error.h"

namespace minirun::registry {

namespace {

// "https://host/v1/" → "host"; "host/ns/" → "host/ns".
std::string normalize_key(std::string key) {
  for (const char* scheme : {"https://", "http://"})
    if (key.rfind(scheme, 0) == 0) {
      key = key.substr(std::string_view(scheme).size());
      for (const char* api : {"/v1/", "/v2/", "/v1", "/v2"}) {
        std::string_view a(api);
        if (key.size() > a.size() && key.compare(key.size() - a.size(), a.size(), a) == 0) {
          key.resize(key.size() - a.size());
          break;
        }
      }
    }
  while (!key.empty() && key.back() == '/') key.pop_back();
  return key;
}

bool is_docker_hub(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

}  // namespace

std::optional<Credentials> credentials_from_auth_file(std::string_view text, std::string_view registry,
                                                      std::string_view path, const std::string& file) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("auths")) return std::nullopt;
  const auto& auths = doc["auths"];
  if (!auths.is_object()) throw Error(file + ": \"auths\" is not an object");
  // Candidate names, most specific first.
  std::string reg = is_docker_hub(registry) ? "docker.io" : std::string(registry);
  std::vector<std::string> wanted;
  std::string p(path);
  while (!p.empty()) {
    wanted.push_back(reg + "/" + p);
    size_t slash = p.rfind('/');
    p = slash == std::string::npos ? "" : p.substr(0, slash);
  }
  wanted.push_back(reg);
  for (const auto& name : wanted) {
    for (const auto& [key, entry] : auths.items()) {
      std::string k = normalize_key(key);
      if (is_docker_hub(k.substr(0, k.find('/')))) k = "docker.io" + (k.find('/') == std::string::npos ? "" : k.substr(k.find('/')));
      if (k != name) continue;
      if (!entry.is_object()) throw Error(file + ": the entry of \"" + key + "\" is not an object");
      Credentials c;
      if (entry.contains("auth") && entry["auth"].is_string() && !entry["auth"].get<std::string>().empty()) {
        auto decoded = base64_decode(entry["auth"].get<std::string>());
        size_t colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos)
          throw Error(file + ": the \"auth\" of \"" + key + "\" is not base64 of user:password");
        c.username = decoded->substr(0, colon);
        c.password = decoded->substr(colon + 1);
        return c;
      }
      if (entry.contains("username") && entry["username"].is_string() && entry.contains("password") &&
          entry["password"].is_string()) {
        c.username = entry["username"].get<std::string>();
        c.password = entry["password"].get<std::string>();
        return c;
      }
    }
  }
  return std::nullopt;
}

std::vector<std::string> auth_file_paths() {
  if (const char* f = std::getenv("REGISTRY_AUTH_FILE"); f && *f) return {f};
  std::vector<std::string> out = {"/run/containers/0/auth.json"};
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d)
    out.push_back(std::string(d) + "/config.json");
  else if (const char* home = std::getenv("HOME"); home && *home)
    out.push_back(std::string(home) + "/.docker/config.json");
  return out;
}

std::optional<Credentials> find_credentials(std::string_view registry, std::string_view path) {
  for (const auto& file : auth_file_paths()) {
    std::ifstream in(file);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    if (auto c = credentials_from_auth_file(ss.str(), registry, path, file)) return c;
  }
  return std::nullopt;
}

}  // namespace minirun::registry

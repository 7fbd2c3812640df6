// auth_file.cpp — see auth_file.h.
#include "minirun/registry/auth_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "minirun/util/base64.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::registry {

namespace {

nlohmann::ordered_json parse_auth_file(std::string_view text, const std::string& file) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return nlohmann::ordered_json::object();
  nlohmann::ordered_json doc;
  try {
    doc = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object()) throw Error(file + ": not a JSON object");
  if (doc.contains("auths") && !doc["auths"].is_object()) throw Error(file + ": \"auths\" is not an object");
  return doc;
}

// mkdir -p with `mode` for the directories it creates.
void make_dirs(const std::string& dir, mode_t mode) {
  if (dir.empty()) return;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return;
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) make_dirs(dir.substr(0, slash), mode);
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
    throw Error(dir + ": mkdir: " + std::strerror(errno));
}

}  // namespace

std::string auth_key_for_server(std::string_view server) {
  std::string s(server);
  if (s.empty() || s == kDockerHubAuthKey) return kDockerHubAuthKey;
  for (const char* scheme : {"https://", "http://"})
    if (s.rfind(scheme, 0) == 0) s = s.substr(std::strlen(scheme));
  s = s.substr(0, s.find('/'));
  if (s == "docker.io" || s == "index.docker.io" || s == "registry-1.docker.io") return kDockerHubAuthKey;
  return s;
}

std::string registry_for_auth_key(const std::string& key) { return key == kDockerHubAuthKey ? "docker.io" : key; }

std::string login_auth_file_path() {
  if (const char* f = std::getenv("REGISTRY_AUTH_FILE"); f && *f) return f;
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) return std::string(d) + "/config.json";
  const char* home = std::getenv("HOME");
  if (!home || !*home) throw Error("cannot find the auth file: neither $REGISTRY_AUTH_FILE, $DOCKER_CONFIG nor $HOME is set");
  return std::string(home) + "/.docker/config.json";
}

std::string auth_file_with_login(std::string_view text, const std::string& key, const Credentials& c,
                                 const std::string& file) {
  nlohmann::ordered_json doc = parse_auth_file(text, file);
  if (!doc.contains("auths")) doc["auths"] = nlohmann::ordered_json::object();
  doc["auths"][key] = {{"auth", base64_encode(c.username + ":" + c.password)}};
  return doc.dump(1, '\t') + "\n";
}

std::string auth_file_with_helper_login(std::string_view text, const std::string& key, const std::string& file) {
  nlohmann::ordered_json doc = parse_auth_file(text, file);
  if (!doc.contains("auths")) doc["auths"] = nlohmann::ordered_json::object();
  doc["auths"][key] = nlohmann::ordered_json::object();
  return doc.dump(1, '\t') + "\n";
}

void save_login(const std::string& key, const Credentials& c) {
  const std::string file = login_auth_file_path();
  const std::string text = read_file_if_exists(file).value_or("");
  const std::string helper = text.empty() ? "" : credential_helper_for(text, registry_for_auth_key(key), file);
  if (helper.empty()) {
    write_auth_file(file, auth_file_with_login(text, key, c, file));
    return;
  }
  store_with_credential_helper(helper, key, c);
  write_auth_file(file, auth_file_with_helper_login(text, key, file));
}

bool remove_login(const std::string& key) {
  const std::string file = login_auth_file_path();
  const auto text = read_file_if_exists(file);
  if (!text) return false;
  bool removed = false;
  if (std::string helper = credential_helper_for(*text, registry_for_auth_key(key), file); !helper.empty())
    removed = erase_with_credential_helper(helper, key);
  if (auto without = auth_file_without_login(*text, key, file)) {
    write_auth_file(file, *without);
    removed = true;
  }
  return removed;
}

std::optional<std::string> auth_file_without_login(std::string_view text, const std::string& key,
                                                   const std::string& file) {
  nlohmann::ordered_json doc = parse_auth_file(text, file);
  if (!doc.contains("auths")) return std::nullopt;
  auto& auths = doc["auths"];
  bool removed = false;
  for (const std::string& k : {key, "http://" + key, "https://" + key})
    removed |= auths.erase(k) > 0;
  if (!removed) return std::nullopt;
  return doc.dump(1, '\t') + "\n";
}

void write_auth_file(const std::string& path, const std::string& text) {
  size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) make_dirs(path.substr(0, slash), 0700);
  write_file_atomic(path, text, 0600);
}

}  // namespace minirun::registry

// credentials.cpp — see credentials.h.
#include "minirun/registry/credentials.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
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
      if (entry.contains("identitytoken") && entry["identitytoken"].is_string() &&
          !entry["identitytoken"].get<std::string>().empty()) {
        c.identity_token = entry["identitytoken"].get<std::string>();
        if (entry.contains("auth") && entry["auth"].is_string())
          if (auto decoded = base64_decode(entry["auth"].get<std::string>()))
            c.username = decoded->substr(0, decoded->find(':'));
        if (c.username.empty() && entry.contains("username") && entry["username"].is_string())
          c.username = entry["username"].get<std::string>();
        return c;
      }
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

std::string credential_helper_for(std::string_view text, std::string_view registry, const std::string& file) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(file + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object()) return "";
  bool hub = is_docker_hub(registry);
  if (doc.contains("credHelpers") && doc["credHelpers"].is_object())
    for (const auto& [key, name] : doc["credHelpers"].items()) {
      std::string k = normalize_key(key);
      if ((k == registry || (hub && is_docker_hub(k))) && name.is_string()) return name.get<std::string>();
    }
  if (doc.contains("credsStore") && doc["credsStore"].is_string()) return doc["credsStore"].get<std::string>();
  return "";
}

namespace {

struct HelperResult {
  int code = 0;
  std::string output;  // stdout and stderr, trailing newlines dropped
};

// Runs docker-credential-NAME VERB with `input` on its stdin.
HelperResult call_credential_helper(const std::string& name, const char* verb, const std::string& input) {
  const std::string prog = "docker-credential-" + name;
  if (name.empty() || name.find('/') != std::string::npos) throw Error("credential helper \"" + name + "\": not a name");
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw sys_error("pipe");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    throw sys_error("pipe");
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    throw sys_error("fork");
  }
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::execlp(prog.c_str(), prog.c_str(), verb, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  // The helper reads one short message: the pipe's buffer holds it, so this never blocks on it.
  auto old = std::signal(SIGPIPE, SIG_IGN);
  (void)!::write(in[1], input.data(), input.size());
  std::signal(SIGPIPE, old);
  ::close(in[1]);
  HelperResult r;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (r.output.size() < (1u << 20)) r.output.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == '\r')) r.output.pop_back();
  if (r.code == 127 && r.output.empty()) throw Error(prog + ": not found on PATH (named by the auth file)");
  return r;
}

Error helper_failed(const std::string& name, const char* verb, const HelperResult& r) {
  return Error("docker-credential-" + name + " " + verb + ": exit status " + std::to_string(r.code) +
               (r.output.empty() ? "" : ": " + r.output));
}

}  // namespace

std::optional<Credentials> run_credential_helper(const std::string& name, const std::string& server) {
  HelperResult r = call_credential_helper(name, "get", server + "\n");
  if (r.code != 0) {
    if (r.output.find("credentials not found") != std::string::npos) return std::nullopt;
    throw helper_failed(name, "get", r);
  }
  try {
    auto j = nlohmann::json::parse(r.output);
    Credentials c{j.at("Username").get<std::string>(), j.at("Secret").get<std::string>(), ""};
    if (c.username == "<token>") c.identity_token = std::move(c.password), c.password.clear();
    return c;
  } catch (const nlohmann::json::exception&) {
    throw Error("docker-credential-" + name + " get: not the JSON of a credential: " + r.output.substr(0, 200));
  }
}

void store_with_credential_helper(const std::string& name, const std::string& server, const Credentials& c) {
  nlohmann::json j = {{"ServerURL", server}, {"Username", c.identity_token.empty() ? c.username : "<token>"},
                      {"Secret", c.identity_token.empty() ? c.password : c.identity_token}};
  HelperResult r = call_credential_helper(name, "store", j.dump());
  if (r.code != 0) throw helper_failed(name, "store", r);
}

bool erase_with_credential_helper(const std::string& name, const std::string& server) {
  HelperResult r = call_credential_helper(name, "erase", server + "\n");
  if (r.code == 0) return true;
  if (r.output.find("credentials not found") != std::string::npos) return false;
  throw helper_failed(name, "erase", r);
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
    std::string helper = credential_helper_for(ss.str(), registry, file);
    if (!helper.empty())
      if (auto c = run_credential_helper(helper, is_docker_hub(registry) ? "https://index.docker.io/v1/"
                                                                         : std::string(registry)))
        return c;
    if (auto c = credentials_from_auth_file(ss.str(), registry, path, file)) return c;
  }
  return std::nullopt;
}

}  // namespace minirun::registry

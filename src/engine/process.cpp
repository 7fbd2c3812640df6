#include "minirun/engine/process.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "minirun/util/error.h"

namespace minirun {

namespace {

constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string key_of(const std::string& e) { return e.substr(0, e.find('=')); }

void set_env(std::vector<std::string>& env, const std::string& entry) {
  std::string k = key_of(entry);
  for (auto& e : env)
    if (key_of(e) == k) {
      e = entry;
      return;
    }
  env.push_back(entry);
}

bool has_key(const std::vector<std::string>& env, const std::string& k) {
  for (const auto& e : env)
    if (key_of(e) == k) return true;
  return false;
}

}  // namespace

std::vector<std::string> merge_argv(const std::vector<std::string>& image_entrypoint,
                                    const std::vector<std::string>& image_cmd,
                                    const std::optional<std::string>& entrypoint_flag,
                                    const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  if (entrypoint_flag) {
    if (!entrypoint_flag->empty()) argv.push_back(*entrypoint_flag);
    argv.insert(argv.end(), args.begin(), args.end());
  } else {
    argv = image_entrypoint;
    const auto& cmd = args.empty() ? image_cmd : args;
    argv.insert(argv.end(), cmd.begin(), cmd.end());
  }
  if (argv.empty()) throw Error("no command specified", kExitFailed);
  return argv;
}

std::vector<std::string> merge_env(const std::vector<std::string>& image_env, const std::vector<std::string>& user_env) {
  std::vector<std::string> env;
  for (const auto& e : image_env) set_env(env, e);
  for (const auto& e : user_env) {
    if (e.empty() || e[0] == '=') throw Error("invalid environment variable \"" + e + "\"");
    if (e.find('=') != std::string::npos) {
      set_env(env, e);
    } else if (const char* v = std::getenv(e.c_str())) {
      set_env(env, e + "=" + v);
    }
  }
  return env;
}

std::vector<std::string> read_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw sys_error("env file " + path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find_first_not_of(" \t");
    if (a == std::string::npos || line[a] == '#') continue;
    line = line.substr(a);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> finish_env(std::vector<std::string> env, const std::string& hostname,
                                    const std::string& home, bool tty) {
  std::vector<std::string> out;
  if (!has_key(env, "PATH")) out.push_back(kDefaultPath);
  out.push_back("HOSTNAME=" + hostname);
  if (tty) out.push_back("TERM=xterm");
  for (auto& e : env) set_env(out, e);
  if (!home.empty() && !has_key(out, "HOME")) out.push_back("HOME=" + home);
  return out;
}

}  // namespace minirun

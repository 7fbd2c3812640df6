// minirun login [-u USER] [-p PASS | --password-stdin] [SERVER] and minirun logout [SERVER] —
// docker login's and logout's registry credentials: login checks them against the registry
// (registry::check_login) before it stores them in the auth file (registry/auth_file.h), and
// prints "Login Succeeded"; logout removes them. No SERVER: Docker Hub.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli.h"
#include "minirun/registry/auth_file.h"
#include "minirun/registry/distribution_source.h"
#include "minirun/registry/registries_conf.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::cli {

namespace {

// What the user types on the terminal after `prompt` (echo off for a password).
std::string prompt_line(const std::string& prompt, bool secret) {
  std::cerr << prompt << std::flush;
  termios old{};
  bool restore = secret && ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (restore) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << std::endl;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

void register_login(CLI::App& app, Globals&) {
  auto* cmd = app.add_subcommand("login", "Log in to a registry: minirun login [OPTIONS] [SERVER]");
  auto server = std::make_shared<std::string>();
  auto user = std::make_shared<std::string>();
  auto password = std::make_shared<std::string>();
  auto password_stdin = std::make_shared<bool>(false);
  cmd->add_option("-u,--username", *user, "Username");
  auto* p = cmd->add_option("-p,--password", *password, "Password");
  cmd->add_flag("--password-stdin", *password_stdin, "Take the password from stdin");
  cmd->add_option("server", *server, "SERVER (default: Docker Hub)");
  cmd->footer(
      "The credentials are checked against the registry, then stored as {\"auths\": {SERVER: {\"auth\": …}}} in "
      "$REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json (its other keys "
      "kept; mode 0600); when that file names a credential helper for SERVER (credHelpers, else credsStore), "
      "in docker-credential-NAME instead, the file keeping an empty entry. Docker Hub is stored as "
      "https://index.docker.io/v1/. Without -p or --password-stdin "
      "the password is asked on the terminal (refused when stdin is not one).\n"
      "Examples:\n  minirun login -u me localhost:5000\n  echo \"$PASS\" | minirun login -u me --password-stdin quay.io");
  cmd->callback([server, user, password, p, password_stdin] {
    if (p->count() && *password_stdin) throw Error("--password and --password-stdin are mutually exclusive", 1);
    if (p->count()) std::cerr << "WARNING! Using --password via the CLI is insecure. Use --password-stdin." << std::endl;
    std::string pass = *password;
    std::string name = *user;
    if (*password_stdin) {
      if (name.empty()) throw Error("Must provide --username with --password-stdin", 1);
      pass.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      if (!pass.empty() && pass.back() == '\n') pass.pop_back();
      if (!pass.empty() && pass.back() == '\r') pass.pop_back();
    } else if (!p->count()) {
      if (!::isatty(STDIN_FILENO))
        throw Error("Cannot perform an interactive login from a non TTY device (use -p or --password-stdin)", 1);
      if (name.empty()) name = prompt_line("Username: ", false);
      pass = prompt_line("Password: ", true);
    }
    if (name.empty()) throw Error("Non-null Username Required", 1);
    if (pass.empty()) throw Error("Password Required", 1);
    const std::string key = registry::auth_key_for_server(*server);
    const std::string reg = registry::registry_for_auth_key(key);
    try {
      registry::SourceOptions opts;
      opts.insecure = registry::load_registries_conf().insecure(reg);
      registry::check_login(reg, registry::Credentials{name, pass}, opts);
      registry::save_login(key, {name, pass});
    } catch (const Error& e) {
      std::string m = e.what();
      throw Error("login to " + key + " failed: " + m, 1);
    }
    std::cout << "Login Succeeded" << std::endl;
  });
}

void register_logout(CLI::App& app, Globals&) {
  auto* cmd = app.add_subcommand("logout", "Log out from a registry: minirun logout [SERVER]");
  auto server = std::make_shared<std::string>();
  cmd->add_option("server", *server, "SERVER (default: Docker Hub)");
  cmd->footer("Removes SERVER's entry from the auth file login writes, and its credentials from the credential helper "
              "that file names for it; not logged in is not an error.");
  cmd->callback([server] {
    const std::string key = registry::auth_key_for_server(*server);
    try {
      if (!registry::remove_login(key)) {
        std::cout << "Not logged in to " << key << std::endl;
        return;
      }
      std::cout << "Removing login credentials for " << key << std::endl;
    } catch (const Error& e) {
      throw Error(std::string(e.what()), 1);
    }
  });
}

}  // namespace minirun::cli

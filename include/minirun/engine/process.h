// process.h — from an image config and `run` flags to the container's process: argv, env and
// user, by the image-spec conversion rules as Docker applies them. Pure functions over plain
// data; the user database read is the CONTAINER's (/etc/passwd, /etc/group), never the host's.
#pragma once

#include "minirun/runtime/user.h"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace minirun {

// argv = Entrypoint + Cmd; --entrypoint replaces the Entrypoint and drops the image's Cmd;
// arguments after the image replace Cmd. Nothing at all → Error("no command specified", 125).
std::vector<std::string> merge_argv(const std::vector<std::string>& image_entrypoint,
                                    const std::vector<std::string>& image_cmd,
                                    const std::optional<std::string>& entrypoint_flag,
                                    const std::vector<std::string>& args);

// Image Env, then user entries ("K=V", or "K" taken from minirun's own environment and dropped
// when unset); later keys win, each key keeps the place of its first appearance.
std::vector<std::string> merge_env(const std::vector<std::string>& image_env, const std::vector<std::string>& user_env);

// KEY=VALUE lines of an --env-file ("#" comments and blank lines skipped; "KEY" alone as -e KEY).
std::vector<std::string> read_env_file(const std::string& path);

// Adds what Docker adds: PATH when absent, HOSTNAME, HOME (when home is not empty; else the
// runtime adds it from the container's passwd), TERM=xterm with a tty.
std::vector<std::string> finish_env(std::vector<std::string> env, const std::string& hostname,
                                    const std::string& home, bool tty);

}  // namespace minirun

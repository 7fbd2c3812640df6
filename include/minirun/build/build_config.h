// build_config.h — what a Dockerfile step does to an image's config, with no store and nothing
// run: the config-only instructions (ENV, LABEL, WORKDIR, USER, CMD, ENTRYPOINT, EXPOSE, VOLUME,
// STOPSIGNAL, SHELL) applied to the config JSON as BuildKit's dispatchers do, the history entry's
// created_by text in BuildKit's form ("ENV A=1", "RUN /bin/sh -c make # buildkit"), the argv a
// RUN/CMD/ENTRYPOINT gets through the SHELL, and the config of `FROM scratch`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "minirun/dockerfile/instructions.h"

namespace minirun::build {

using ojson = nlohmann::ordered_json;

// Go's %q of a []string: ["a" "b c"] (each element a Go quoted string).
std::string go_quoted_list(const std::vector<std::string>& v);

// The image's shell: config.Shell, else ["/bin/sh", "-c"].
std::vector<std::string> image_shell(const ojson& image);

// A command line's argv: the exec form as is; the shell form as SHELL + [line].
std::vector<std::string> command_argv(const dockerfile::CommandLine& cmd, const std::vector<std::string>& shell);

// config.Env as (key, value) pairs, in order.
std::vector<std::pair<std::string, std::string>> image_env(const ojson& image);

// The working directory a WORKDIR path gives from the current one (relative paths joined, cleaned).
std::string resolve_workdir(const std::string& current, const std::string& path);

// Applies a config-only instruction (already expanded) to the image JSON; returns false for
// any other instruction (FROM, ARG, RUN, COPY, ...: nothing changed). cmd_set is the stage's
// "CMD given in this stage": ENTRYPOINT resets an inherited CMD only when it is false.
bool apply_config_instruction(ojson& image, const dockerfile::Instruction& ins, bool& cmd_set);

// The history text BuildKit records for an (expanded) instruction; shell is the stage's SHELL
// (for RUN's shell form). run_args are the ARGs in scope with their values, which BuildKit
// writes before a RUN's command: "RUN |2 A=1 B=2 /bin/sh -c make # buildkit".
std::string created_by(const dockerfile::Instruction& ins, const std::vector<std::string>& shell,
                       const std::vector<std::pair<std::string, std::string>>& run_args = {});

// Appends {"created", "created_by", "empty_layer": true when empty} to image.history and sets
// image.created.
void add_history(ojson& image, const std::string& created_by, bool empty_layer, const std::string& created);

// Adds BuildKit's default PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
// to config.Env when the image sets no PATH, as BuildKit does for every stage's base; returns
// whether it was added.
bool ensure_default_path(ojson& image);

// The config of `FROM scratch`: linux on this machine's architecture, no layers, no history.
ojson scratch_config();

}  // namespace minirun::build

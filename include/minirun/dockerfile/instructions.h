// instructions.h — a parsed Dockerfile (dockerfile_parser's Nodes) → typed instructions
// grouped into stages, as BuildKit's frontend/dockerfile/instructions builds them.
//
// It owns: each instruction's arguments and flags checked and typed, with Docker's error
// words ("COPY requires at least two arguments, ...", "unknown flag: --x", "unknown
// instruction: FOO"); the JSON (exec) vs shell form of RUN/CMD/ENTRYPOINT/HEALTHCHECK; heredoc
// sources of COPY/ADD and heredoc files of RUN; RUN --mount parsing; the ARGs before the
// first FROM (meta args) apart from the stages; the predefined proxy args; and the table of
// which parts of which instruction the builder expands with the current environment
// (expand_instruction). Nothing here runs anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "minirun/dockerfile/dockerfile_parser.h"
#include "minirun/dockerfile/shell_lex.h"

namespace minirun::dockerfile {

struct Location {
  int start_line = 0;
  int end_line = 0;
  std::string original;  // the logical line as written
};

struct KeyValue {
  std::string key;
  std::string value;
  bool no_delim = false;  // the legacy "ENV key value" form
};

struct FromInstruction {
  Location loc;
  std::string base;        // the image (or stage) name, unexpanded
  std::string stage_name;  // "AS name", lower-cased; "" when none
  std::string platform;    // --platform, unexpanded
};

struct ArgInstruction {
  Location loc;
  struct Arg {
    std::string key;
    std::optional<std::string> value;
  };
  std::vector<Arg> args;
};

struct EnvInstruction {
  Location loc;
  std::vector<KeyValue> pairs;
};

struct LabelInstruction {
  Location loc;
  std::vector<KeyValue> pairs;
};

struct MaintainerInstruction {
  Location loc;
  std::string maintainer;
};

// A heredoc given to RUN: the shell reads it (its expansion is the shell's).
struct InlineFile {
  std::string name;
  std::string data;
  bool chomp = false;
};

// A command line: exec form (JSON, run as is) or shell form (one string, the SHELL prepended).
struct CommandLine {
  std::vector<std::string> args;
  bool prepend_shell = false;  // shell form
  std::vector<InlineFile> files;
};

struct Mount {
  std::string type = "bind";  // bind, cache, tmpfs, secret, ssh
  std::string from, source, target;
  bool readonly = false;
  bool required = false;
  std::string cache_id;
  std::string sharing;  // cache: shared (default), private, locked
  std::optional<uint32_t> mode, uid, gid;
  std::optional<int64_t> size;  // tmpfs, bytes
  std::optional<std::string> env;
};

struct RunInstruction {
  Location loc;
  CommandLine cmd;
  std::vector<std::string> mount_flags;  // --mount values, unexpanded (see parse_mount)
  std::string network;                   // --network: default, none, host ("" when not given)
  std::string security;                  // --security: sandbox, insecure ("" when not given)
  std::vector<std::string> device_flags;  // --device values (CDI names), as written
};

struct CmdInstruction {
  Location loc;
  CommandLine cmd;
};

struct EntrypointInstruction {
  Location loc;
  CommandLine cmd;  // args empty (not one "") for an empty ENTRYPOINT
};

// A heredoc given to COPY/ADD as a source: a file with this content.
struct SourceContent {
  std::string path;
  std::string data;
  bool expand = true;
};

struct CopyInstruction {
  Location loc;
  std::vector<std::string> sources;
  std::vector<SourceContent> contents;
  std::string dest;
  std::string from, chown, chmod;
  bool link = false, parents = false;
  std::vector<std::string> excludes;
};

struct AddInstruction {
  Location loc;
  std::vector<std::string> sources;
  std::vector<SourceContent> contents;
  std::string dest;
  std::string chown, chmod, checksum;
  bool link = false;
  std::optional<bool> keep_git_dir, unpack;
  std::vector<std::string> excludes;
};

struct WorkdirInstruction {
  Location loc;
  std::string path;
};

struct UserInstruction {
  Location loc;
  std::string user;
};

struct ExposeInstruction {
  Location loc;
  std::vector<std::string> ports;  // sorted, as BuildKit keeps them
};

struct VolumeInstruction {
  Location loc;
  std::vector<std::string> volumes;
};

struct StopsignalInstruction {
  Location loc;
  std::string signal;
};

// Docker's Healthcheck config: test {"NONE"}, {"CMD", args...} or {"CMD-SHELL", line}.
struct HealthcheckInstruction {
  Location loc;
  std::vector<std::string> test;
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
  int retries = 0;
};

struct ShellInstruction {
  Location loc;
  std::vector<std::string> shell;
};

struct OnbuildInstruction {
  Location loc;
  std::string expression;  // the trigger as written after ONBUILD (heredocs appended)
};

using Instruction =
    std::variant<FromInstruction, ArgInstruction, EnvInstruction, LabelInstruction, MaintainerInstruction,
                 RunInstruction, CmdInstruction, EntrypointInstruction, CopyInstruction, AddInstruction,
                 WorkdirInstruction, UserInstruction, ExposeInstruction, VolumeInstruction, StopsignalInstruction,
                 HealthcheckInstruction, ShellInstruction, OnbuildInstruction>;

struct Stage {
  FromInstruction from;
  std::vector<Instruction> commands;
};

struct Dockerfile {
  std::vector<ArgInstruction> meta_args;  // the ARGs before the first FROM
  std::vector<Stage> stages;
  char escape = '\\';
  std::vector<std::string> warnings;
};

// One parsed line → its instruction. Throws minirun::Error with Docker's message (no line).
Instruction parse_instruction(const Node& node);

// A whole file: instructions grouped into stages. Errors: "dockerfile parse error on line N:
// ..."; an instruction before any FROM (other than ARG): "no build stage in current context".
Dockerfile parse_instructions(const ParseResult& parsed);
Dockerfile parse_dockerfile_instructions(std::string_view text);

// The instruction's source line.
const Location& location_of(const Instruction& ins);

// The args every build knows without an ARG: the proxy variables (HTTP_PROXY, http_proxy,
// HTTPS_PROXY, https_proxy, FTP_PROXY, ftp_proxy, NO_PROXY, no_proxy, ALL_PROXY, all_proxy).
const std::vector<std::string>& predefined_args();
bool is_predefined_arg(const std::string& name);

// The args BuildKit sets without an ARG: BUILDPLATFORM, BUILDOS, BUILDOSVERSION, BUILDARCH,
// BUILDVARIANT, the five TARGET* ones and TARGETSTAGE. The builder computes their values and
// passes them in build_args; they are then in scope for FROM lines.
bool is_automatic_arg(const std::string& name);

// The global scope of the FROM lines (BuildKit's buildMetaArgs): the automatic args given in
// build_args, then each meta arg in order: a build arg given for it wins; else its default,
// expanded with what came before; with neither it stays unset. Names are never expanded.
std::vector<std::pair<std::string, std::string>> resolve_meta_args(
    const std::vector<ArgInstruction>& meta_args, const std::vector<std::pair<std::string, std::string>>& build_args,
    char escape = '\\');

// The value an ARG inside a stage gives its variable (BuildKit's dispatchArg): a build arg given
// for it; else its default expanded with the stage's environment; else, without a default, the
// global (meta) value of that name; else unset (nullopt).
std::optional<std::string> resolve_stage_arg(const ArgInstruction::Arg& arg, const EnvLookup& stage_env,
                                             const std::vector<std::pair<std::string, std::string>>& meta,
                                             const std::vector<std::pair<std::string, std::string>>& build_args,
                                             char escape = '\\');

// A stage's FROM with its base name and --platform expanded with the meta args. Throws when
// the name comes out empty ("base name (...) should not be blank").
FromInstruction expand_from(const FromInstruction& from, const std::vector<std::pair<std::string, std::string>>& meta,
                            char escape = '\\');

// Substitutes, in place, the parts of an instruction that Docker's builder expands with the
// environment at that point of the stage:
//   ENV, LABEL: keys and values; WORKDIR, USER, STOPSIGNAL: the word;
//   VOLUME: each path; EXPOSE: each port (split into words); COPY/ADD: sources, destination,
//   --chown, --chmod (ADD: --checksum), and heredoc contents not quoted (quotes kept there);
//   RUN: only the --mount values (parsed: use parse_mount). Not expanded: RUN/CMD/ENTRYPOINT/
//   SHELL/HEALTHCHECK commands (the shell's business), MAINTAINER, ONBUILD, COPY --from (an
//   error when it holds a variable), ARG (see resolve_stage_arg).
void expand_instruction(Instruction& ins, const EnvLookup& env, char escape = '\\');

// A RUN --mount value (CSV of key=value) with each value expanded; Docker's checks and defaults
// (bind/secret/ssh read-only unless rw; cache sharing "shared").
Mount parse_mount(std::string_view value, const EnvLookup& env, char escape = '\\');

}  // namespace minirun::dockerfile

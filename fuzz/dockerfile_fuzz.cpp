// dockerfile_fuzz.cpp — libFuzzer target over the Dockerfile front end (build/): the bytes as a
// Dockerfile (parsed, typed, FROM lines and every instruction expanded, RUN mounts parsed), as
// a .dockerignore (matched against a few paths) and as one word for the variable lexer. A
// malformed input may only ever give a minirun::Error: any other exception, a crash or an
// out-of-bounds read is a finding.
#include <cstdint>
#include <string_view>

#include "minirun/dockerfile/dockerignore.h"
#include "minirun/dockerfile/instructions.h"
#include "minirun/dockerfile/shell_lex.h"
#include "minirun/util/error.h"

using namespace minirun::dockerfile;

namespace {

template <typename F>
void tolerate_errors(F&& f) {
  try {
    f();
  } catch (const minirun::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  EnvLookup env = env_lookup({{"A", "a b"}, {"EMPTY", ""}, {"PATH", "/usr/bin:/bin"}});
  tolerate_errors([&] {
    Dockerfile df = parse_dockerfile_instructions(in);
    auto meta = resolve_meta_args(df.meta_args, {{"TARGETARCH", "amd64"}, {"A", "x"}}, df.escape);
    for (auto& stage : df.stages) {
      tolerate_errors([&] { (void)expand_from(stage.from, meta, df.escape); });
      for (auto& ins : stage.commands) {
        tolerate_errors([&] { expand_instruction(ins, env, df.escape); });
        if (auto* arg = std::get_if<ArgInstruction>(&ins))
          for (const auto& a : arg->args) tolerate_errors([&] { (void)resolve_stage_arg(a, env, meta, {}, df.escape); });
        if (auto* run = std::get_if<RunInstruction>(&ins))
          for (const auto& m : run->mount_flags) tolerate_errors([&] { (void)parse_mount(m, env, df.escape); });
      }
    }
  });
  tolerate_errors([&] {
    DockerIgnore ignore = DockerIgnore::from_text(in);
    for (const char* path : {"a", "a/b/c", "src/main.go", ".git/config", "x y/z", "../up"}) {
      (void)ignore.excluded(path);
      (void)ignore.may_include_below(path);
    }
  });
  tolerate_errors([&] { (void)ShellLex().process_words(in, env); });
  tolerate_errors([&] { (void)ShellLex('`').process_word(in, env); });
  return 0;
}

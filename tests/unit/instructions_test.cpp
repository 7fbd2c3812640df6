// Parsed Dockerfile lines → typed instructions and stages: Docker's checks and messages, the
// meta args, the expansion table and RUN --mount.
#include <gtest/gtest.h>

#include "minirun/dockerfile/instructions.h"
#include "minirun/util/error.h"

using namespace minirun::dockerfile;
using minirun::Error;

namespace {

Dockerfile parse(const std::string& text) { return parse_dockerfile_instructions(text); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

template <typename T>
const T& only(const Dockerfile& df, size_t i = 0) {
  return std::get<T>(df.stages.at(0).commands.at(i));
}

}  // namespace

TEST(Instructions, StagesMetaArgsAndFrom) {
  auto df = parse(
      "ARG BASE=alpine\n"
      "ARG TAG\n"
      "FROM --platform=linux/arm64 ${BASE}:${TAG:-3} AS Build\n"
      "RUN true\n"
      "FROM scratch\n"
      "COPY --from=build /a /b\n");
  ASSERT_EQ(df.meta_args.size(), 2u);
  ASSERT_EQ(df.stages.size(), 2u);
  EXPECT_EQ(df.stages[0].from.base, "${BASE}:${TAG:-3}");
  EXPECT_EQ(df.stages[0].from.stage_name, "build");
  EXPECT_EQ(df.stages[0].from.platform, "linux/arm64");
  EXPECT_EQ(df.stages[0].from.loc.start_line, 3);
  EXPECT_EQ(df.stages[1].from.stage_name, "");
  auto meta = resolve_meta_args(
      df.meta_args, {{"TAG", "3.19"}, {"HTTP_PROXY", "http://p"}, {"OTHER", "x"}, {"TARGETARCH", "arm64"}});
  EXPECT_EQ(meta, (std::vector<std::pair<std::string, std::string>>{
                      {"TARGETARCH", "arm64"}, {"BASE", "alpine"}, {"TAG", "3.19"}}));
  EXPECT_EQ(expand_from(df.stages[0].from, meta).base, "alpine:3.19");
  EXPECT_EQ(expand_from(df.stages[0].from, resolve_meta_args(df.meta_args, {})).base, "alpine:3");
  FromInstruction blank{{7, 7, "FROM $NONE"}, "$NONE", "", ""};
  try {
    expand_from(blank, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "dockerfile parse error on line 7: base name ($NONE) should not be blank");
  }
  EXPECT_TRUE(is_predefined_arg("no_proxy"));
  EXPECT_FALSE(is_predefined_arg("PATH"));
}

TEST(Instructions, DockerMessages) {
  EXPECT_EQ(error_of("FROM x\nBOGUS bar\n"), "dockerfile parse error on line 2: unknown instruction: BOGUS");
  EXPECT_EQ(error_of("FROM x\nFOO bar\n"),
            "dockerfile parse error on line 2: unknown instruction: FOO (did you mean FROM?)");
  EXPECT_EQ(error_of("FROM x\nRUNN true\n"),
            "dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)");
  EXPECT_EQ(error_of("FROM x\ncopyy a b\n"),
            "dockerfile parse error on line 2: unknown instruction: copyy (did you mean copy?)");
  EXPECT_EQ(error_of("RUN true\n"), "dockerfile parse error on line 1: no build stage in current context");
  EXPECT_EQ(error_of("FROM x\nCOPY a\n"),
            "dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. "
            "Destination could not be determined");
  EXPECT_EQ(error_of("FROM x\nCOPY --form=a b c\n"),
            "dockerfile parse error on line 2: unknown flag: --form (did you mean from?)");
  EXPECT_EQ(error_of("FROM x\nCOPY --from a b\n"), "dockerfile parse error on line 2: missing a value on flag: --from");
  EXPECT_EQ(error_of("FROM x\nCOPY --link=maybe a b\n"),
            "dockerfile parse error on line 2: expecting boolean value for flag --link, not: maybe");
  EXPECT_EQ(error_of("FROM x\nCOPY --from=a --from=b a b\n"),
            "dockerfile parse error on line 2: duplicate flag specified: --from");
  EXPECT_EQ(error_of("FROM x y\n"), "dockerfile parse error on line 1: FROM requires either one or three arguments");
  EXPECT_EQ(error_of("FROM x AS 1st\n"),
            "dockerfile parse error on line 1: invalid name for build stage: \"1st\", name can't start with a number "
            "or contain symbols");
  EXPECT_EQ(error_of("FROM x\nWORKDIR\n"), "dockerfile parse error on line 2: WORKDIR requires exactly one argument");
  EXPECT_EQ(error_of("FROM x\nEXPOSE\n"), "dockerfile parse error on line 2: EXPOSE requires at least one argument");
  EXPECT_EQ(error_of("FROM x\nSHELL sh -c\n"), "dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form");
  EXPECT_EQ(error_of("FROM x\nONBUILD ONBUILD RUN x\n"),
            "dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  EXPECT_EQ(error_of("FROM x\nONBUILD FROM y\n"), "dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger");
  EXPECT_EQ(error_of("FROM x\nARG =1\n"), "dockerfile parse error on line 2: ARG names can not be blank");
  EXPECT_EQ(error_of("FROM x\nCOPY a <<EOF\nx\nEOF\n"),
            "dockerfile parse error on line 2: COPY cannot accept a heredoc as a destination");
  EXPECT_EQ(error_of("FROM x\nVOLUME [\"\"]\n"),
            "dockerfile parse error on line 2: VOLUME specified can not be an empty string");
  EXPECT_EQ(error_of("FROM x\nRUN --network=bridge true\n"), "dockerfile parse error on line 2: invalid network mode \"bridge\"");
}

TEST(Instructions, RunCmdEntrypointForms) {
  auto df = parse(
      "FROM x\n"
      "RUN --mount=type=cache,target=/root/.cache --network=none apt-get update && \\\n"
      "  apt-get install -y curl\n"
      "RUN [\"/bin/sh\", \"-c\", \"echo hi\"]\n"
      "CMD echo $HOME\n"
      "ENTRYPOINT []\n"
      "RUN <<EOF\n"
      "echo a\n"
      "EOF\n");
  const auto& run = only<RunInstruction>(df, 0);
  EXPECT_EQ(run.cmd.args, (std::vector<std::string>{"apt-get update &&   apt-get install -y curl"}));
  EXPECT_TRUE(run.cmd.prepend_shell);
  EXPECT_EQ(run.mount_flags, (std::vector<std::string>{"type=cache,target=/root/.cache"}));
  EXPECT_EQ(run.network, "none");
  EXPECT_TRUE(run.device_flags.empty());
  auto dev = parse("FROM x\nRUN --device=vendor.com/gpu=all,required --security=insecure true\n");
  EXPECT_EQ(only<RunInstruction>(dev).device_flags, (std::vector<std::string>{"vendor.com/gpu=all,required"}));
  EXPECT_EQ(only<RunInstruction>(dev).security, "insecure");
  EXPECT_EQ(error_of("FROM x\nRUN --security=root true\n"), "dockerfile parse error on line 2: security \"root\" is not valid");
  // Flag values: booleans in any case, strings may be empty, a bool with "=" needs a value.
  auto flags = parse("FROM x\nCOPY --link=TRUE --chown= a b\n");
  EXPECT_TRUE(only<CopyInstruction>(flags).link);
  EXPECT_EQ(only<CopyInstruction>(flags).chown, "");
  EXPECT_EQ(error_of("FROM x\nCOPY --link= a b\n"), "dockerfile parse error on line 2: missing a value on flag: --link");
  EXPECT_EQ(error_of("FROM x\nCOPY -- a b\n"), "");
  const auto& exec = only<RunInstruction>(df, 1);
  EXPECT_FALSE(exec.cmd.prepend_shell);
  EXPECT_EQ(exec.cmd.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(only<CmdInstruction>(df, 2).cmd.args, (std::vector<std::string>{"echo $HOME"}));
  EXPECT_TRUE(only<EntrypointInstruction>(df, 3).cmd.args.empty());
  const auto& heredoc = only<RunInstruction>(df, 4);
  EXPECT_EQ(heredoc.cmd.args, (std::vector<std::string>{"<<EOF"}));
  ASSERT_EQ(heredoc.cmd.files.size(), 1u);
  EXPECT_EQ(heredoc.cmd.files[0].data, "echo a\n");
}

TEST(Instructions, CopyAndAdd) {
  auto df = parse(
      "FROM x\n"
      "COPY --from=build --chown=1:2 --chmod=0755 --link a b /dst/\n"
      "COPY <<-EOF /etc/conf\n"
      "\tkey=$V\n"
      "\tEOF\n"
      "ADD --checksum=sha256:abc --keep-git-dir=false https://x/y.tar /z\n");
  const auto& c = only<CopyInstruction>(df, 0);
  EXPECT_EQ(c.sources, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.dest, "/dst/");
  EXPECT_EQ(c.from, "build");
  EXPECT_EQ(c.chown, "1:2");
  EXPECT_EQ(c.chmod, "0755");
  EXPECT_TRUE(c.link);
  const auto& h = only<CopyInstruction>(df, 1);
  EXPECT_TRUE(h.sources.empty());
  ASSERT_EQ(h.contents.size(), 1u);
  EXPECT_EQ(h.contents[0].path, "EOF");
  EXPECT_EQ(h.contents[0].data, "key=$V\n");
  EXPECT_TRUE(h.contents[0].expand);
  const auto& a = only<AddInstruction>(df, 2);
  EXPECT_EQ(a.checksum, "sha256:abc");
  ASSERT_TRUE(a.keep_git_dir);
  EXPECT_FALSE(*a.keep_git_dir);
  EXPECT_FALSE(a.unpack);
}

TEST(Instructions, EnvLabelArgExposeVolumeHealthcheck) {
  auto df = parse(
      "FROM x\n"
      "ENV A=1 B=\"two words\"\n"
      "ENV LEGACY value with spaces\n"
      "LABEL org.x=y\n"
      "ARG V W=2\n"
      "EXPOSE 8080 80/udp\n"
      "VOLUME /a /b\n"
      "VOLUME [\"/c\"]\n"
      "HEALTHCHECK --interval=30s --timeout=5s --start-period=1m --retries=3 CMD curl -f http://localhost/\n"
      "HEALTHCHECK CMD [\"true\"]\n"
      "HEALTHCHECK NONE\n"
      "STOPSIGNAL SIGTERM\n"
      "USER app:app\n"
      "WORKDIR /srv\n"
      "SHELL [\"/bin/bash\", \"-c\"]\n"
      "ONBUILD RUN echo hi\n"
      "MAINTAINER me\n");
  const auto& env = only<EnvInstruction>(df, 0);
  ASSERT_EQ(env.pairs.size(), 2u);
  EXPECT_EQ(env.pairs[1].key, "B");
  EXPECT_EQ(env.pairs[1].value, "\"two words\"");
  const auto& legacy = only<EnvInstruction>(df, 1);
  EXPECT_EQ(legacy.pairs[0].value, "value with spaces");
  EXPECT_TRUE(legacy.pairs[0].no_delim);
  EXPECT_EQ(only<LabelInstruction>(df, 2).pairs[0].key, "org.x");
  const auto& arg = only<ArgInstruction>(df, 3);
  EXPECT_FALSE(arg.args[0].value);
  EXPECT_EQ(arg.args[1].value.value_or(""), "2");
  EXPECT_EQ(only<ExposeInstruction>(df, 4).ports, (std::vector<std::string>{"80/udp", "8080"}));
  EXPECT_EQ(only<VolumeInstruction>(df, 5).volumes, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(only<VolumeInstruction>(df, 6).volumes, (std::vector<std::string>{"/c"}));
  const auto& hc = only<HealthcheckInstruction>(df, 7);
  EXPECT_EQ(hc.test, (std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/"}));
  EXPECT_EQ(hc.interval_ns, 30000000000);
  EXPECT_EQ(hc.timeout_ns, 5000000000);
  EXPECT_EQ(hc.start_period_ns, 60000000000);
  EXPECT_EQ(hc.retries, 3);
  EXPECT_EQ(only<HealthcheckInstruction>(df, 8).test, (std::vector<std::string>{"CMD", "true"}));
  EXPECT_EQ(only<HealthcheckInstruction>(df, 9).test, (std::vector<std::string>{"NONE"}));
  EXPECT_EQ(only<StopsignalInstruction>(df, 10).signal, "SIGTERM");
  EXPECT_EQ(only<UserInstruction>(df, 11).user, "app:app");
  EXPECT_EQ(only<WorkdirInstruction>(df, 12).path, "/srv");
  EXPECT_EQ(only<ShellInstruction>(df, 13).shell, (std::vector<std::string>{"/bin/bash", "-c"}));
  EXPECT_EQ(only<OnbuildInstruction>(df, 14).expression, "RUN echo hi");
  EXPECT_EQ(only<MaintainerInstruction>(df, 15).maintainer, "me");
  EXPECT_EQ(location_of(df.stages[0].commands[15]).start_line, 17);
  EXPECT_EQ(error_of("FROM x\nHEALTHCHECK --interval=1us CMD true\n"),
            "dockerfile parse error on line 2: Interval \"interval\" cannot be less than 1ms");
  EXPECT_EQ(error_of("FROM x\nHEALTHCHECK --retries=-1 CMD true\n"),
            "dockerfile parse error on line 2: --retries cannot be negative (-1)");
  EXPECT_EQ(error_of("FROM x\nHEALTHCHECK NONE x\n"), "dockerfile parse error on line 2: HEALTHCHECK NONE takes no arguments");
  EXPECT_EQ(error_of("FROM x\nHEALTHCHECK CMD\n"), "dockerfile parse error on line 2: Missing command after HEALTHCHECK CMD");
  EXPECT_EQ(error_of("FROM x\nHEALTHCHECK FOO x\n"),
            "dockerfile parse error on line 2: Unknown type \"FOO\" in HEALTHCHECK (try CMD)");
}

TEST(Instructions, ExpansionTable) {
  auto df = parse(
      "FROM x\n"
      "ENV \"A\"=\"$V/x\" B='$V'\n"
      "WORKDIR $V/w\n"
      "USER ${U:-root}\n"
      "EXPOSE $PORTS\n"
      "COPY --chown=$U $V/src ${V}dst\n"
      "RUN echo $V\n"
      "CMD echo $V\n"
      "COPY <<EOF <<'RAW' /d/\n"
      "\"$V\"\n"
      "EOF\n"
      "$V\n"
      "RAW\n"
      "COPY --from=$V a b\n");
  auto env = env_lookup({{"V", "/v"}, {"U", "app"}, {"PORTS", "80 443/udp"}});
  auto& cmds = df.stages[0].commands;
  for (size_t i = 0; i + 1 < cmds.size(); ++i) expand_instruction(cmds[i], env);
  const auto& e = std::get<EnvInstruction>(cmds[0]);
  EXPECT_EQ(e.pairs[0].key, "A");
  EXPECT_EQ(e.pairs[0].value, "/v/x");
  EXPECT_EQ(e.pairs[1].value, "$V");
  EXPECT_EQ(std::get<WorkdirInstruction>(cmds[1]).path, "/v/w");
  EXPECT_EQ(std::get<UserInstruction>(cmds[2]).user, "app");
  EXPECT_EQ(std::get<ExposeInstruction>(cmds[3]).ports, (std::vector<std::string>{"80", "443/udp"}));
  const auto& c = std::get<CopyInstruction>(cmds[4]);
  EXPECT_EQ(c.chown, "app");
  EXPECT_EQ(c.sources, (std::vector<std::string>{"/v/src"}));
  EXPECT_EQ(c.dest, "/vdst");
  EXPECT_EQ(std::get<RunInstruction>(cmds[5]).cmd.args, (std::vector<std::string>{"echo $V"}));
  EXPECT_EQ(std::get<CmdInstruction>(cmds[6]).cmd.args, (std::vector<std::string>{"echo $V"}));
  const auto& h = std::get<CopyInstruction>(cmds[7]);
  EXPECT_EQ(h.contents.at(0).data, "\"/v\"\n");  // quotes kept in heredoc content
  EXPECT_EQ(h.contents.at(1).data, "$V\n");      // quoted delimiter: not expanded
  try {
    expand_instruction(cmds[8], env);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("variable expansion is not supported for --from"), std::string::npos);
  }
}

TEST(Instructions, Mounts) {
  auto env = env_lookup({{"ID", "npm"}});
  Mount m = parse_mount("type=cache,target=/root/.npm,id=$ID,sharing=locked,mode=0700,uid=1000", env);
  EXPECT_EQ(m.type, "cache");
  EXPECT_EQ(m.target, "/root/.npm");
  EXPECT_EQ(m.cache_id, "npm");
  EXPECT_EQ(m.sharing, "locked");
  EXPECT_EQ(m.mode.value_or(0), 0700u);
  EXPECT_EQ(m.uid.value_or(0), 1000u);
  EXPECT_FALSE(m.readonly);
  Mount b = parse_mount("target=/src,from=build,source=/out", env);
  EXPECT_EQ(b.type, "bind");
  EXPECT_TRUE(b.readonly);
  EXPECT_FALSE(parse_mount("type=bind,target=/x,rw", env).readonly);
  EXPECT_EQ(parse_mount("type=cache,target=/x", env).sharing, "shared");
  Mount t = parse_mount("type=tmpfs,target=/t,size=64m", env);
  EXPECT_EQ(t.size.value_or(0), 64 * 1024 * 1024);
  Mount s = parse_mount("type=secret,id=token,required", env);
  EXPECT_TRUE(s.required);
  EXPECT_TRUE(s.readonly);
  auto err = [&](const std::string& v) {
    try {
      parse_mount(v, env);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(err("type=volume,target=/x"), "unsupported mount type \"volume\"");
  EXPECT_EQ(err("type=cahce,target=/x"), "unsupported mount type \"cahce\" (did you mean cache?)");
  EXPECT_EQ(err("target=/x,mode=0700"), "mode not allowed for \"bind\" type mounts");
  EXPECT_EQ(err("type=cache,target=/x,sharing=wide"), "unsupported sharing value \"wide\"");
  EXPECT_EQ(err("type=secret,from=x,id=y"), "secret mount should not have a from");
  EXPECT_EQ(err("type=bind,required"), "unexpected key 'required' for mount type 'bind'");
  EXPECT_EQ(err("type=bind,xyzzy=1"), "unexpected key 'xyzzy' in 'xyzzy=1'");
  EXPECT_EQ(err("type=bind,foo=bar"), "unexpected key 'foo' in 'foo=bar' (did you mean from?)");
  EXPECT_EQ(err("type=bind,bogus"), "invalid field 'bogus' must be a key=value pair");
}

namespace {

std::string instruction_error(const Node& n) {
  try {
    parse_instruction(n);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string first_instruction_error(const std::string& text) {
  return instruction_error(parse_dockerfile(text).instructions.at(0));
}

Node node(const std::string& command, std::vector<std::string> args) {
  Node n;
  n.command = command;
  n.args = std::move(args);
  return n;
}

}  // namespace

// BuildKit's instructions/parse_test.go cases.
TEST(Instructions, BuildKitParseCases) {
  for (const char* cmd : {"MAINTAINER", "WORKDIR", "USER", "STOPSIGNAL"})
    EXPECT_EQ(first_instruction_error(cmd), std::string(cmd) + " requires exactly one argument");
  for (const char* cmd : {"ENV", "LABEL", "ONBUILD", "HEALTHCHECK", "EXPOSE", "VOLUME"})
    EXPECT_EQ(first_instruction_error(cmd), std::string(cmd) + " requires at least one argument");
  for (const char* cmd : {"ADD", "COPY"})
    EXPECT_EQ(first_instruction_error(std::string(cmd) + " arg1"),
              std::string(cmd) +
                  " requires at least two arguments, but only one was provided. Destination could not be determined");
  for (const char* cmd : {"ENV", "LABEL"}) {
    EXPECT_EQ(instruction_error(node(cmd, {"arg1", "arg2", "arg3", ""})),
              "Bad input to " + std::string(cmd) + ", too many arguments");
    EXPECT_EQ(instruction_error(node(cmd, {"", "arg2", "="})), std::string(cmd) + " names can not be blank");
  }
  auto hc = parse_instruction(node("healthcheck", {"CMD", "hello", "world"}));
  EXPECT_EQ(std::get<HealthcheckInstruction>(hc).test, (std::vector<std::string>{"CMD-SHELL", "hello world"}));
  EXPECT_EQ(first_instruction_error("COPY\t\n\t\tquux \\\n      bar"),
            "COPY requires at least two arguments, but only one was provided. Destination could not be determined");
  EXPECT_EQ(first_instruction_error("ONBUILD FROM scratch"), "FROM isn't allowed as an ONBUILD trigger");
  EXPECT_EQ(first_instruction_error("MAINTAINER --boo joe@example.com"), "unknown flag: --boo");
  EXPECT_EQ(first_instruction_error("ONBUILD ONBUILD RUN touch foobar"),
            "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  EXPECT_EQ(first_instruction_error("foo bar"), "unknown instruction: foo (did you mean from?)");
  // parseOptInterval: under 1ms refused, 0 and 1ms accepted.
  EXPECT_EQ(first_instruction_error("HEALTHCHECK --interval=50ns CMD true"),
            "Interval \"interval\" cannot be less than 1ms");
  EXPECT_EQ(first_instruction_error("HEALTHCHECK --interval=0ms --timeout=1ms CMD true"), "");
}

TEST(Instructions, ArgScoping) {
  auto df = parse(
      "ARG VERSION=1.0\n"
      "ARG OTHER\n"
      "ARG DERIVED=${VERSION}-d\n"
      "FROM x\n"
      "ARG VERSION\n"
      "ARG OTHER\n"
      "ARG LOCAL=$VERSION-l\n"
      "ARG GIVEN=default\n"
      "ARG ${NOT_EXPANDED}\n");
  auto meta = resolve_meta_args(df.meta_args, {});
  EXPECT_EQ(meta, (std::vector<std::pair<std::string, std::string>>{{"VERSION", "1.0"}, {"DERIVED", "1.0-d"}}));
  auto with_cli = resolve_meta_args(df.meta_args, {{"VERSION", "2.0"}, {"OTHER", "o"}});
  EXPECT_EQ(with_cli, (std::vector<std::pair<std::string, std::string>>{
                          {"VERSION", "2.0"}, {"OTHER", "o"}, {"DERIVED", "2.0-d"}}));
  const auto& cmds = df.stages[0].commands;
  auto arg = [&](size_t i) { return std::get<ArgInstruction>(cmds.at(i)).args.at(0); };
  auto value = [](const std::optional<std::string>& v) { return v.value_or("<unset>"); };
  // Without a default, the global value; a build arg always wins; a default is expanded with
  // the stage's environment.
  EXPECT_EQ(value(resolve_stage_arg(arg(0), empty_env(), meta, {})), "1.0");
  EXPECT_EQ(value(resolve_stage_arg(arg(1), empty_env(), meta, {})), "<unset>");
  EXPECT_EQ(value(resolve_stage_arg(arg(2), env_lookup({{"VERSION", "1.0"}}), meta, {})), "1.0-l");
  EXPECT_EQ(value(resolve_stage_arg(arg(3), empty_env(), meta, {{"GIVEN", "cli"}})), "cli");
  EXPECT_EQ(value(resolve_stage_arg(arg(3), empty_env(), meta, {})), "default");
  EXPECT_EQ(arg(4).key, "${NOT_EXPANDED}");
  Instruction unexpanded = cmds.at(4);
  expand_instruction(unexpanded, env_lookup({{"NOT_EXPANDED", "x"}}));
  EXPECT_EQ(std::get<ArgInstruction>(unexpanded).args.at(0).key, "${NOT_EXPANDED}");
  EXPECT_TRUE(is_automatic_arg("TARGETSTAGE"));
  EXPECT_FALSE(is_automatic_arg("HTTP_PROXY"));
}

// The builder's pure parts: config edits of the config-only instructions and the history
// text BuildKit records for each.
#include <gtest/gtest.h>

#include "minirun/build/build_config.h"
#include "minirun/build/chown_spec.h"
#include "minirun/build/context_copy.h"
#include "minirun/dockerfile/instructions.h"
#include "minirun/util/error.h"

namespace minirun::build {
namespace {

dockerfile::Instruction one(const std::string& line) {
  auto df = dockerfile::parse_dockerfile_instructions("FROM scratch\n" + line + "\n");
  auto ins = df.stages.at(0).commands.at(0);
  dockerfile::expand_instruction(ins, dockerfile::empty_env());
  return ins;
}

TEST(BuildConfig, CreatedByTakesBuildKitsForm) {
  std::vector<std::string> sh = {"/bin/sh", "-c"};
  EXPECT_EQ(created_by(one("ENV A=1 B=\"two words\""), sh), "ENV A=1 B=two words");
  EXPECT_EQ(created_by(one("LABEL x=y"), sh), "LABEL x=y");
  EXPECT_EQ(created_by(one("WORKDIR /app"), sh), "WORKDIR /app");
  EXPECT_EQ(created_by(one("USER 1000:1000"), sh), "USER 1000:1000");
  EXPECT_EQ(created_by(one("CMD [\"cat\", \"/app/f\"]"), sh), "CMD [\"cat\" \"/app/f\"]");
  EXPECT_EQ(created_by(one("CMD echo \"hi\""), sh), "CMD [\"/bin/sh\" \"-c\" \"echo \\\"hi\\\"\"]");
  EXPECT_EQ(created_by(one("ENTRYPOINT [\"/bin/sh\"]"), sh), "ENTRYPOINT [\"/bin/sh\"]");
  EXPECT_EQ(created_by(one("EXPOSE 80 53/udp 443"), sh), "EXPOSE map[443/tcp:{} 53/udp:{} 80/tcp:{}]");
  EXPECT_EQ(created_by(one("VOLUME /data /logs"), sh), "VOLUME [/data /logs]");
  EXPECT_EQ(created_by(one("STOPSIGNAL SIGINT"), sh), "STOPSIGNAL SIGINT");
  EXPECT_EQ(created_by(one("SHELL [\"/bin/bash\", \"-c\"]"), sh), "SHELL [/bin/bash -c]");
  EXPECT_EQ(created_by(one("RUN echo hi > /f"), sh), "RUN /bin/sh -c echo hi > /f # buildkit");
  EXPECT_EQ(created_by(one("RUN [\"touch\", \"/f\"]"), sh), "RUN touch /f # buildkit");
  EXPECT_EQ(created_by(one("RUN make"), sh, {{"A", "1"}, {"B", "x y"}}), "RUN |2 A=1 B=x y /bin/sh -c make # buildkit");
  EXPECT_EQ(created_by(one("COPY a b /dst/"), sh), "COPY a b /dst/ # buildkit");
  EXPECT_EQ(created_by(one("ADD a.tar /dst/"), sh), "ADD a.tar /dst/ # buildkit");
  EXPECT_EQ(created_by(one("HEALTHCHECK --interval=5m --timeout=3s --retries=3 CMD curl -f http://x/ || exit 1"), sh),
            "HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f http://x/ || exit 1\"] \"5m0s\" \"3s\" \"0s\" \"0s\" '\\x03'}");
  EXPECT_EQ(created_by(one("HEALTHCHECK --retries=10 CMD [\"true\"]"), sh),
            "HEALTHCHECK &{[\"CMD\" \"true\"] \"0s\" \"0s\" \"0s\" \"0s\" '\\n'}");
  EXPECT_EQ(created_by(one("HEALTHCHECK --retries=65 CMD [\"true\"]"), sh),
            "HEALTHCHECK &{[\"CMD\" \"true\"] \"0s\" \"0s\" \"0s\" \"0s\" 'A'}");
  EXPECT_EQ(created_by(one("HEALTHCHECK NONE"), sh), "HEALTHCHECK &{[\"NONE\"] \"0s\" \"0s\" \"0s\" \"0s\" '\\x00'}");
  EXPECT_EQ(created_by(one("ONBUILD RUN make"), sh), "ONBUILD RUN make");
}

TEST(BuildConfig, HealthcheckAndOnbuildInTheConfig) {
  ojson img = scratch_config();
  bool cmd_set = false;
  EXPECT_TRUE(apply_config_instruction(img, one("HEALTHCHECK --interval=30s --start-period=1s CMD [\"true\"]"), cmd_set));
  EXPECT_EQ(img["config"]["Healthcheck"],
            ojson::parse(R"({"Test":["CMD","true"],"Interval":30000000000,"StartPeriod":1000000000})"));
  EXPECT_TRUE(apply_config_instruction(img, one("HEALTHCHECK NONE"), cmd_set));
  EXPECT_EQ(img["config"]["Healthcheck"], ojson::parse(R"({"Test":["NONE"]})"));
  EXPECT_TRUE(apply_config_instruction(img, one("ONBUILD RUN a"), cmd_set));
  EXPECT_TRUE(apply_config_instruction(img, one("onbuild copy x /y"), cmd_set));
  EXPECT_EQ(img["config"]["OnBuild"], ojson::parse(R"(["RUN a","copy x /y"])"));
}

TEST(BuildConfig, ConfigOnlyInstructionsEditTheConfig) {
  ojson img = scratch_config();
  bool cmd_set = false;
  EXPECT_TRUE(apply_config_instruction(img, one("ENV A=1 B=2"), cmd_set));
  EXPECT_TRUE(apply_config_instruction(img, one("ENV A=3"), cmd_set));
  EXPECT_EQ(img["config"]["Env"], ojson::parse(R"(["A=3","B=2"])"));
  EXPECT_TRUE(apply_config_instruction(img, one("WORKDIR /app"), cmd_set));
  EXPECT_TRUE(apply_config_instruction(img, one("WORKDIR sub/../x"), cmd_set));
  EXPECT_EQ(img["config"]["WorkingDir"], "/app/x");
  EXPECT_TRUE(apply_config_instruction(img, one("LABEL a=b"), cmd_set));
  EXPECT_EQ(img["config"]["Labels"]["a"], "b");
  EXPECT_TRUE(apply_config_instruction(img, one("EXPOSE 80 53/udp"), cmd_set));
  EXPECT_TRUE(img["config"]["ExposedPorts"].contains("80/tcp"));
  EXPECT_TRUE(img["config"]["ExposedPorts"].contains("53/udp"));
  EXPECT_TRUE(apply_config_instruction(img, one("VOLUME /data"), cmd_set));
  EXPECT_TRUE(img["config"]["Volumes"].contains("/data"));
  EXPECT_TRUE(apply_config_instruction(img, one("USER nobody"), cmd_set));
  EXPECT_EQ(img["config"]["User"], "nobody");
  EXPECT_TRUE(apply_config_instruction(img, one("STOPSIGNAL SIGINT"), cmd_set));
  EXPECT_EQ(img["config"]["StopSignal"], "SIGINT");
  EXPECT_FALSE(apply_config_instruction(img, one("RUN true"), cmd_set));
  EXPECT_TRUE(apply_config_instruction(img, one("SHELL [\"/bin/ash\", \"-eo\"]"), cmd_set));
  EXPECT_TRUE(apply_config_instruction(img, one("CMD echo hi"), cmd_set));
  EXPECT_EQ(img["config"]["Cmd"], ojson::parse(R"(["/bin/ash","-eo","echo hi"])"));
  EXPECT_TRUE(cmd_set);
}

TEST(BuildConfig, EntrypointResetsAnInheritedCmdOnly) {
  ojson img = scratch_config();
  img["config"]["Cmd"] = {"sh"};
  bool cmd_set = false;
  apply_config_instruction(img, one("ENTRYPOINT [\"/bin/app\"]"), cmd_set);
  EXPECT_TRUE(img["config"]["Cmd"].is_null());
  EXPECT_EQ(img["config"]["Entrypoint"], ojson::parse(R"(["/bin/app"])"));
  apply_config_instruction(img, one("CMD [\"-v\"]"), cmd_set);
  apply_config_instruction(img, one("ENTRYPOINT [\"/bin/other\"]"), cmd_set);
  EXPECT_EQ(img["config"]["Cmd"], ojson::parse(R"(["-v"])"));
}

TEST(BuildConfig, HistoryEntriesOfConfigStepsAreEmptyLayers) {
  ojson img = scratch_config();
  add_history(img, "ENV A=1", true, "2024-01-01T00:00:00Z");
  add_history(img, "RUN /bin/sh -c true # buildkit", false, "2024-01-01T00:00:01Z");
  ASSERT_EQ(img["history"].size(), 2u);
  EXPECT_EQ(img["history"][0]["empty_layer"], true);
  EXPECT_FALSE(img["history"][1].contains("empty_layer"));
  EXPECT_EQ(img["created"], "2024-01-01T00:00:01Z");
}

TEST(BuildConfig, GoQuotingAndChown) {
  EXPECT_EQ(go_quoted_list({"a b", "c\"d", "e\\f", "g\nh"}), "[\"a b\" \"c\\\"d\" \"e\\\\f\" \"g\\nh\"]");
  EXPECT_EQ(resolve_chown("", std::nullopt, std::nullopt), (std::pair<uid_t, gid_t>{0, 0}));
  EXPECT_EQ(resolve_chown("1000", std::nullopt, std::nullopt), (std::pair<uid_t, gid_t>{1000, 1000}));
  EXPECT_EQ(resolve_chown("10:20", std::nullopt, std::nullopt), (std::pair<uid_t, gid_t>{10, 20}));
  EXPECT_THROW(resolve_chown("user:group", std::nullopt, std::nullopt), Error);
  EXPECT_EQ(resolve_workdir("", "app"), "/app");
  EXPECT_EQ(resolve_workdir("/a", "../../b/"), "/b");
}

}  // namespace
}  // namespace minirun::build

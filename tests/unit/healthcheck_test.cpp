// A container's health check as configured: the --health-* flags with Docker's CLI and daemon
// checks and messages, the image's HEALTHCHECK JSON both ways, Docker's merge of the two, and the
// probe the monitor runs with Docker's defaults.
#include <gtest/gtest.h>

#include "minirun/engine/healthcheck.h"
#include "minirun/util/error.h"

using namespace minirun;

namespace {

constexpr int64_t kS = 1000000000;

std::string refusal(const HealthFlags& f) {
  try {
    health_config_from_flags(f);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 125);
    return e.what();
  }
  return "";
}

}  // namespace

TEST(HealthFlags, NoneGivenIsNoConfig) { EXPECT_FALSE(health_config_from_flags({})); }

TEST(HealthFlags, BecomeACmdShellConfig) {
  HealthFlags f;
  f.cmd = "wget -q localhost || exit 1";
  f.interval = "2s";
  f.timeout = "500ms";
  f.start_period = "1m";
  f.start_interval = "100ms";
  f.retries = 5;
  auto c = health_config_from_flags(f);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->test, (std::vector<std::string>{"CMD-SHELL", "wget -q localhost || exit 1"}));
  EXPECT_EQ(c->interval, 2 * kS);
  EXPECT_EQ(c->timeout, kS / 2);
  EXPECT_EQ(c->start_period, 60 * kS);
  EXPECT_EQ(c->start_interval, kS / 10);
  EXPECT_EQ(c->retries, 5);
}

TEST(HealthFlags, SettingsWithoutACommandKeepTheImagesTest) {
  HealthFlags f;
  f.interval = "5s";
  auto c = health_config_from_flags(f);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->test.empty());
  EXPECT_EQ(c->interval, 5 * kS);
}

TEST(HealthFlags, NoHealthcheckIsNone) {
  HealthFlags f;
  f.none = true;
  auto c = health_config_from_flags(f);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->test, std::vector<std::string>{"NONE"});
  f.retries = 2;
  EXPECT_EQ(refusal(f), "--no-healthcheck conflicts with --health-* options");
  f.retries = 0;
  f.cmd = "true";
  EXPECT_EQ(refusal(f), "--no-healthcheck conflicts with --health-* options");
}

TEST(HealthFlags, DockersMessagesForBadValues) {
  HealthFlags f;
  f.interval = "-1s";
  EXPECT_EQ(refusal(f), "--health-interval cannot be negative");
  f = {};
  f.timeout = "-1s";
  EXPECT_EQ(refusal(f), "--health-timeout cannot be negative");
  f = {};
  f.retries = -1;
  EXPECT_EQ(refusal(f), "--health-retries cannot be negative");
  f = {};
  f.start_period = "-5m";
  EXPECT_EQ(refusal(f), "--health-start-period cannot be negative");
  f = {};
  f.start_interval = "-1ms";
  EXPECT_EQ(refusal(f), "--health-start-interval cannot be negative");
  f = {};
  f.interval = "abc";
  EXPECT_EQ(refusal(f), "invalid argument \"abc\" for \"--health-interval\" flag: time: invalid duration \"abc\"");
  f = {};
  f.interval = "500us";
  EXPECT_EQ(refusal(f), "Interval in Healthcheck cannot be less than 1ms");
  f = {};
  f.timeout = "10ns";
  EXPECT_EQ(refusal(f), "Timeout in Healthcheck cannot be less than 1ms");
  f = {};
  f.start_period = "1us";
  EXPECT_EQ(refusal(f), "StartPeriod in Healthcheck cannot be less than 1ms");
  f = {};
  f.start_interval = "1us";
  EXPECT_EQ(refusal(f), "StartInterval in Healthcheck cannot be less than 1ms");
}

TEST(HealthConfigJson, ReadsAnImagesHealthcheck) {
  const std::string text =
      R"({"Test":["CMD","curl","-f","http://localhost/"],"Interval":10000000000,"Timeout":3000000000,)"
      R"("StartPeriod":20000000000,"StartInterval":1000000000,"Retries":4})";
  auto j = nlohmann::json::parse(text);
  auto c = health_config_from_json(j);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->test, (std::vector<std::string>{"CMD", "curl", "-f", "http://localhost/"}));
  EXPECT_EQ(c->interval, 10 * kS);
  EXPECT_EQ(c->timeout, 3 * kS);
  EXPECT_EQ(c->start_period, 20 * kS);
  EXPECT_EQ(c->start_interval, kS);
  EXPECT_EQ(c->retries, 4);
  EXPECT_EQ(healthcheck_json(*c).dump(), text) << "written back as read, in Docker's order";
  EXPECT_FALSE(health_config_from_json(nullptr));
  EXPECT_THROW(health_config_from_json(nlohmann::json::parse(R"({"Test":"CMD true"})")), Error);
  EXPECT_THROW(health_config_from_json(nlohmann::json::parse(R"({"Interval":"30s"})")), Error);
}

TEST(HealthConfigJson, ZerosAndAnEmptyTestAreLeftOut) {
  HealthConfig c;
  c.interval = 2 * kS;
  EXPECT_EQ(healthcheck_json(c).dump(), R"({"Interval":2000000000})");
  EXPECT_EQ(healthcheck_json(HealthConfig{{"NONE"}}).dump(), R"({"Test":["NONE"]})");
}

TEST(HealthMerge, DockersRules) {
  HealthConfig image{{"CMD-SHELL", "check"}, 10 * kS, 3 * kS, 5 * kS, kS, 4};
  EXPECT_EQ(merge_health_config(std::nullopt, image), image);
  EXPECT_FALSE(merge_health_config(std::nullopt, std::nullopt));
  HealthConfig user;
  user.interval = 2 * kS;
  EXPECT_EQ(merge_health_config(user, std::nullopt), user);
  auto m = merge_health_config(user, image);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->test, image.test) << "no --health-cmd: the image's test";
  EXPECT_EQ(m->interval, 2 * kS) << "the flag wins";
  EXPECT_EQ(m->timeout, 3 * kS);
  EXPECT_EQ(m->start_period, 5 * kS);
  EXPECT_EQ(m->start_interval, kS);
  EXPECT_EQ(m->retries, 4);
  auto none = merge_health_config(HealthConfig{{"NONE"}}, image);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->test, std::vector<std::string>{"NONE"});
  EXPECT_EQ(none->interval, 10 * kS) << "Docker fills the NONE config's other fields from the image's too";
  EXPECT_FALSE(health_probe(none)) << "--no-healthcheck disables the image's";
}

TEST(HealthProbe, DefaultsAndCommands) {
  auto p = health_probe(HealthConfig{{"CMD-SHELL", "test -f /ready"}});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->argv, (std::vector<std::string>{"/bin/sh", "-c", "test -f /ready"}));
  EXPECT_EQ(p->interval, 30 * kS);
  EXPECT_EQ(p->timeout, 30 * kS);
  EXPECT_EQ(p->start_period, 0);
  EXPECT_EQ(p->start_interval, 5 * kS);
  EXPECT_EQ(p->retries, 3);
  auto shell = health_probe(HealthConfig{{"CMD-SHELL", "x"}}, {"/bin/bash", "-ec"});
  ASSERT_TRUE(shell);
  EXPECT_EQ(shell->argv, (std::vector<std::string>{"/bin/bash", "-ec", "x"})) << "the image's SHELL";
  auto cmd = health_probe(HealthConfig{{"CMD", "/bin/check", "--quick"}, kS, 2 * kS, 3 * kS, 4 * kS, 7});
  ASSERT_TRUE(cmd);
  EXPECT_EQ(cmd->argv, (std::vector<std::string>{"/bin/check", "--quick"}));
  EXPECT_EQ(cmd->interval, kS);
  EXPECT_EQ(cmd->timeout, 2 * kS);
  EXPECT_EQ(cmd->start_period, 3 * kS);
  EXPECT_EQ(cmd->start_interval, 4 * kS);
  EXPECT_EQ(cmd->retries, 7);
  EXPECT_FALSE(health_probe(std::nullopt));
  EXPECT_FALSE(health_probe(HealthConfig{}));
  EXPECT_FALSE(health_probe(HealthConfig{{"NONE"}}));
  EXPECT_FALSE(health_probe(HealthConfig{{"HTTP", "x"}}));
}

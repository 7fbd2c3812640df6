// Health checks (monitor/health.h, engine/healthcheck.h) on real containers: the --health-*
// flags and an image's HEALTHCHECK, probes exec'd in the container by its monitor, `ps`'s
// STATUS and health= filter, inspect's State.Health and Config.Healthcheck. Short intervals,
// every wait bounded; every container removed in TearDown.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "container_fixture.h"
#include "minirun/util/digest.h"
#include "testutil.h"

using namespace minirun::test;
using json = nlohmann::json;

namespace {

class Health : public ContainerTest {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    make_store("minirun-health-");
  }
  void TearDown() override {
    if (!t_) return;
    remove_containers();
    expect_no_mounts_left();
  }

  // State.Health once its status is `want` (up to 15 s); null when it never was.
  json health_when(const std::string& ref, const std::string& want) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      json st = state(ref);
      if (st.is_object() && st["State"].contains("Health") && st["State"]["Health"]["Status"] == want)
        return st["State"]["Health"];
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }

  std::string ps_ids(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"ps", "-aq"};
    args.insert(args.end(), extra.begin(), extra.end());
    return mr(args).out;
  }
};

// A docker-archive of busybox tagged t/hc:1 whose config has this Healthcheck (as `docker save`
// writes one: the config, the layer, manifest.json).
std::string archive_with_healthcheck(const std::string& healthcheck) {
  TestImage img;
  img.layers = {busybox_rootfs().build()};
  finish_config(img);
  json cfg = json::parse(img.config_json);
  cfg["config"]["Healthcheck"] = json::parse(healthcheck);
  const std::string config = cfg.dump();
  const std::string id = minirun::sha256_digest(config).substr(7);
  json manifest = json::array({{{"Config", id + ".json"}, {"RepoTags", {"t/hc:1"}}, {"Layers", {"l0/layer.tar"}}}});
  return ustar(id + ".json", '0', config) + ustar("l0/layer.tar", '0', img.layers[0]) +
         ustar("manifest.json", '0', manifest.dump()) + std::string(1024, '\0');
}

}  // namespace

TEST_F(Health, StartingThenHealthyWhenTheProbeSucceedsInTheContainer) {
  // The file the probe looks for exists only in the container, once it has made it; the probe
  // also sees the container's environment.
  std::string id = run_d({"--name", "web", "-e", "MARK=on", "--health-cmd", "test -f /health-ready && test \"$MARK\" = on",
                          "--health-interval", "300ms", "--health-start-period", "30s", "--health-start-interval",
                          "200ms", "t/bb", "sh", "-c", "sleep 2; touch /health-ready; exec sleep 100"});
  json st = state("web");
  ASSERT_TRUE(st.is_object());
  ASSERT_TRUE(st["State"].contains("Health")) << st.dump();
  EXPECT_EQ(st["State"]["Health"]["Status"], "starting");
  EXPECT_NE(mr({"ps"}).out.find("(health: starting)"), std::string::npos) << mr({"ps"}).out;
  EXPECT_EQ(ps_ids({"-f", "health=starting"}), id.substr(0, 12) + "\n");
  EXPECT_EQ(st["Config"]["Healthcheck"],
            json::parse(R"({"Test":["CMD-SHELL","test -f /health-ready && test \"$MARK\" = on"],)"
                        R"("Interval":300000000,"StartPeriod":30000000000,"StartInterval":200000000})"));

  json h = health_when("web", "healthy");
  ASSERT_TRUE(h.is_object()) << state("web")["State"].dump();
  EXPECT_EQ(h["FailingStreak"], 0);
  ASSERT_GE(h["Log"].size(), 2u) << "failures while the file was missing, then a success";
  EXPECT_EQ(h["Log"].back()["ExitCode"], 0);
  EXPECT_NE(h["Log"].front()["ExitCode"], 0);
  EXPECT_LE(h["Log"].size(), 5u);
  std::string ps = mr({"ps"}).out;
  EXPECT_NE(ps.find("(healthy)"), std::string::npos) << ps;
  EXPECT_EQ(ps_ids({"-f", "health=healthy"}), id.substr(0, 12) + "\n");
  EXPECT_EQ(ps_ids({"-f", "health=unhealthy"}), "");
  EXPECT_EQ(ps_ids({"-f", "health=none"}), "");
  EXPECT_EQ(mr({"inspect", "-f", "{{.State.Health.Status}}", "web"}).out, "healthy\n");

  // Stopped: the monitor's check ends unhealthy (Docker's), and ps shows Exited without it.
  EXPECT_EQ(mr({"stop", "-t", "1", "web"}).code, 0);
  EXPECT_EQ(state("web")["State"]["Health"]["Status"], "unhealthy");
  EXPECT_EQ(mr({"ps", "-a", "--format", "{{.Status}}"}).out.find("Exited"), 0u);
}

TEST_F(Health, UnhealthyAfterRetriesFailuresWithTheProbesOutput) {
  std::string id = run_d({"--name", "sick", "--health-cmd", "echo sick; exit 1", "--health-interval", "100ms",
                          "--health-retries", "2", "t/bb", "sleep", "100"});
  json h = health_when("sick", "unhealthy");
  ASSERT_TRUE(h.is_object()) << state("sick")["State"].dump();
  EXPECT_GE(h["FailingStreak"].get<int>(), 2);
  EXPECT_EQ(h["Log"].back()["ExitCode"], 1);
  EXPECT_EQ(h["Log"].back()["Output"], "sick\n");
  EXPECT_NE(mr({"ps"}).out.find("(unhealthy)"), std::string::npos);
  EXPECT_EQ(ps_ids({"-f", "health=unhealthy"}), id.substr(0, 12) + "\n");
}

TEST_F(Health, ATimedOutProbeFailsWithDockersMessage) {
  run_d({"--name", "slow", "--health-cmd", "sleep 5", "--health-interval", "100ms", "--health-timeout", "300ms",
         "--health-retries", "1", "t/bb", "sleep", "100"});
  json h = health_when("slow", "unhealthy");
  ASSERT_TRUE(h.is_object()) << state("slow")["State"].dump();
  EXPECT_EQ(h["Log"].back()["ExitCode"], -1);
  EXPECT_EQ(h["Log"].back()["Output"], "Health check exceeded timeout (300ms)");
}

TEST_F(Health, AnImagesHealthcheckRunsAndTheFlagsOverrideOrDisableIt) {
  write_file(*t_ / "hc.tar",
             archive_with_healthcheck(R"({"Test":["CMD","/bin/sh","-c","echo from-image"],"Interval":200000000,"Retries":5})"));
  ASSERT_EQ(mr({"load", "-i", *t_ / "hc.tar"}).code, 0);

  run_d({"--name", "img", "t/hc:1", "sleep", "100"});
  json h = health_when("img", "healthy");
  ASSERT_TRUE(h.is_object()) << state("img")["State"].dump();
  EXPECT_EQ(h["Log"].back()["Output"], "from-image\n");
  EXPECT_EQ(state("img")["Config"]["Healthcheck"]["Retries"], 5);

  // --health-interval over the image's: its test and retries stay.
  run_d({"--name", "merged", "--health-interval", "150ms", "t/hc:1", "sleep", "100"});
  json m = state("merged")["Config"]["Healthcheck"];
  EXPECT_EQ(m, json::parse(R"({"Test":["CMD","/bin/sh","-c","echo from-image"],"Interval":150000000,"Retries":5})"));
  EXPECT_TRUE(health_when("merged", "healthy").is_object());

  // --no-healthcheck: no probe, no State.Health; ps shows plain "Up" and health=none finds it.
  std::string none = run_d({"--name", "none", "--no-healthcheck", "t/hc:1", "sleep", "100"});
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  json st = state("none");
  EXPECT_FALSE(st["State"].contains("Health")) << st["State"].dump();
  // Docker's merge fills the NONE config's other fields from the image's too.
  EXPECT_EQ(st["Config"]["Healthcheck"], json::parse(R"({"Test":["NONE"],"Interval":200000000,"Retries":5})"));
  EXPECT_EQ(ps_ids({"-f", "health=none"}), none.substr(0, 12) + "\n");
}

TEST_F(Health, AForegroundRunProbesToo) {
  // `run` without -d: the running minirun probes on a thread; unhealthy once it has exited.
  pid_t runner = spawn_cmd(cmd({"run", "--name", "fg", "--network", "none", "--health-cmd", "echo fg-probe",
                                "--health-interval", "100ms", "t/bb", "sleep", "3"}));
  json h = health_when("fg", "healthy");
  ASSERT_TRUE(h.is_object()) << state("fg").dump();
  EXPECT_EQ(h["Log"].back()["Output"], "fg-probe\n");
  EXPECT_NE(mr({"ps"}).out.find("(healthy)"), std::string::npos);
  int st = 0;
  EXPECT_EQ(::waitpid(runner, &st, 0), runner);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  EXPECT_EQ(state("fg")["State"]["Health"]["Status"], "unhealthy");
}

TEST_F(Health, InvalidFlagsAreRefusedBeforeAnyContainerExists) {
  auto neg = mr({"run", "-d", "--health-interval", "-1s", "--health-cmd", "true", "t/bb", "true"});
  EXPECT_EQ(neg.code, 125);
  EXPECT_NE(neg.err.find("--health-interval cannot be negative"), std::string::npos) << neg.err;
  auto conflict = mr({"run", "-d", "--no-healthcheck", "--health-cmd", "true", "t/bb", "true"});
  EXPECT_EQ(conflict.code, 125);
  EXPECT_NE(conflict.err.find("--no-healthcheck conflicts with --health-* options"), std::string::npos) << conflict.err;
  auto tiny = mr({"create", "--health-timeout", "10us", "--health-cmd", "true", "t/bb", "true"});
  EXPECT_EQ(tiny.code, 125);
  EXPECT_NE(tiny.err.find("Timeout in Healthcheck cannot be less than 1ms"), std::string::npos) << tiny.err;
  EXPECT_EQ(ps_ids({}), "");
  auto bad = mr({"ps", "-f", "health=sick"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("Unrecognised filter value for health: sick"), std::string::npos) << bad.err;
}

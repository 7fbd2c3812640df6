// A container's health check, the engine's half, on a store in a TempDir
// (engine/container_health.h): the check recorded for a container, the prober's options from it
// (Docker's defaults, the state recorded before), the state file round trip, and the health
// shown once the container no longer runs.
#include <gtest/gtest.h>

#include "minirun/engine/container_health.h"
#include "minirun/store/store.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;

namespace {

ContainerRecord with_check(const std::string& id, ContainerStatus status) {
  ContainerRecord r;
  r.id = id;
  r.name = "h" + id.substr(0, 4);
  r.command = {"/bin/true"};
  r.status = status;
  r.image_id = std::string(64, '0');  // an image the store does not have: no SHELL of its own
  r.config = ContainerConfig::parse(R"({"Healthcheck":{"Test":["CMD-SHELL","exit 0"],"Interval":2000000000,"Retries":5}})");
  return r;
}

}  // namespace

TEST(ContainerHealth, TheRecordedCheck) {
  auto r = with_check(std::string(64, 'a'), ContainerStatus::running);
  auto c = container_health_config(r);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->test, (std::vector<std::string>{"CMD-SHELL", "exit 0"}));
  EXPECT_EQ(c->interval, 2000000000);
  EXPECT_EQ(c->retries, 5);
  r.config = ContainerConfig::parse(R"({"Env":[]})");
  EXPECT_FALSE(container_health_config(r));
  r.config = ContainerConfig::parse(R"({"Healthcheck":{"Test":"not a list"}})");
  EXPECT_FALSE(container_health_config(r));  // a record it cannot read: no check, no error
}

TEST(ContainerHealth, TheProbersOptionsFromTheRecordAndTheStateBefore) {
  TempDir t;
  Store store(t / "store");
  auto r = with_check(std::string(64, 'a'), ContainerStatus::running);
  store.put_container(r);
  monitor::HealthState before;
  before.status = "unhealthy";
  before.failing_streak = 2;
  before.log.push_back({1, 2, 1, "boom"});
  write_container_health(store, r.id, before);
  runtime::Spec spec;
  auto o = health_prober_options(store, r, spec);
  ASSERT_TRUE(o);
  // CMD-SHELL without an image SHELL: Docker's /bin/sh -c.
  EXPECT_EQ(o->check.argv, (std::vector<std::string>{"/bin/sh", "-c", "exit 0"}));
  EXPECT_EQ(o->check.interval, 2000000000);
  EXPECT_EQ(o->check.retries, 5);
  EXPECT_EQ(o->before.failing_streak, 2);
  ASSERT_EQ(o->before.log.size(), 1u);
  EXPECT_EQ(o->before.log[0].output, "boom");
  // Each change is written where inspect reads it.
  monitor::HealthState now;
  now.status = "healthy";
  o->on_health(now);
  EXPECT_EQ(read_container_health(store, r.id)->status, "healthy");

  auto none = r;
  none.config = ContainerConfig::parse(R"({"Healthcheck":{"Test":["NONE"]}})");
  EXPECT_FALSE(health_prober_options(store, none, spec));
  none.config = ContainerConfig::parse("{}");
  EXPECT_FALSE(health_prober_options(store, none, spec));
  EXPECT_FALSE(start_health_thread(store, none, spec, 1));
}

TEST(ContainerHealth, TheStateFileRoundTripAndTheHealthOfAStoppedContainer) {
  TempDir t;
  Store store(t / "store");
  auto r = with_check(std::string(64, 'b'), ContainerStatus::running);
  store.put_container(r);
  EXPECT_FALSE(read_container_health(store, r.id));
  EXPECT_FALSE(container_health(store, r));
  monitor::HealthState s;
  s.status = "healthy";
  s.log.push_back({100, 200, 0, "ok\n"});
  write_container_health(store, r.id, s);
  auto back = read_container_health(store, r.id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, "healthy");
  EXPECT_EQ(back->failing_streak, 0);
  ASSERT_EQ(back->log.size(), 1u);
  EXPECT_EQ(back->log[0].exit_code, 0);
  EXPECT_EQ(back->log[0].output, "ok\n");
  EXPECT_EQ(container_health(store, r)->status, "healthy");
  // Docker's stopped check: unhealthy once it no longer runs, whatever was written last.
  r.status = ContainerStatus::exited;
  EXPECT_EQ(container_health(store, r)->status, "unhealthy");
}

// The health check's state machine (monitor/health.h) on a fake clock: Docker's daemon/health.go
// semantics — starting until the first success, failures in the start period not counted while
// starting, unhealthy after Retries consecutive failures, the streak reset by a success, the
// last five results kept, the start interval while starting, the status after a stop and across
// a restart — and a probe's output and timeout as Docker records them.
#include <gtest/gtest.h>

#include "minirun/monitor/health.h"

using namespace minirun::monitor;

namespace {

constexpr int64_t kS = kSecondNs;
constexpr int64_t kT0 = 1765000000 * kS;  // the container's start on the fake clock

HealthResult result(int64_t start_s, int code, std::string out = "") {
  return {kT0 + start_s * kS, kT0 + start_s * kS + kS / 10, code, std::move(out)};
}

HealthCheck check(int retries = 3, int64_t start_period = 0) {
  HealthCheck c;
  c.argv = {"/bin/sh", "-c", "true"};
  c.interval = 10 * kS;
  c.timeout = 2 * kS;
  c.start_period = start_period;
  c.start_interval = kS;
  c.retries = retries;
  return c;
}

}  // namespace

TEST(HealthMachine, StartingUntilTheFirstSuccess) {
  HealthMachine m(check());
  m.started(kT0);
  EXPECT_EQ(m.state().status, "starting");
  EXPECT_FALSE(m.record(result(10, 1)));
  EXPECT_EQ(m.state().status, "starting");
  EXPECT_EQ(m.state().failing_streak, 1);
  EXPECT_TRUE(m.record(result(20, 0)));
  EXPECT_EQ(m.state().status, "healthy");
  EXPECT_EQ(m.state().failing_streak, 0);
}

TEST(HealthMachine, UnhealthyAfterRetriesConsecutiveFailures) {
  HealthMachine m(check(3));
  m.started(kT0);
  m.record(result(10, 0));
  EXPECT_FALSE(m.record(result(20, 1)));
  EXPECT_FALSE(m.record(result(30, 2)));
  EXPECT_EQ(m.state().status, "healthy") << "two failures of three: still healthy";
  EXPECT_TRUE(m.record(result(40, 1)));
  EXPECT_EQ(m.state().status, "unhealthy");
  EXPECT_EQ(m.state().failing_streak, 3);
  EXPECT_FALSE(m.record(result(50, 1)));
  EXPECT_EQ(m.state().failing_streak, 4) << "the streak keeps counting";
  EXPECT_TRUE(m.record(result(60, 0)));
  EXPECT_EQ(m.state().status, "healthy");
  EXPECT_EQ(m.state().failing_streak, 0);
}

TEST(HealthMachine, ASuccessBreaksTheStreak) {
  HealthMachine m(check(2));
  m.started(kT0);
  m.record(result(10, 1));
  m.record(result(20, 0));
  m.record(result(30, 1));
  EXPECT_EQ(m.state().status, "healthy");
  EXPECT_EQ(m.state().failing_streak, 1);
}

TEST(HealthMachine, ZeroRetriesMeansDockersThree) {
  HealthMachine m(check(0));
  m.started(kT0);
  m.record(result(1, 1));
  m.record(result(2, 1));
  EXPECT_EQ(m.state().status, "starting");
  m.record(result(3, 1));
  EXPECT_EQ(m.state().status, "unhealthy");
}

TEST(HealthMachine, FailuresInTheStartPeriodDoNotCountWhileStarting) {
  HealthMachine m(check(1, 30 * kS));
  m.started(kT0);
  EXPECT_FALSE(m.record(result(5, 1)));
  EXPECT_FALSE(m.record(result(29, 1)));
  EXPECT_EQ(m.state().status, "starting");
  EXPECT_EQ(m.state().failing_streak, 0);
  EXPECT_TRUE(m.record(result(30, 1))) << "a probe started at the period's end counts";
  EXPECT_EQ(m.state().status, "unhealthy");
  EXPECT_EQ(m.state().failing_streak, 1);
}

TEST(HealthMachine, OnceHealthyTheStartPeriodNoLongerShields) {
  HealthMachine m(check(1, 60 * kS));
  m.started(kT0);
  m.record(result(2, 0));
  EXPECT_TRUE(m.record(result(4, 1)));
  EXPECT_EQ(m.state().status, "unhealthy");
}

TEST(HealthMachine, KeepsTheLastFiveResultsOldestFirst) {
  HealthMachine m(check());
  m.started(kT0);
  for (int i = 0; i < 8; i++) m.record(result(i, i % 2, "run " + std::to_string(i)));
  ASSERT_EQ(m.state().log.size(), kHealthLogEntries);
  EXPECT_EQ(m.state().log.front().output, "run 3");
  EXPECT_EQ(m.state().log.back().output, "run 7");
  EXPECT_EQ(m.state().log.back().exit_code, 1);
}

TEST(HealthMachine, TheStartIntervalWhileStartingInTheStartPeriod) {
  HealthMachine m(check(3, 20 * kS));
  m.started(kT0);
  EXPECT_EQ(m.next_delay(kT0), kS) << "starting, in the start period: StartInterval";
  EXPECT_EQ(m.next_delay(kT0 + 20 * kS), 10 * kS) << "past the start period: Interval";
  m.record(result(3, 0));
  EXPECT_EQ(m.next_delay(kT0 + 4 * kS), 10 * kS) << "healthy: Interval";
  HealthMachine no_period(check());
  no_period.started(kT0);
  EXPECT_EQ(no_period.next_delay(kT0), 10 * kS) << "no start period: Interval from the first probe";
}

TEST(HealthMachine, AStopMakesItUnhealthyAndARestartStartsOverKeepingTheLog) {
  HealthMachine m(check());
  m.started(kT0);
  m.record(result(1, 0));
  m.record(result(2, 1));
  m.stopped();
  EXPECT_EQ(m.state().status, "unhealthy");
  m.started(kT0 + 100 * kS);
  EXPECT_EQ(m.state().status, "starting");
  EXPECT_EQ(m.state().failing_streak, 0);
  EXPECT_EQ(m.state().log.size(), 2u);
}

TEST(HealthMachine, AnEarlierStateIsContinued) {
  HealthState before;
  before.status = "unhealthy";
  before.failing_streak = 7;
  before.log = {result(1, 1, "old")};
  HealthMachine m(check(), before);
  m.started(kT0);
  EXPECT_EQ(m.state().status, "starting");
  m.record(result(2, 0, "new"));
  ASSERT_EQ(m.state().log.size(), 2u);
  EXPECT_EQ(m.state().log[0].output, "old");
}

TEST(ProbeOutput, KeepsDockers4096BytesThenDots) {
  ProbeOutput o;
  std::string a(4000, 'a'), b(200, 'b');
  o.append(a.data(), a.size());
  EXPECT_EQ(o.text(), a);
  o.append(b.data(), b.size());
  EXPECT_EQ(o.text(), a + std::string(96, 'b') + "...");
  o.append("c", 1);
  EXPECT_EQ(o.text().size(), kHealthOutputMax + 3);
  ProbeOutput exact;
  std::string full(kHealthOutputMax, 'x');
  exact.append(full.data(), full.size());
  EXPECT_EQ(exact.text(), full) << "exactly 4096 bytes are not truncated";
}

TEST(ProbeOutput, ATimeoutIsMinusOneWithDockersMessage) {
  ProbeOutput none;
  auto r = timed_out_result(kT0, kT0 + 2 * kS, 2 * kS, none);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.output, "Health check exceeded timeout (2s)");
  ProbeOutput some;
  some.append("partial\n", 8);
  EXPECT_EQ(timed_out_result(kT0, kT0, 1500 * 1000000, some).output, "Health check exceeded timeout (1.5s): partial\n");
}

TEST(HealthStateJson, DockersShapeAndBack) {
  HealthState s;
  s.status = "healthy";
  s.failing_streak = 0;
  s.log = {{kT0, kT0 + 123456789, 0, "ok\n"}, {kT0 + kS, kT0 + 2 * kS, -1, "bad \xff byte"}};
  std::string text = health_state_json(s);
  EXPECT_EQ(text.rfind(R"({"Status":"healthy","FailingStreak":0,"Log":[{"Start":")", 0), 0u) << text;
  auto back = parse_health_state(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, "healthy");
  ASSERT_EQ(back->log.size(), 2u);
  EXPECT_EQ(back->log[0].start, kT0);
  EXPECT_EQ(back->log[0].end, kT0 + 123456789);
  EXPECT_EQ(back->log[0].output, "ok\n");
  EXPECT_EQ(back->log[1].exit_code, -1);
  EXPECT_FALSE(parse_health_state("{}"));
  EXPECT_FALSE(parse_health_state("not json"));
}

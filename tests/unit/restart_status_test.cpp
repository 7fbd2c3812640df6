// Pure decisions: the restart policy (Docker's restart manager and back-off) and `ps` status
// strings (go-units HumanDuration, State.String()).
#include <gtest/gtest.h>

#include "minirun/engine/status_text.h"
#include "minirun/monitor/restart_policy.h"
#include "minirun/util/error.h"
#include "minirun/util/timefmt.h"

using namespace minirun;
using std::chrono::milliseconds;

TEST(RestartPolicy, ParsesDockersForms) {
  EXPECT_EQ(parse_restart_policy("no").kind, RestartPolicy::Kind::no);
  EXPECT_EQ(parse_restart_policy("always").kind, RestartPolicy::Kind::always);
  EXPECT_EQ(parse_restart_policy("unless-stopped").kind, RestartPolicy::Kind::unless_stopped);
  auto p = parse_restart_policy("on-failure:3");
  EXPECT_EQ(p.kind, RestartPolicy::Kind::on_failure);
  EXPECT_EQ(p.max_retries, 3);
  EXPECT_EQ(parse_restart_policy("on-failure").max_retries, 0);
  EXPECT_EQ(restart_policy_name(p), "on-failure");
  EXPECT_THROW(parse_restart_policy("sometimes"), Error);
  EXPECT_THROW(parse_restart_policy("always:3"), Error);
  EXPECT_THROW(parse_restart_policy("on-failure:x"), Error);
  EXPECT_THROW(parse_restart_policy("on-failure:"), Error);
}

TEST(RestartPolicy, NoNeverRestarts) {
  RestartState st;
  EXPECT_FALSE(decide_restart(parse_restart_policy("no"), st, 1, false, milliseconds(5)).restart);
  EXPECT_EQ(st.restart_count, 0);
}

TEST(RestartPolicy, BackOffDoublesFrom100msUpToAMinuteAndResetsAfter10s) {
  auto p = parse_restart_policy("always");
  RestartState st;
  std::vector<long> delays;
  for (int i = 0; i < 12; i++) {
    auto d = decide_restart(p, st, 0, false, milliseconds(50));
    ASSERT_TRUE(d.restart);
    delays.push_back(static_cast<long>(d.delay.count()));
  }
  EXPECT_EQ(delays[0], 100);
  EXPECT_EQ(delays[1], 200);
  EXPECT_EQ(delays[2], 400);
  EXPECT_EQ(delays[9], 51200);
  EXPECT_EQ(delays[10], 60000);
  EXPECT_EQ(delays[11], 60000);
  EXPECT_EQ(st.restart_count, 12);
  // A run of 10 s starts over at 100 ms; 9.9 s does not.
  EXPECT_EQ(decide_restart(p, st, 0, false, milliseconds(9900)).delay.count(), 60000);
  EXPECT_EQ(decide_restart(p, st, 0, false, milliseconds(10000)).delay.count(), 100);
  EXPECT_EQ(decide_restart(p, st, 0, false, milliseconds(10)).delay.count(), 200);
}

TEST(RestartPolicy, OnFailureOnlyOnNonZeroAndUpToTheCount) {
  auto p = parse_restart_policy("on-failure:2");
  RestartState st;
  EXPECT_FALSE(decide_restart(p, st, 0, false, milliseconds(1)).restart);
  EXPECT_TRUE(decide_restart(p, st, 1, false, milliseconds(1)).restart);
  EXPECT_TRUE(decide_restart(p, st, 137, false, milliseconds(1)).restart);
  EXPECT_FALSE(decide_restart(p, st, 1, false, milliseconds(1)).restart);
  EXPECT_EQ(st.restart_count, 2);
  RestartState unlimited;
  for (int i = 0; i < 50; i++) EXPECT_TRUE(decide_restart(parse_restart_policy("on-failure"), unlimited, 3, false, milliseconds(1)).restart);
}

TEST(RestartPolicy, AStopEndsEveryPolicy) {
  for (const char* name : {"always", "unless-stopped", "on-failure"}) {
    RestartState st;
    EXPECT_FALSE(decide_restart(parse_restart_policy(name), st, 143, true, milliseconds(1)).restart) << name;
    EXPECT_EQ(st.restart_count, 0);
  }
}

TEST(StatusText, HumanDurationFollowsGoUnits) {
  const int64_t s = 1000000000;
  EXPECT_EQ(human_duration(0), "Less than a second");
  EXPECT_EQ(human_duration(s / 2), "Less than a second");
  EXPECT_EQ(human_duration(s), "1 second");
  EXPECT_EQ(human_duration(59 * s), "59 seconds");
  EXPECT_EQ(human_duration(60 * s), "About a minute");
  EXPECT_EQ(human_duration(119 * s), "About a minute");
  EXPECT_EQ(human_duration(120 * s), "2 minutes");
  EXPECT_EQ(human_duration(59 * 60 * s), "59 minutes");
  EXPECT_EQ(human_duration(60 * 60 * s), "About an hour");
  EXPECT_EQ(human_duration(89 * 60 * s), "About an hour");
  EXPECT_EQ(human_duration(90 * 60 * s), "2 hours");  // rounded to the nearest hour
  EXPECT_EQ(human_duration(47 * 3600 * s), "47 hours");
  EXPECT_EQ(human_duration(48 * 3600 * s), "2 days");
  EXPECT_EQ(human_duration(14 * 86400 * s), "2 weeks");
  EXPECT_EQ(human_duration(60 * 86400 * s), "2 months");
  EXPECT_EQ(human_duration(730 * 86400 * s), "2 years");
}

TEST(StatusText, DockersStateStrings) {
  int64_t now;
  ASSERT_TRUE(parse_rfc3339("2026-11-26T12:00:00Z", now));
  EXPECT_EQ(status_text({"running", 0, "2026-11-26T11:59:57.5Z", ""}, now), "Up 2 seconds");
  EXPECT_EQ(status_text({"running", 0, "2026-11-26T11:58:30Z", ""}, now), "Up About a minute");
  EXPECT_EQ(status_text({"paused", 0, "2026-11-26T11:57:00Z", ""}, now), "Up 3 minutes (Paused)");
  EXPECT_EQ(status_text({"exited", 0, "2026-11-26T11:00:00Z", "2026-11-26T11:58:00Z"}, now), "Exited (0) 2 minutes ago");
  EXPECT_EQ(status_text({"exited", 137, "2026-11-26T11:00:00Z", "2026-11-26T11:59:59Z"}, now), "Exited (137) 1 second ago");
  EXPECT_EQ(status_text({"restarting", 1, "2026-11-26T11:00:00Z", "2026-11-26T11:59:55Z"}, now), "Restarting (1) 5 seconds ago");
  EXPECT_EQ(status_text({"created", 0, "", ""}, now), "Created");
  EXPECT_EQ(status_text({"exited", 0, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"}, now), "Created");
  EXPECT_EQ(status_text({"dead", 0, "2026-11-26T11:00:00Z", ""}, now), "Dead");
  EXPECT_EQ(status_text({"removing", 0, "2026-11-26T11:00:00Z", ""}, now), "Removal In Progress");
  // A clock that went backwards is not a negative duration.
  EXPECT_EQ(status_text({"running", 0, "2026-11-26T12:00:05Z", ""}, now), "Up Less than a second");
}

TEST(StatusText, HealthWhileRunning) {
  int64_t now;
  ASSERT_TRUE(parse_rfc3339("2026-11-26T12:00:00Z", now));
  EXPECT_EQ(status_text({"running", 0, "2026-11-26T11:58:00Z", "", "healthy"}, now), "Up 2 minutes (healthy)");
  EXPECT_EQ(status_text({"running", 0, "2026-11-26T11:58:00Z", "", "unhealthy"}, now), "Up 2 minutes (unhealthy)");
  EXPECT_EQ(status_text({"running", 0, "2026-11-26T11:59:55Z", "", "starting"}, now), "Up 5 seconds (health: starting)");
  // Docker shows it only while running: paused, restarting and exited say nothing of it.
  EXPECT_EQ(status_text({"paused", 0, "2026-11-26T11:57:00Z", "", "healthy"}, now), "Up 3 minutes (Paused)");
  EXPECT_EQ(status_text({"exited", 0, "2026-11-26T11:00:00Z", "2026-11-26T11:58:00Z", "unhealthy"}, now),
            "Exited (0) 2 minutes ago");
}

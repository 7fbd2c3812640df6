// A stored container's seccomp filter (engine/container_seccomp.h), on a store in a TempDir:
// none when privileged or unconfined, Docker's default for its capabilities, or the profile it
// was created with, kept in its directory; compiled from the store's cache.
#include <gtest/gtest.h>

#include <algorithm>

#include "minirun/engine/container_seccomp.h"
#include "minirun/engine/container_spec.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;

namespace {

bool allows(const runtime::Seccomp& s, const std::string& name) {
  return std::any_of(s.syscalls.begin(), s.syscalls.end(), [&](const runtime::SeccompSyscall& c) {
    return c.action == "SCMP_ACT_ALLOW" && std::find(c.names.begin(), c.names.end(), name) != c.names.end();
  });
}

ContainerRequest request(const std::string& id) {
  ContainerRequest req;
  req.id = id;
  req.argv = {"/bin/true"};
  return req;
}

}  // namespace

TEST(ContainerSeccomp, NoneWhenPrivilegedOrUnconfined) {
  TempDir t;
  Store store(t / "store");
  auto req = request(std::string(64, 'a'));
  req.privileged = true;
  EXPECT_FALSE(container_seccomp(store, req));
  EXPECT_EQ(container_seccomp_program(store, req), nullptr);
  req = request(std::string(64, 'a'));
  req.seccomp_unconfined = true;
  EXPECT_FALSE(container_seccomp(store, req));
}

TEST(ContainerSeccomp, DockersDefaultFollowsTheCapabilities) {
  TempDir t;
  Store store(t / "store");
  auto req = request(std::string(64, 'a'));
  auto plain = container_seccomp(store, req);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->default_action, "SCMP_ACT_ERRNO");
  EXPECT_TRUE(allows(*plain, "read"));
  EXPECT_FALSE(allows(*plain, "mount"));
  req.cap_add = {"SYS_ADMIN"};
  auto admin = container_seccomp(store, req);
  ASSERT_TRUE(admin);
  EXPECT_TRUE(allows(*admin, "mount"));  // Docker's profile opens mount to CAP_SYS_ADMIN
  auto program = container_seccomp_program(store, req);
  ASSERT_NE(program, nullptr);
  EXPECT_FALSE(program->empty());
}

TEST(ContainerSeccomp, TheProfileKeptAtCreationIsUsedAtEveryStart) {
  TempDir t;
  Store store(t / "store");
  const std::string cid(64, 'b');
  ContainerRecord rec;
  rec.id = cid;
  rec.name = "kept";
  rec.command = {"/bin/true"};
  store.put_container(rec);
  keep_container_seccomp_profile(store, cid,
                                 R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod"],"action":"SCMP_ACT_ERRNO"}]})");
  auto kept = container_seccomp(store, request(cid));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->default_action, "SCMP_ACT_ALLOW");
  ASSERT_EQ(kept->syscalls.size(), 1u);
  EXPECT_EQ(kept->syscalls[0].names, std::vector<std::string>{"chmod"});
  EXPECT_NE(container_seccomp_program(store, request(cid)), nullptr);
  keep_container_seccomp_profile(store, cid, "{not json");
  EXPECT_THROW(container_seccomp(store, request(cid)), Error);
}

// Capability names and the five sets as masks (runtime/capabilities.h), without applying them.
#include "minirun/runtime/capabilities.h"

#include <gtest/gtest.h>

#include "minirun/runtime/spec.h"
#include "minirun/util/error.h"

namespace minirun::runtime {
namespace {

TEST(Capabilities, NamesAndNumbersBothWaysInAnyCaseWithOrWithoutThePrefix) {
  EXPECT_EQ(capability_number("CAP_CHOWN"), 0);
  EXPECT_EQ(capability_number("NET_ADMIN"), 12);
  EXPECT_EQ(capability_number("cap_net_admin"), 12);
  EXPECT_EQ(capability_number("Sys_Admin"), 21);
  EXPECT_EQ(capability_number("CAP_NOPE"), -1);
  EXPECT_EQ(capability_number(""), -1);
  EXPECT_EQ(capability_name(12), "CAP_NET_ADMIN");
  EXPECT_EQ(capability_name(40), "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(capability_name(99), "CAP_99");
  for (int c = 0; c <= last_capability(); c++) EXPECT_EQ(capability_number(capability_name(c)), c) << c;
}

TEST(Capabilities, EveryNameTheKernelKnowsOnceInOrder) {
  auto all = all_capability_names();
  ASSERT_EQ(all.size(), static_cast<size_t>(last_capability() + 1));
  EXPECT_EQ(all.front(), "CAP_CHOWN");
  EXPECT_GE(last_capability(), 37);  // every kernel minirun runs on has CAP_AUDIT_READ
}

TEST(Capabilities, SetsBecomeMasksAndNoObjectMeansNone) {
  CapabilitySets none = capability_sets(std::nullopt);
  EXPECT_EQ(none.bounding | none.effective | none.inheritable | none.permitted | none.ambient, 0u);

  Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_NET_ADMIN", "kill"};
  c.effective = {"CAP_CHOWN"};
  c.permitted = {"CAP_CHOWN", "CAP_KILL"};
  c.ambient = {"CAP_KILL"};
  CapabilitySets s = capability_sets(c);
  EXPECT_EQ(s.bounding, (1ull << 0) | (1ull << 12) | (1ull << 5));
  EXPECT_EQ(s.effective, 1ull << 0);
  EXPECT_EQ(s.inheritable, 0u);
  EXPECT_EQ(s.permitted, (1ull << 0) | (1ull << 5));
  EXPECT_EQ(s.ambient, 1ull << 5);
}

TEST(Capabilities, AnUnknownNameIsRefusedNamingItsSet) {
  Capabilities c;
  c.bounding = {"CAP_CHOWN"};
  c.inheritable = {"CAP_FLY"};
  try {
    capability_sets(c);
    FAIL() << "an unknown capability was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"CAP_FLY\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("inheritable"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace minirun::runtime

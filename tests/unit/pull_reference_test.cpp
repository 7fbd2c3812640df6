// `pull NAME` as a whole (engine/pull_reference.h) where no registry answers: each place the
// image may come from is tried in order — the mirrors, then the origin — and the error names
// every one; a blocked registry is refused before any connection. Traffic only to closed ports on
// 127.0.0.1.
#include <gtest/gtest.h>

#include "minirun/engine/pull_reference.h"
#include "minirun/registry/registries_conf.h"
#include "minirun/store/store.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;

namespace {

PullRequest request(const std::string& input, std::vector<std::string>& tried) {
  PullRequest req;
  req.input = input;
  req.source.max_attempts = 1;
  req.source.read_auth_files = false;
  req.source.certs_dirs.clear();
  req.trying = [&tried](const Reference& ref, const registry::PullSource& from) {
    tried.push_back(ref.string() + " from " + from.reference.string());
  };
  return req;
}

}  // namespace

TEST(PullReference, MirrorsThenTheOriginAreTriedAndEveryFailureIsNamed) {
  TempDir t;
  Store store(t / "store");
  auto conf = registry::parse_registries_conf(R"(
[[registry]]
location = "127.0.0.1:1"
insecure = true
[[registry.mirror]]
location = "127.0.0.1:2/cache"
insecure = true
)",
                                              "test.conf");
  std::vector<std::string> tried;
  try {
    pull_reference(store, conf, request("127.0.0.1:1/app/x", tried));
    FAIL() << "pulled from closed ports";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("127.0.0.1:2/cache/app/x"), std::string::npos) << msg;
    EXPECT_NE(msg.find("127.0.0.1:1/app/x"), std::string::npos) << msg;
  }
  // The tag defaulted; the mirror first, the origin last.
  EXPECT_EQ(tried, (std::vector<std::string>{"127.0.0.1:1/app/x:latest from 127.0.0.1:2/cache/app/x:latest",
                                             "127.0.0.1:1/app/x:latest from 127.0.0.1:1/app/x:latest"}));
  EXPECT_TRUE(store.image_ids().empty());
}

TEST(PullReference, ABlockedRegistryOrAnInvalidNameIsRefusedBeforeAnyTry) {
  TempDir t;
  Store store(t / "store");
  auto conf = registry::parse_registries_conf(R"(
[[registry]]
location = "127.0.0.1:3"
blocked = true
)",
                                              "test.conf");
  std::vector<std::string> tried;
  EXPECT_THROW(pull_reference(store, conf, request("127.0.0.1:3/app/x:1", tried)), Error);
  EXPECT_THROW(pull_reference(store, conf, request("UPPER/Case:1", tried)), Error);
  EXPECT_TRUE(tried.empty());
}

// build_fixture.cpp — see build_fixture.h.
#include "build_fixture.h"

#include <filesystem>

#include "testutil.h"

namespace minirun::test {

void BuildTest::SetUp() {
  MINIRUN_REQUIRE_ROOT();
  ASSERT_NO_FATAL_FAILURE(make_store("minirun-build-"));
  ctx_ = *t_ / "ctx";
  std::filesystem::create_directories(ctx_);
}

void BuildTest::TearDown() {
  if (!t_) return;
  remove_containers();
  expect_no_mounts_left();
}

std::string BuildTest::in_image(const std::string& image, const std::string& script) {
  auto r = mr({"run", "--rm", "--network", "none", image, "sh", "-c", script});
  EXPECT_EQ(r.code, 0) << r.err;
  return r.out;
}

nlohmann::json BuildTest::config(const std::string& image) {
  auto i = mr({"inspect", image});
  EXPECT_EQ(i.code, 0) << i.err;
  auto j = nlohmann::json::parse(i.out, nullptr, false);
  return j.is_array() && !j.empty() ? j[0]["Config"] : nlohmann::json();
}

}  // namespace minirun::test

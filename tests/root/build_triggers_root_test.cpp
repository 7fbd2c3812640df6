// HEALTHCHECK and ONBUILD through `minirun build` on the busybox image t/bb: the healthcheck in
// the image config as Docker writes it (NONE too); ONBUILD triggers recorded in the parent image
// and run first in a child build whose FROM is it (a RUN and a COPY from the child's context),
// the child keeping none of them. Builds use --network none.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "build_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class BuildTriggers : public BuildTest {};

TEST_F(BuildTriggers, HealthcheckAndOnbuild) {
  std::string parent = *t_ / "parent", child = *t_ / "child";
  fs::create_directories(parent);
  fs::create_directories(child);
  write_file(parent + "/Dockerfile",
             "FROM t/bb\n"
             "ONBUILD RUN echo triggered > /trig\n"
             "ONBUILD COPY f.txt /from-trigger\n"
             "HEALTHCHECK --interval=5m --timeout=3s --retries=3 CMD cat /trig || exit 1\n");
  auto p = mr({"build", "--network", "none", "-t", "t/parent", parent}, 120);
  ASSERT_EQ(p.code, 0) << p.out << p.err;
  auto pc = config("t/parent");
  EXPECT_EQ(pc["OnBuild"], nlohmann::json::parse(R"(["RUN echo triggered > /trig","COPY f.txt /from-trigger"])"));
  EXPECT_EQ(pc["Healthcheck"],
            nlohmann::json::parse(R"({"Test":["CMD-SHELL","cat /trig || exit 1"],"Interval":300000000000,)"
                                  R"("Timeout":3000000000,"Retries":3})"));
  auto hist = mr({"history", "--no-trunc", "t/parent"});
  EXPECT_NE(hist.out.find("HEALTHCHECK &{[\"CMD-SHELL\" \"cat /trig || exit 1\"] \"5m0s\" \"3s\" \"0s\" \"0s\" '\\x03'}"),
            std::string::npos)
      << hist.out;
  // ONBUILD only adds its trigger to the config: no history entry, as BuildKit.
  EXPECT_EQ(hist.out.find("ONBUILD"), std::string::npos) << hist.out;

  write_file(child + "/f.txt", "child context\n");
  write_file(child + "/Dockerfile", "FROM t/parent\nRUN cat /trig\nHEALTHCHECK NONE\n");
  auto c = mr({"build", "--network", "none", "-t", "t/child", child}, 120);
  ASSERT_EQ(c.code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("# Executing 2 build triggers"), std::string::npos) << c.out;
  auto r = mr({"run", "--rm", "--network", "none", "t/child", "cat", "/trig", "/from-trigger"});
  EXPECT_EQ(r.out, "triggered\nchild context\n") << r.err;
  auto cc = config("t/child");
  EXPECT_TRUE(!cc.contains("OnBuild") || cc["OnBuild"].is_null() || cc["OnBuild"].empty()) << cc.dump();
  EXPECT_EQ(cc["Healthcheck"], nlohmann::json::parse(R"({"Test":["NONE"]})"));
}

}  // namespace

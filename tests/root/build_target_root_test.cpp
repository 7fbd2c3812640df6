// `minirun build --target STAGE --label K=V --iidfile FILE` through the binary on the busybox
// image t/bb: only the stages the target needs run (a stage it does not need fails if run),
// the labels are in the final image's config, the ID file holds the image ID; an unknown target
// fails before any step, exit 1. Builds use --network none.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "build_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class BuildTarget : public BuildTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(BuildTest::SetUp());
    if (IsSkipped()) return;
    write_file(ctx_ + "/Dockerfile",
               "FROM t/bb AS base\n"
               "RUN echo base > /base\n"
               "FROM t/bb AS unused\n"
               "RUN echo unused-stage-ran; false\n"
               "FROM base AS Dev\n"
               "COPY --from=0 /base /copied\n"
               "RUN echo dev > /dev-file\n"
               "FROM t/bb AS last\n"
               "RUN echo last-stage-ran; false\n");
  }
};

TEST_F(BuildTarget, OnlyTheStagesTheTargetNeedsRun) {
  std::string iid = *t_ / "iid";
  auto b = mr({"build", "--network", "none", "--target", "dev", "--label", "org.test=yes", "--label", "empty",
               "--iidfile", iid, "-t", "t/dev", ctx_},
              180);
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  EXPECT_EQ(b.out.find("unused-stage-ran"), std::string::npos) << b.out;
  EXPECT_EQ(b.out.find("last-stage-ran"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("Step 5/5 : RUN echo dev > /dev-file"), std::string::npos) << b.out;
  auto r = mr({"run", "--rm", "--network", "none", "t/dev", "cat", "/base", "/copied", "/dev-file"});
  EXPECT_EQ(r.out, "base\nbase\ndev\n") << r.err;

  auto cfg = nlohmann::json::parse(mr({"inspect", "t/dev"}).out)[0];
  EXPECT_EQ(read_file(iid), cfg["Id"].get<std::string>());
  EXPECT_EQ(read_file(iid).rfind("sha256:", 0), 0u);
  EXPECT_EQ(cfg["Config"]["Labels"]["org.test"], "yes");
  EXPECT_EQ(cfg["Config"]["Labels"]["empty"], "");
}

TEST_F(BuildTarget, AnUnknownTargetFailsBeforeAnyStep) {
  auto b = mr({"build", "--network", "none", "--target", "nope", "-t", "t/none", ctx_});
  EXPECT_EQ(b.code, 1) << b.out << b.err;
  EXPECT_NE(b.err.find("failed to reach build target nope in Dockerfile"), std::string::npos) << b.err;
  EXPECT_EQ(b.out.find("Step"), std::string::npos) << b.out;
  EXPECT_NE(mr({"inspect", "t/none"}).code, 0);
}

}  // namespace

// `minirun build` through the binary on the busybox image t/bb: a multi-step Dockerfile (ENV,
// WORKDIR, RUN, COPY, CMD, ...) whose image then runs with the file and config the steps gave;
// a failing RUN (exit 1, Docker's message, nothing tagged, no container or step image left);
// a multi-stage build with COPY --from. These build with --network none; the default network
// (Docker's bridge) is checked inside a test network namespace (net_fixture.h). Containers are
// removed with rm -f in TearDown.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "build_fixture.h"
#include "net_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class Build : public BuildTest {};

TEST_F(Build, MultiStepDockerfileMakesARunnableImage) {
  write_file(ctx_ + "/Dockerfile",
             "FROM t/bb\n"
             "ARG GREETING=hello\n"
             "ENV APP_HOME=/app MODE=test\n"
             "WORKDIR $APP_HOME\n"
             "RUN echo \"$GREETING from run\" > made.txt && echo ran-in-build\n"
             "COPY data.txt ./\n"
             "COPY dir/ /opt/dir/\n"
             "COPY --chown=1000:1001 data.txt /owned.txt\n"
             "LABEL org.test=yes\n"
             "EXPOSE 8080\n"
             "USER 0\n"
             "CMD [\"cat\", \"made.txt\", \"data.txt\"]\n");
  write_file(ctx_ + "/data.txt", "from context\n", 0640);
  fs::create_directories(ctx_ + "/dir/sub");
  write_file(ctx_ + "/dir/sub/x.sh", "#!/bin/sh\n", 0755);
  write_file(ctx_ + "/dir/skip.log", "left out\n");
  write_file(ctx_ + "/.dockerignore", "dir/*.log\n");

  auto b = mr({"build", "--network", "none", "-t", "t/built:1", "--build-arg", "GREETING=hi", ctx_}, 180);
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  EXPECT_NE(b.out.find("Step 1/12 : FROM t/bb"), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("ran-in-build"), std::string::npos) << "RUN's output is shown";
  EXPECT_NE(b.out.find("Successfully built "), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("Successfully tagged t/built:1"), std::string::npos) << b.out;

  auto r = mr({"run", "--rm", "--network", "none", "t/built:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hi from run\nfrom context\n");
  auto pwd = mr({"run", "--rm", "--network", "none", "t/built:1", "sh", "-c",
                 "pwd; echo $APP_HOME $MODE; busybox stat -c '%a %u:%g' data.txt /owned.txt /opt/dir/sub/x.sh; "
                 "ls /opt/dir; echo ${GREETING:-unset}"});
  ASSERT_EQ(pwd.code, 0) << pwd.err;
  EXPECT_EQ(pwd.out, "/app\n/app test\n640 0:0\n640 1000:1001\n755 0:0\nsub\nunset\n");

  auto cfg = nlohmann::json::parse(mr({"inspect", "t/built:1"}).out)[0];
  EXPECT_EQ(cfg["Config"]["WorkingDir"], "/app");
  EXPECT_EQ(cfg["Config"]["Cmd"], nlohmann::json::parse(R"(["cat","made.txt","data.txt"])"));
  EXPECT_EQ(cfg["Config"]["Labels"]["org.test"], "yes");
  EXPECT_TRUE(cfg["Config"]["ExposedPorts"].contains("8080/tcp"));
  auto hist = mr({"history", "--no-trunc", "t/built:1"});
  ASSERT_EQ(hist.code, 0) << hist.err;
  EXPECT_NE(hist.out.find("ENV APP_HOME=/app MODE=test"), std::string::npos) << hist.out;
  EXPECT_NE(hist.out.find("RUN |1 GREETING=hi /bin/sh -c echo \"$GREETING from run\" > made.txt && echo ran-in-build # buildkit"),
            std::string::npos)
      << hist.out;
  EXPECT_NE(hist.out.find("CMD [\"cat\" \"made.txt\" \"data.txt\"]"), std::string::npos) << hist.out;

  EXPECT_EQ(mr({"ps", "-aq"}).out, "") << "the step containers are removed";
  auto images = mr({"images", "-q"});
  EXPECT_EQ(std::count(images.out.begin(), images.out.end(), '\n'), 2) << "t/bb and t/built only:\n" << images.out;
}

TEST_F(Build, AFailingRunFailsTheBuildWithDockersMessage) {
  write_file(ctx_ + "/Dockerfile", "FROM t/bb\nENV A=1\nRUN false\nCMD [\"true\"]\n");
  auto b = mr({"build", "--network", "none", "-t", "t/failed", ctx_}, 120);
  EXPECT_EQ(b.code, 1) << b.out << b.err;
  EXPECT_NE(b.err.find("The command '/bin/sh -c false' returned a non-zero code: 1"), std::string::npos) << b.err;
  EXPECT_EQ(b.out.find("Successfully"), std::string::npos) << b.out;
  EXPECT_NE(mr({"inspect", "t/failed"}).code, 0) << "nothing is tagged";
  EXPECT_EQ(mr({"ps", "-aq"}).out, "") << "the failed step's container is removed";
  // The ENV step's image stays, untagged, as the cache of the next build (Docker's classic
  // builder leaves it so too); the failed step left no image.
  auto images = mr({"images", "-q"});
  EXPECT_EQ(std::count(images.out.begin(), images.out.end(), '\n'), 2) << images.out;
}

TEST_F(Build, MultiStageCopyFrom) {
  write_file(ctx_ + "/Dockerfile",
             "FROM t/bb AS build\n"
             "RUN mkdir -p /out/bin && echo compiled > /out/bin/app && chmod 750 /out/bin/app\n"
             "FROM t/bb\n"
             "COPY --from=build /out/ /usr/local/\n"
             "COPY --from=0 /out/bin/app /single\n"
             "ENTRYPOINT [\"cat\"]\n"
             "CMD [\"/usr/local/bin/app\"]\n");
  auto b = mr({"build", "--network", "none", "-q", "-t", "t/multi", "-f", ctx_ + "/Dockerfile", ctx_}, 180);
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  EXPECT_EQ(b.out.rfind("sha256:", 0), 0u) << "-q prints the ID only: " << b.out;
  EXPECT_EQ(b.out.size(), 72u) << b.out;
  auto r = mr({"run", "--rm", "--network", "none", "t/multi"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "compiled\n");
  auto s = mr({"run", "--rm", "--network", "none", "--entrypoint", "busybox", "t/multi", "stat", "-c", "%a", "/single",
               "/usr/local/bin/app"});
  EXPECT_EQ(s.out, "750\n750\n") << s.err;
  // t/bb, t/multi and the build stage's image, untagged (as the classic builder leaves it): the
  // cache of the next build; the steps before it in each stage are intermediate images, hidden.
  auto images = mr({"images", "-q"});
  EXPECT_EQ(std::count(images.out.begin(), images.out.end(), '\n'), 3) << images.out;
}

}  // namespace

namespace {

TEST_F(Build, ScratchStageTakesCopiesAndConfig) {
  write_file(ctx_ + "/a.txt", "a\n");
  write_file(ctx_ + "/b.txt", "b\n");
  write_file(ctx_ + "/Dockerfile",
             "FROM scratch\n"
             "COPY --from=t/bb /bin/busybox /bin/\n"
             "COPY *.txt /files/\n"
             "COPY a.txt /renamed\n"
             "ENTRYPOINT [\"/bin/busybox\"]\n");
  auto b = mr({"build", "--network", "none", "-t", "t/scr", ctx_}, 120);
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  auto r = mr({"run", "--rm", "--network", "none", "t/scr", "cat", "/renamed", "/files/a.txt", "/files/b.txt"});
  EXPECT_EQ(r.out, "a\na\nb\n") << r.err;
  write_file(ctx_ + "/Dockerfile", "FROM t/bb\nCOPY a.txt b.txt /notdir\n");
  auto two = mr({"build", "--network", "none", ctx_});
  EXPECT_EQ(two.code, 1);
  EXPECT_NE(two.err.find("the destination must be a directory and end with a /"), std::string::npos) << two.err;
  write_file(ctx_ + "/Dockerfile", "FROM t/bb\nCOPY missing /x\n");
  auto missing = mr({"build", "--network", "none", ctx_});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("file not found in build context"), std::string::npos) << missing.err;
}

// RUN steps are on the build's network: Docker's default bridge (eth0 beside lo), --network none
// (lo alone), and RUN --network=none for one step.
class BuildNet : public NetContainerTest {
 protected:
  BuildNet() : NetContainerTest("minirun-buildnet-") {}
};

TEST_F(BuildNet, RunStepsAreOnTheBuildsNetwork) {
  const std::string ctx = *t_ / "ctx";
  fs::create_directories(ctx);
  write_file(ctx + "/Dockerfile",
             "FROM t/bb\n"
             "RUN ls /sys/class/net | tr '\\n' ' ' > /build-net\n"
             "RUN --network=none ls /sys/class/net | tr '\\n' ' ' > /step-net\n");
  auto b = mr({"build", "-t", "t/net", ctx});
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  auto r = mr({"run", "--rm", "--network", "none", "t/net", "cat", "/build-net", "/step-net"});
  EXPECT_EQ(r.out, "eth0 lo lo ") << r.err;
  auto n = mr({"build", "--network", "none", "-t", "t/net2", ctx});
  ASSERT_EQ(n.code, 0) << n.out << n.err;
  EXPECT_EQ(mr({"run", "--rm", "--network", "none", "t/net2", "cat", "/build-net"}).out, "lo ");
}

}  // namespace


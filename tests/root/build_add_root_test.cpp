// ADD and COPY's file options through `minirun build` on the busybox image t/bb: ADD of local
// tar archives (plain, gzip, bzip2, xz, zstd: made by the host's compressors) extracted at the
// destination, a file that only looks like one copied as it is, a URL refused; --chmod's mode;
// --chown by user and group names of the image's /etc/passwd and /etc/group, and an unknown name
// failing with Docker's words. Builds use --network none.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "build_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class BuildAdd : public BuildTest {};

TEST_F(BuildAdd, LocalArchivesAreExtracted) {
  TarBuilder tb;
  tb.dir("pkg", TarMeta{0750, 1000, 1000}).file("pkg/data", "from tar\n", TarMeta{0640, 1000, 10});
  write_file(ctx_ + "/a.tar", tb.build());
  for (const char* z : {"gzip", "bzip2", "xz", "zstd"}) {
    std::string cmd = std::string(z) + " -c " + ctx_ + "/a.tar > " + ctx_ + "/a." + z + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  write_file(ctx_ + "/fake.tar.gz", "just text\n");
  write_file(ctx_ + "/Dockerfile",
             "FROM t/bb\n"
             "ADD a.tar /plain/\n"
             "ADD a.gzip /gz\n"
             "ADD a.bzip2 a.xz /multi/\n"
             "ADD a.zstd /zst/\n"
             "ADD fake.tar.gz /copied/\n");
  auto b = mr({"build", "--network", "none", "-t", "t/add", ctx_}, 180);
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  EXPECT_EQ(in_image("t/add", "for d in plain gz multi zst; do cat /$d/pkg/data; busybox stat -c '%a %u:%g' "
                              "/$d/pkg /$d/pkg/data; done; cat /copied/fake.tar.gz"),
            "from tar\n750 1000:1000\n640 1000:10\n"
            "from tar\n750 1000:1000\n640 1000:10\n"
            "from tar\n750 1000:1000\n640 1000:10\n"
            "from tar\n750 1000:1000\n640 1000:10\n"
            "just text\n");
  auto hist = mr({"history", "--no-trunc", "t/add"});
  EXPECT_NE(hist.out.find("ADD a.tar /plain/ # buildkit"), std::string::npos) << hist.out;

  write_file(ctx_ + "/Dockerfile", "FROM t/bb\nADD https://example.com/x.tar /x/\n");
  auto url = mr({"build", "--network", "none", ctx_});
  EXPECT_EQ(url.code, 1);
  EXPECT_NE(url.err.find("adding a URL is not supported"), std::string::npos) << url.err;
}

TEST_F(BuildAdd, ChmodAndChownByName) {
  write_file(ctx_ + "/f.txt", "f\n", 0644);
  fs::create_directories(ctx_ + "/d/sub");
  write_file(ctx_ + "/d/sub/g", "g\n", 0600);
  write_file(ctx_ + "/Dockerfile",
             "FROM t/bb\n"
             "COPY --chmod=0750 f.txt /m/f.txt\n"
             "COPY --chmod=711 d /md/\n"
             "COPY --chown=app f.txt /o/app\n"
             "COPY --chown=app:wheel f.txt /o/app-wheel\n"
             "ADD --chown=1000:wheel --chmod=600 f.txt /o/mixed\n");
  auto b = mr({"build", "--network", "none", "-t", "t/own", ctx_}, 180);
  ASSERT_EQ(b.code, 0) << b.out << b.err;
  EXPECT_EQ(in_image("t/own", "busybox stat -c '%n %a %u:%g' /m/f.txt /md/sub /md/sub/g /o/app /o/app-wheel /o/mixed"),
            "/m/f.txt 750 0:0\n/md/sub 711 0:0\n/md/sub/g 711 0:0\n/o/app 644 1000:1000\n/o/app-wheel 644 1000:10\n"
            "/o/mixed 600 1000:10\n");

  write_file(ctx_ + "/Dockerfile", "FROM t/bb\nCOPY --chown=nobody f.txt /x\n");
  auto bad = mr({"build", "--network", "none", ctx_});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("can't find uid for user nobody: no such user: nobody"), std::string::npos) << bad.err;
  write_file(ctx_ + "/Dockerfile", "FROM t/bb\nCOPY --chmod=u+x f.txt /x\n");
  auto sym = mr({"build", "--network", "none", ctx_});
  EXPECT_EQ(sym.code, 1);
  EXPECT_NE(sym.err.find("--chmod=u+x"), std::string::npos) << sym.err;
}

}  // namespace

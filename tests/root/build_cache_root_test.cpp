// The build cache through the binary on the busybox image t/bb, with RUN steps that write stamp
// files of random bytes (a step that ran again has another stamp): a second build reuses every
// step (same image ID, same stamps, " ---> Using cache"); touching a copied file (mtime only)
// keeps the cache; its content, its mode, --chown's owner and a build arg a RUN uses each bust the
// steps from there on; --no-cache runs every step. Then the cache's images: `images` hides the
// intermediate ones (-a shows them), an entry whose image is gone is a miss (image prune), and
// `builder prune` empties the cache. Builds use --network none.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "build_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
namespace fs = std::filesystem;

namespace {

class BuildCache : public BuildTest {
 protected:
  struct Built {
    std::string id, out;
    int hits = 0;
  };
  Built build(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"build", "--network", "none"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(ctx_);
    auto b = mr(args, 180);
    EXPECT_EQ(b.code, 0) << b.out << b.err;
    Built r;
    r.out = b.out;
    auto at = b.out.rfind("Successfully built ");
    if (at != std::string::npos) r.id = b.out.substr(at + 19, 12);
    for (size_t p = 0; (p = b.out.find(" ---> Using cache\n", p)) != std::string::npos; p++) r.hits++;
    return r;
  }
  // The stamps of the image: "<s1> <s2>" (or one stamp for a one-RUN Dockerfile).
  std::string stamps(const std::string& id, const std::string& files = "/s1 /s2") {
    auto r = mr({"run", "--rm", "--network", "none", id, "sh", "-c", "for f in " + files + "; do cat $f; echo; done | busybox tr '\\n' ' '"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }
  std::string stamp_word(const std::string& all, int i) {
    size_t start = 0;
    for (int k = 0; k < i; k++) start = all.find(' ', start) + 1;
    return all.substr(start, all.find(' ', start) - start);
  }
  size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

};

constexpr const char* kStamp = "busybox od -An -tx1 -N12 /dev/urandom | busybox tr -d ' \\n'";

TEST_F(BuildCache, StepsAreReusedUntilWhatTheyReadChanges) {
  write_file(ctx_ + "/Dockerfile", std::string("FROM t/bb\n"
                                               "ARG V=1\n"
                                               "RUN echo \"v=$V\"; ") +
                                       kStamp + " > /s1\n"
                                                "ARG OWN=0:0\n"
                                                "COPY --chown=$OWN data.txt /data.txt\n"
                                                "RUN " +
                                       kStamp + " > /s2\n");
  write_file(ctx_ + "/data.txt", "one\n", 0644);

  auto first = build();
  EXPECT_EQ(first.hits, 0) << first.out;
  std::string s_first = stamps(first.id);
  ASSERT_EQ(s_first.size(), 2 * 24 + 2u) << s_first;

  auto again = build();
  EXPECT_EQ(again.id, first.id) << again.out;
  EXPECT_EQ(again.hits, 5) << "ARG, RUN, ARG, COPY, RUN:\n" << again.out;
  EXPECT_EQ(again.out.find("Removing intermediate container"), std::string::npos) << "no RUN ran:\n" << again.out;
  EXPECT_EQ(stamps(again.id), s_first);

  // mtime only: the cache stays.
  struct timespec ts[2] = {{1000000, 0}, {1000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (ctx_ + "/data.txt").c_str(), ts, 0), 0);
  auto touched = build();
  EXPECT_EQ(touched.id, first.id) << touched.out;

  // Content: the COPY and every later step run again; the steps before stay.
  write_file(ctx_ + "/data.txt", "two\n", 0644);
  auto content = build();
  EXPECT_NE(content.id, first.id);
  EXPECT_EQ(content.hits, 3) << content.out;
  std::string s_content = stamps(content.id);
  EXPECT_EQ(stamp_word(s_content, 0), stamp_word(s_first, 0));
  EXPECT_NE(stamp_word(s_content, 1), stamp_word(s_first, 1));
  EXPECT_EQ(mr({"run", "--rm", "--network", "none", content.id, "cat", "/data.txt"}).out, "two\n");

  // The first content again: the first build's steps are still in the cache.
  write_file(ctx_ + "/data.txt", "one\n", 0644);
  EXPECT_EQ(build().id, first.id);

  // Mode.
  ASSERT_EQ(::chmod((ctx_ + "/data.txt").c_str(), 0600), 0);
  auto mode = build();
  EXPECT_NE(mode.id, first.id);
  EXPECT_EQ(mode.hits, 3) << mode.out;
  EXPECT_NE(stamp_word(stamps(mode.id), 1), stamp_word(s_first, 1));
  ASSERT_EQ(::chmod((ctx_ + "/data.txt").c_str(), 0644), 0);
  EXPECT_EQ(build().id, first.id);

  // Owner (--chown through a build arg): the first RUN stays, the COPY's owner is the new one.
  auto owner = build({"--build-arg", "OWN=1000:1001"});
  EXPECT_NE(owner.id, first.id);
  std::string s_owner = stamps(owner.id);
  EXPECT_EQ(stamp_word(s_owner, 0), stamp_word(s_first, 0));
  EXPECT_NE(stamp_word(s_owner, 1), stamp_word(s_first, 1));
  EXPECT_EQ(mr({"run", "--rm", "--network", "none", owner.id, "busybox", "stat", "-c", "%u:%g", "/data.txt"}).out,
            "1000:1001\n");

  // A build arg the first RUN uses: it runs again.
  auto arg = build({"--build-arg", "V=2"});
  EXPECT_NE(arg.out.find("v=2"), std::string::npos) << arg.out;
  std::string s_arg = stamps(arg.id);
  EXPECT_NE(stamp_word(s_arg, 0), stamp_word(s_first, 0));
  EXPECT_NE(stamp_word(s_arg, 1), stamp_word(s_first, 1));

  // --no-cache: every step runs, and its images are the cache from then on.
  auto fresh = build({"--no-cache"});
  EXPECT_EQ(fresh.hits, 0) << fresh.out;
  EXPECT_NE(fresh.id, first.id);
  std::string s_fresh = stamps(fresh.id);
  EXPECT_NE(stamp_word(s_fresh, 0), stamp_word(s_first, 0));
  EXPECT_NE(stamp_word(s_fresh, 1), stamp_word(s_first, 1));
  auto after = build();
  EXPECT_EQ(after.id, fresh.id) << after.out;
  EXPECT_EQ(mr({"ps", "-aq"}).out, "");
}

TEST_F(BuildCache, IntermediateImagesPruneAndBuilderPrune) {
  write_file(ctx_ + "/Dockerfile", std::string("FROM t/bb\nRUN ") + kStamp + " > /s1\nENV A=1\n");
  auto first = build({"-t", "t/cached"});
  std::string s1 = stamps("t/cached", "/s1");

  // t/bb and t/cached; the RUN step's image is intermediate: shown by -a only.
  EXPECT_EQ(lines(mr({"images", "-q"}).out), 2u) << mr({"images"}).out;
  EXPECT_EQ(lines(mr({"images", "-a", "-q"}).out), 3u) << mr({"images", "-a"}).out;
  EXPECT_EQ(lines(mr({"images"}).out), 3u) << "a header and two rows";

  // rmi of the final image: the RUN step's image and its entry stay, a rebuild reuses it.
  ASSERT_EQ(mr({"rmi", "t/cached"}).code, 0);
  auto rebuilt = build({"-t", "t/cached"});
  EXPECT_EQ(rebuilt.hits, 1) << rebuilt.out;
  EXPECT_EQ(stamps("t/cached", "/s1"), s1);

  // image prune removes the untagged RUN image: its entry is gone with it, the RUN runs again.
  auto prune = mr({"image", "prune", "-f"});
  ASSERT_EQ(prune.code, 0) << prune.err;
  EXPECT_NE(prune.out.find("deleted: sha256:"), std::string::npos) << prune.out;
  EXPECT_EQ(lines(mr({"images", "-a", "-q"}).out), 2u) << mr({"images", "-a"}).out;
  auto after_prune = build({"-t", "t/cached"});
  EXPECT_EQ(after_prune.hits, 0) << after_prune.out;
  std::string s2 = stamps("t/cached", "/s1");
  EXPECT_NE(s2, s1);

  // builder prune: every entry goes, and the images only the cache held; tagged images stay.
  auto bp = mr({"builder", "prune", "-f"});
  ASSERT_EQ(bp.code, 0) << bp.err;
  EXPECT_NE(bp.out.find("Deleted build cache objects:"), std::string::npos) << bp.out;
  EXPECT_NE(bp.out.find("Total reclaimed space:"), std::string::npos) << bp.out;
  EXPECT_FALSE(fs::exists(*t_ / "store/build-cache") && !fs::is_empty(*t_ / "store/build-cache"));
  EXPECT_EQ(lines(mr({"images", "-a", "-q"}).out), 2u) << mr({"images", "-a"}).out;
  EXPECT_EQ(stamps("t/cached", "/s1"), s2) << "the tagged image stays";
  auto after_bp = build({"-t", "t/cached"});
  EXPECT_EQ(after_bp.hits, 0) << after_bp.out;
  EXPECT_NE(stamps("t/cached", "/s1"), s2);
}

}  // namespace

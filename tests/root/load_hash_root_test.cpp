// Layers of 8 MiB and more hash on threads of their own beside their extraction (extract.cpp):
// the digests must still cover every byte, in order, plain or compressed, and a flipped byte
// must still refuse the load.
#include <gtest/gtest.h>

#include <random>

#include "testutil.h"

using namespace minirun::test;

namespace {

TestImage big_image(const std::string& tag) {
  std::mt19937 rng(17);
  TestImage img;
  img.repo_tags = {tag};
  for (int l = 0; l < 2; l++) {
    TarBuilder t;
    t.dir("d" + std::to_string(l));
    for (int f = 0; f < 5; f++) {
      std::string data((2 << 20) + 1234 * f, '\0');
      for (auto& c : data) c = static_cast<char>(rng());
      t.file("d" + std::to_string(l) + "/f" + std::to_string(f), data);
    }
    img.layers.push_back(t.build());
  }
  return img;
}

}  // namespace

TEST(LoadHash, LargeLayersVerifyWithHashingOnThreadsPlainAndCompressed) {
  MINIRUN_REQUIRE_ROOT();
  TempDir t("minirun-loadhash-");
  struct Case {
    std::string name;
    bool oci;
  };
  for (const Case& c : {Case{"plain", false}, Case{"gzip", true}}) {
    std::vector<TestImage> imgs = {big_image("big/" + c.name + ":1")};
    std::string ar = c.oci ? oci_archive(imgs, Compression::gzip) : docker_archive(imgs);
    ASSERT_GT(ar.size(), 20u << 20);
    std::string root = t / ("store-" + c.name);
    write_file(t / "a.tar", ar);
    auto r = run_cmd({MINIRUN_BINARY, "--root", root, "load", "-q", "-i", t / "a.tar"});
    ASSERT_EQ(r.code, 0) << c.name << ": " << r.err;
    r = run_cmd({MINIRUN_BINARY, "--root", root, "images", "-q", "--no-trunc"});
    EXPECT_EQ(r.out, imgs[0].image_id + "\n") << c.name;
    // A byte flipped in the middle of the last layer's stored bytes: refused, nothing stored.
    std::string bad = ar;
    bad[bad.size() * 3 / 4] ^= 0x20;
    write_file(t / "bad.tar", bad);
    std::string root2 = t / ("bad-" + c.name);
    r = run_cmd({MINIRUN_BINARY, "--root", root2, "load", "-q", "-i", t / "bad.tar"});
    EXPECT_EQ(r.code, 125) << c.name << ": " << r.out;
    EXPECT_NE(r.err.find("layer sha256:"), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(run_cmd({MINIRUN_BINARY, "--root", root2, "images", "-q"}).out, "") << c.name;
  }
}

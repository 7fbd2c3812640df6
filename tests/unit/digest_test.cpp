#include <gtest/gtest.h>

#include "minirun/util/digest.h"
#include "minirun/util/error.h"

using namespace minirun;

TEST(Digest, KnownVectors) {
  EXPECT_EQ(sha256_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update("ab");
  h.update("c");
  EXPECT_EQ(h.final_digest(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, Validation) {
  EXPECT_TRUE(is_valid_digest(sha256_digest("x")));
  EXPECT_FALSE(is_valid_digest("sha256:../../etc/passwd"));
  EXPECT_FALSE(is_valid_digest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(is_valid_digest("sha512:" + std::string(64, 'a')));
  EXPECT_THROW(digest_hex("sha256:abc"), Error);
  EXPECT_EQ(digest_hex("sha256:" + std::string(64, 'a')), std::string(64, 'a'));
}

TEST(Digest, ChainIds) {
  std::string a = sha256_digest("a"), b = sha256_digest("b"), c = sha256_digest("c");
  auto ids = chain_ids({a, b, c});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], a);
  EXPECT_EQ(ids[1], sha256_digest(a + " " + b));
  EXPECT_EQ(ids[2], sha256_digest(ids[1] + " " + c));
  EXPECT_TRUE(chain_ids({}).empty());
}

// The layer pipeline without root: blobs pushed in pieces (as a registry delivers them) become
// the same tree and digests whatever their compression; a broken stage stops the others; an
// abandoned stream does not hang; the chunk pipe's ends see each other's failure.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "minirun/image/chunk_pipe.h"
#include "minirun/image/layer_stream.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::Compression;
using minirun::test::TarBuilder;
using minirun::test::TempDir;

namespace {

std::string big(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (auto& c : s) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  return s;
}

ExtractResult stream_in(const std::string& blob, const std::string& dest, size_t piece, ExtractOptions eo = {}) {
  ::mkdir(dest.c_str(), 0755);
  LayerStream s(dest, eo);
  for (size_t i = 0; i < blob.size(); i += piece) s.write(blob.data() + i, std::min(piece, blob.size() - i));
  EXPECT_EQ(s.written(), blob.size());
  return s.finish();
}

}  // namespace

TEST(LayerStream, SameTreeAndDigestsWhateverTheCompression) {
  TempDir t;
  const std::string payload = big(3 << 20);  // several chunks
  TarBuilder b;
  b.dir("etc").file("etc/hostname", "box\n").file("usr/big", payload).symlink("bin", "usr/bin");
  const std::string tar = b.build();
  int n = 0;
  for (Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
    std::string blob = b.build(c);
    std::string dest = t / ("out" + std::to_string(n++));
    ExtractOptions eo;
    eo.tar_split_path = dest + ".split";
    ExtractResult r = stream_in(blob, dest, 4093, eo);  // odd pieces: chunk edges fall anywhere
    EXPECT_EQ(r.blob_digest, sha256_digest(blob));
    EXPECT_EQ(r.diff_id, sha256_digest(tar));
    EXPECT_EQ(r.tar_size, tar.size());
    EXPECT_EQ(r.content_size, payload.size() + 4);
    EXPECT_EQ(minirun::test::read_file(dest + "/etc/hostname"), "box\n");
    EXPECT_EQ(minirun::test::read_file(dest + "/usr/big"), payload);
    struct stat st;
    EXPECT_EQ(::stat((dest + ".split").c_str(), &st), 0);
  }
}

TEST(LayerStream, EmptyBlobIsAnEmptyLayer) {
  TempDir t;
  ExtractResult r = stream_in("", t / "out", 1);
  EXPECT_EQ(r.blob_digest, sha256_digest(""));
  EXPECT_EQ(r.diff_id, sha256_digest(""));
}

TEST(LayerStream, CorruptCompressedDataFailsFinishAndIsStillHashed) {
  TempDir t;
  TarBuilder b;
  b.file("a", big(4 << 20));
  std::string blob = b.build(Compression::gzip);
  for (size_t i = blob.size() / 4; i < blob.size() / 2; i++) blob[i] = static_cast<char>(blob[i] ^ 0x5a);
  ::mkdir((t / "out").c_str(), 0755);
  LayerStream s(t / "out", {});
  std::string error;
  for (size_t i = 0; i < blob.size(); i += 65536) s.write(blob.data() + i, std::min<size_t>(65536, blob.size() - i));
  try {
    s.finish();
  } catch (const Error& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("decompress"), std::string::npos) << error;
  EXPECT_EQ(s.blob_digest(), sha256_digest(blob));  // every byte hashed, extraction or not
}

TEST(LayerStream, HostilePathFailsWithTheEntryNamed) {
  TempDir t;
  TarBuilder b;
  b.file("f", "x").hardlink("g", "missing/target");
  std::string error;
  try {
    stream_in(b.build(Compression::gzip), t / "out", 100);
  } catch (const Error& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("g: hard link target"), std::string::npos) << error;
}

TEST(LayerStream, AbandonedMidwayStopsItsThreads) {
  TempDir t;
  TarBuilder b;
  b.file("a", big(8 << 20));
  std::string blob = b.build(Compression::gzip);
  ::mkdir((t / "out").c_str(), 0755);
  {
    LayerStream s(t / "out", {});
    s.write(blob.data(), blob.size() / 3);
  }  // no finish: the destructor must return
  SUCCEED();
}

TEST(ChunkPipe, EachEndSeesTheOthersFailure) {
  ChunkPipe p(2, 16);
  char* a = p.acquire();
  char* b = p.acquire();
  ASSERT_TRUE(a && b);
  std::thread consumer([&] { p.cancel(); });
  consumer.join();
  EXPECT_EQ(p.acquire(), nullptr);  // would block forever without the cancel

  ChunkPipe q(2, 16);
  char* c = q.acquire();
  memcpy(c, "abc", 3);
  q.push(c, 3);
  auto [d, n] = q.pop();
  EXPECT_EQ(std::string(d, n), "abc");
  q.fail("producer broke");
  EXPECT_THROW(q.pop(), Error);
}

// Hostile input to the pure readers (no root): malformed tar headers in the outer archive, bad
// PAX records, JSON of the wrong types in manifest.json, index.json and the config, and the
// --max-layer-size parser. Every case is built here, byte by byte; each must be refused with one
// line (an Error, exit code 125) — never a crash, a hang or another exception type.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "minirun/image/archive.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/image/image_config.h"
#include "minirun/util/size.h"
#include "minirun/image/tar_index.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;

namespace {


const std::string kEnd(1024, '\0');

// A docker-save archive framed by ustar(): a real config and layer, then `extra` appended
// before the end marker (or replacing the manifest when manifest is given).
std::string docker_with(const std::string& extra, const std::string& manifest = "") {
  TestImage img;
  img.repo_tags = {"hostile/x:1"};
  img.layers = {TarBuilder().file("a", "A").build()};
  finish_config(img);
  std::string m = manifest.empty() ? R"([{"Config":"c.json","RepoTags":["hostile/x:1"],"Layers":["l.tar"]}])" : manifest;
  return ustar("c.json", '0', img.config_json) + ustar("l.tar", '0', img.layers[0]) + extra + ustar("manifest.json", '0', m) + kEnd;
}

// Opens bytes as an archive; returns the error message (test fails if accepted or multi-line).
std::string refused(TempDir& t, const std::string& bytes) {
  write_file(t / "x.tar", bytes);
  try {
    ImageArchive::open(t / "x.tar", t.path());
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 125);
    std::string w = e.what();
    EXPECT_EQ(w.find('\n'), std::string::npos) << w;
    return w;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a minirun::Error: " << e.what();
    return "";
  }
  ADD_FAILURE() << "archive was accepted";
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(Hostile, FramingHelperMakesAValidArchive) {
  TempDir t;
  write_file(t / "ok.tar", docker_with(""));
  auto ar = ImageArchive::open(t / "ok.tar", t.path());
  ASSERT_EQ(ar->images().size(), 1u);
  EXPECT_EQ(ar->images()[0].repo_tags[0], "hostile/x:1");
}

TEST(Hostile, MalformedTarHeadersAreRefused) {
  TempDir t;
  // A bad checksum.
  EXPECT_TRUE(has(refused(t, docker_with(ustar("junk", '0', "j", nullptr, false))), "checksum")) << "bad checksum";
  // A size field that is not octal: "12" followed by garbage would read as 10 bytes.
  std::string nonoctal = std::string("000000012x9") + '\0';
  EXPECT_TRUE(has(refused(t, docker_with(ustar("junk", '0', std::string(10, 'j'), &nonoctal))), "invalid size field"));
  std::string eights = std::string("00000000089") + '\0';
  EXPECT_TRUE(has(refused(t, docker_with(ustar("junk", '0', "", &eights))), "invalid size field"));
  // A size that runs past the end of the file.
  std::string past = std::string("77777777777") + '\0';
  EXPECT_TRUE(has(refused(t, docker_with(ustar("junk", '0', "j", &past))), "past the end"));
  // GNU base-256 sizes: negative (-1), and huge (2^88-1, wrapping around 64 bits to a small
  // offset that pointed back into the archive before).
  std::string neg(12, '\xff');
  EXPECT_TRUE(has(refused(t, docker_with(ustar("junk", '0', "", &neg))), "invalid size field"));
  std::string huge = std::string(1, '\x80') + std::string(11, '\xff');
  EXPECT_TRUE(has(refused(t, docker_with(ustar("junk", '0', "", &huge))), "invalid size field"));
  std::string wraps = std::string("\x80\x00\x00\x01", 4) + std::string(7, '\0') + '\x00';  // 2^64: wraps to 0
  EXPECT_TRUE(has(refused(t, docker_with(ustar("junk", '0', "", &wraps))), "invalid size field"));
  // A valid base-256 size is read.
  std::string b256 = std::string(1, '\x80') + std::string(10, '\0') + '\x01';
  write_file(t / "b.tar", docker_with(ustar("junk", '0', "j", &b256)));
  EXPECT_NO_THROW(ImageArchive::open(t / "b.tar", t.path()));
  // Truncated inside a header or inside data.
  std::string good = docker_with("");
  EXPECT_NE(refused(t, good.substr(0, 700)), "");
  EXPECT_NE(refused(t, good.substr(0, 512 + 100)), "");
}

TEST(Hostile, MalformedPaxRecordsAreRefused) {
  TempDir t;
  auto pax = [](const std::string& records) { return ustar("pax", 'x', records) + ustar("f", '0', "data"); };
  for (const std::string& bad : {
           std::string("99 path=x\n"),               // length past the data
           std::string("10 path=xy"),                // no newline at the end of the record
           std::string("0 path=x\n"),                // zero length
           std::string("x path=y\n"),                // no length
           std::string("6 pa\n"),                    // no key=value
           std::string("12 size=1x\n"),              // size not a number
           std::string("30 size=99999999999999999999\n"),  // size over 64 bits
           std::string("3 \n"),                      // empty record
           std::string("1-1 "),                      // found by config_fuzz: "-1" read as 2^64-1 and
           std::string("6 a=b\n1-01 path=x\n"),     // wrapped back one byte: an endless loop
       }) {
    std::string msg = refused(t, docker_with(pax(bad)));
    EXPECT_TRUE(has(msg, "PAX")) << bad << " → " << msg;
  }
  std::string p, l;
  uint64_t size = 0;
  bool has_size = false;
  EXPECT_THROW(parse_pax("1-1 ", p, l, size, has_size), Error);
  parse_pax("16 path=a/b/c/d\n20 linkpath=../../x\n12 size=987\n", p, l, size, has_size);
  EXPECT_EQ(p, "a/b/c/d");
  EXPECT_EQ(l, "../../x");
  EXPECT_TRUE(has_size);
  EXPECT_EQ(size, 987u);
  // A PAX size larger than the file.
  EXPECT_TRUE(has(refused(t, docker_with(ustar("pax", 'x', "17 size=99999999\n") + ustar("f", '0', "data"))), "past the end"));
}

TEST(Hostile, SymlinkLoopsAndGrowingLinksInTheArchive) {
  TempDir t;
  // manifest.json → a → b → a: a loop; and a link that grows the path on every hop.
  TarBuilder b;
  b.symlink("manifest.json", "a").symlink("a", "b").symlink("b", "a");
  EXPECT_TRUE(has(refused(t, b.build()), "no manifest.json or index.json"));
  TarBuilder g;
  g.symlink("d", "d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d").file("x", "x");
  write_file(t / "g.tar", g.build());
  int fd = ::open((t / "g.tar").c_str(), O_RDONLY);
  auto idx = TarIndex::build(fd, read_file(t / "g.tar").size());
  ::close(fd);
  EXPECT_EQ(idx.resolve("d/manifest.json"), nullptr);
}

TEST(Hostile, ManifestJsonOfWrongTypesIsRefused) {
  TempDir t;
  for (const std::string& m : {
           std::string(R"({"Config":"c.json"})"),                                   // an object, not an array
           std::string(R"([])"),                                                    // no image
           std::string(R"([42])"),                                                  // entry not an object
           std::string(R"([{"Config":42,"Layers":["l.tar"]}])"),                    // Config a number
           std::string(R"([{"Config":"c.json","Layers":"l.tar"}])"),                // Layers a string
           std::string(R"([{"Config":"c.json","Layers":[7]}])"),                    // a layer path a number
           std::string(R"([{"Config":"c.json","RepoTags":"x:1","Layers":["l.tar"]}])"),   // RepoTags a string
           std::string(R"([{"Config":"c.json","RepoTags":[1],"Layers":["l.tar"]}])"),     // a tag a number
           std::string(R"([{"Config":"c.json","RepoTags":["UPPER:1"],"Layers":["l.tar"]}])"),  // invalid tag
           std::string(R"([{"Config":"../../etc/passwd","Layers":["l.tar"]}])"),    // outside the archive
           std::string(R"([{"Config":"c.json","Layers":["/../../l.tar", "l.tar"]}])"),
       }) {
    std::string msg = refused(t, docker_with("", m));
    EXPECT_TRUE(has(msg, "manifest.json")) << m << " → " << msg;
  }
}

TEST(Hostile, IndexJsonOfWrongTypesIsRefused) {
  TempDir t;
  std::string d64(64, 'a');
  for (const std::string& idx : {
           std::string(R"([])"),
           std::string(R"({"manifests":{}})"),
           std::string(R"({"manifests":null})"),
           std::string(R"({"manifests":["x"]})"),
           std::string(R"({"manifests":[{"mediaType":5,"digest":"sha256:)" + d64 + R"("}]})"),
           std::string(R"({"manifests":[{"digest":7}]})"),
           std::string(R"({"manifests":[{"digest":"sha256:../../x"}]})"),
           std::string(R"({"manifests":[{"digest":"sha256:)" + d64 + R"(","platform":{"os":1,"architecture":[]}}]})"),
           std::string(R"({"manifests":[{"digest":"sha256:)" + d64 + R"(","platform":{"os":"linux","architecture":"amd64"},"annotations":{"io.containerd.image.name":5}}]})"),
           std::string(R"({"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:)" + d64 + R"("}]})"),
       }) {
    std::string msg = refused(t, ustar("oci-layout", '0', R"({"imageLayoutVersion":"1.0.0"})") + ustar("index.json", '0', idx) + kEnd);
    EXPECT_TRUE(has(msg, "index") || has(msg, "manifest")) << idx << " → " << msg;
  }
}

TEST(Hostile, ConfigJsonOfWrongTypesIsRefused) {
  std::string d = "sha256:" + std::string(64, 'a');
  for (const std::string& c : {
           std::string(R"([])"),
           std::string(R"({"architecture":1,"rootfs":{"type":"layers","diff_ids":[]}})"),
           std::string(R"({"os":["linux"],"rootfs":{"type":"layers","diff_ids":[]}})"),
           std::string(R"({"config":[],"rootfs":{"type":"layers","diff_ids":[]}})"),
           std::string(R"({"config":{"Env":"PATH=/bin"},"rootfs":{"type":"layers","diff_ids":[]}})"),
           std::string(R"({"config":{"Cmd":{"a":1}},"rootfs":{"type":"layers","diff_ids":[]}})"),
           std::string(R"({"config":{"Entrypoint":[1]},"rootfs":{"type":"layers","diff_ids":[]}})"),
           std::string(R"({"config":{"User":7},"rootfs":{"type":"layers","diff_ids":[]}})"),
           std::string(R"({"config":{"WorkingDir":false},"rootfs":{"type":"layers","diff_ids":[]}})"),
           std::string(R"({"rootfs":[]})"),
           std::string(R"({"rootfs":{"type":7,"diff_ids":[]}})"),
           std::string(R"({"rootfs":{"type":"layers","diff_ids":"x"}})"),
           std::string(R"({"rootfs":{"type":"layers","diff_ids":[3]}})"),
           std::string(R"({"rootfs":{"type":"layers","diff_ids":["sha256:ABC"]}})"),
           std::string(R"({"rootfs":{"type":"layers","diff_ids":[")" + d + R"("]},"history":{}})"),
           std::string(R"({"rootfs":{"type":"layers","diff_ids":[")" + d + R"("]},"history":[1]})"),
           std::string(R"({"rootfs":{"type":"layers","diff_ids":[")" + d + R"("]},"history":[{"empty_layer":"yes"}]})"),
           std::string(R"({"rootfs":{"type":"layers","diff_ids":[")" + d + R"("]},"history":[{"created_by":["x"]}]})"),
       }) {
    try {
      parse_image_config(c);
      ADD_FAILURE() << "accepted: " << c;
    } catch (const Error& e) {
      std::string w = e.what();
      EXPECT_EQ(w.rfind("image config: ", 0), 0u) << w;
      EXPECT_EQ(w.find('\n'), std::string::npos) << w;
    }
  }
  // Through an archive, the config's path names it.
  TempDir t;
  TarBuilder b;
  b.file("c.json", R"({"config":{"Env":"PATH=/bin"},"rootfs":{"type":"layers","diff_ids":[]}})");
  b.file("manifest.json", R"([{"Config":"c.json","Layers":[]}])");
  std::string msg = refused(t, b.build());
  EXPECT_TRUE(has(msg, "c.json") && has(msg, "\"Env\" is not an array")) << msg;
}

TEST(Hostile, MaxLayerSizeParsing) {
  EXPECT_EQ(parse_byte_size("4096"), 4096u);
  EXPECT_EQ(parse_byte_size("512M"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("512m"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("10G"), 10ull << 30);
  EXPECT_EQ(parse_byte_size("10GiB"), 10ull << 30);
  EXPECT_EQ(parse_byte_size("2kb"), 2048u);
  EXPECT_EQ(parse_byte_size("1T"), 1ull << 40);
  EXPECT_EQ(parse_byte_size("100b"), 100u);
  for (const char* bad : {"", "0", "0M", "M", "-1", "1.5G", "10X", "10 G", "10GG", "99999999999999999999", "16777216T"})
    EXPECT_THROW(parse_byte_size(bad), Error) << bad;
}

// manifest_fuzz.cpp — libFuzzer target over the manifest and index readers. The first input
// byte picks the document (even: docker-save manifest.json, odd: OCI index.json, with the rest
// of the input also stored as the blob of a manifest and of a nested index); the rest is that
// document. It is placed in a fixed, valid tar (ustar, written here) beside a real config, layer
// and OCI manifest blob, so that mutations explore the JSON readers (descriptor checks, nested
// indexes, platform choice, tag annotations, layer counts) instead of the tar framing, which
// archive_fuzz covers. The seeds (make_seeds) are the real documents for these blobs. Half of
// the mutations change the type of one JSON value (json_mutator.h).
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "fuzz_tar.h"
#include "json_mutator.h"
#include "minirun/image/archive.h"
#include "minirun/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string& dir = minirun::fuzz::scratch_dir();
  std::string doc(reinterpret_cast<const char*>(data) + 1, size - 1);
  minirun::fuzz::FixedImage img = minirun::fuzz::fixed_image();
  minirun::fuzz::UstarWriter t;
  t.add("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  t.add("blobs/sha256/" + img.config_digest.substr(7), img.config);
  t.add("blobs/sha256/" + img.layer_digest.substr(7), img.layer);
  t.add("blobs/sha256/" + img.manifest_digest.substr(7), img.manifest);
  t.add("c.json", img.config);
  t.add("l/layer.tar", img.layer);
  t.symlink("link.tar", "l/layer.tar");
  // The fuzzed document also as a blob, so that a descriptor naming it (a nested index or a
  // manifest) reaches the readers with fuzzed content.
  t.add("blobs/sha256/" + minirun::fuzz::hex_digest(doc), doc);
  t.add((data[0] & 1) ? "index.json" : "manifest.json", doc);
  std::string path = dir + "/m.tar";
  minirun::fuzz::write_whole(path, t.finish());
  try {
    auto archive = minirun::ImageArchive::open(path, dir + "/spool");
    for (const auto& i : archive->images())
      if (i.layers.size() != i.diff_ids.size()) std::abort();  // the reader promises this
  } catch (const minirun::Error&) {
  }
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(dir + "/spool", ec)) std::filesystem::remove_all(e.path(), ec);
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  return minirun::fuzz::mutate_json(data, size, max_size, seed, 1);
}

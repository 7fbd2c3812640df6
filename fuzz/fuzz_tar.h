// fuzz_tar.h — helpers shared by the fuzz targets and the seed maker: a minimal ustar writer
// (no libarchive, so the framing is fixed and known) and one fixed valid image (config, layer,
// OCI manifest) whose blobs manifest_fuzz places around the fuzzed document.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "minirun/util/digest.h"

namespace minirun::fuzz {

class UstarWriter {
 public:
  void add(const std::string& name, const std::string& data) { entry(name, '0', data, ""); }
  void symlink(const std::string& name, const std::string& target) { entry(name, '2', "", target); }
  std::string finish() {
    out_.append(1024, '\0');
    return out_;
  }
  // Any entry: 'L' (GNU long name), 'K' (long link), 'x' (PAX), '1' (hard link), ….
  void entry(const std::string& name, char type, const std::string& data, const std::string& link) {
    char h[512] = {};
    std::snprintf(h, 100, "%s", name.c_str());
    std::snprintf(h + 100, 8, "%07o", 0644);
    std::snprintf(h + 108, 8, "%07o", 0);
    std::snprintf(h + 116, 8, "%07o", 0);
    std::snprintf(h + 124, 12, "%011llo", static_cast<unsigned long long>(data.size()));
    std::snprintf(h + 136, 12, "%011o", 0);
    h[156] = type;
    std::snprintf(h + 157, 100, "%s", link.c_str());
    std::memcpy(h + 257, "ustar\0" "00", 8);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    out_.append(h, 512);
    out_ += data;
    out_.append((512 - data.size() % 512) % 512, '\0');
  }
  std::string out_;
};

// One PAX record "<len> key=value\n", len counting itself.
inline std::string pax_record(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) len++;
  return std::to_string(len) + body;
}

inline std::string hex_digest(const std::string& s) { return sha256_digest(s).substr(7); }

struct FixedImage {
  std::string layer, layer_digest, config, config_digest, manifest, manifest_digest;
};

inline FixedImage fixed_image() {
  FixedImage f;
  UstarWriter l;
  l.add("etc/hostname", "fuzz\n");
  f.layer = l.finish();
  f.layer_digest = sha256_digest(f.layer);
  f.config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[")" +
             f.layer_digest + R"("]}})";
  f.config_digest = sha256_digest(f.config);
  f.manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
               f.config_digest + R"(","size":)" + std::to_string(f.config.size()) +
               R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + f.layer_digest +
               R"(","size":)" + std::to_string(f.layer.size()) + "}]}";
  f.manifest_digest = sha256_digest(f.manifest);
  return f;
}

inline void write_whole(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  for (size_t off = 0; off < data.size();) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w <= 0) std::abort();
    off += static_cast<size_t>(w);
  }
  ::close(fd);
}

// The target's scratch directory (with spool/ inside), made once: under $MINIRUN_FUZZ_TMP when
// set (scripts/fuzz.sh removes that, also after a crash, which skips the atexit handler), else
// in /dev/shm.
inline const std::string& scratch_dir() {
  static char path[4096];  // a plain buffer: still valid in the atexit handler
  static const std::string dir = [] {
    const char* base = std::getenv("MINIRUN_FUZZ_TMP");
    std::snprintf(path, sizeof path, "%s/minirun-fuzz-XXXXXX", base && *base ? base : "/dev/shm");
    if (!::mkdtemp(path)) std::abort();
    std::filesystem::create_directories(std::string(path) + "/spool");
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    });
    return std::string(path);
  }();
  return dir;
}

}  // namespace minirun::fuzz

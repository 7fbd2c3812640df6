// testutil.h — fixtures generated in test code: temporary directories that clean up their
// mounts, an in-memory tar writer, and a docker-save / OCI archive writer.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace minirun::test {

bool is_root();
// Use at the top of a root test: GTEST_SKIP()s with a message when not root.
#define MINIRUN_REQUIRE_ROOT()                      \
  do {                                              \
    if (!::minirun::test::is_root()) {              \
      GTEST_SKIP() << "needs root; skipped";        \
    }                                               \
  } while (0)

// A fresh directory under $TMPDIR (or /tmp); on destruction detaches every mount below it
// and removes it recursively, whether the test passed or not.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "minirun-test-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& data, mode_t mode = 0644);
std::string read_file(const std::string& path);
// Lines of /proc/self/mountinfo whose mount point lies under `dir`.
std::vector<std::string> mounts_under(const std::string& dir);
// How many entries a directory has (0 when it does not exist).
size_t files_in(const std::string& dir);

enum class Compression { none, gzip, zstd };

// Builds a tar (PAX format by default) in memory with libarchive.
// Metadata of one tar entry; TarMeta{0755} gives a mode, the rest defaults.
struct TarMeta {
  mode_t mode = 0644;
  uid_t uid = 0;
  gid_t gid = 0;
  int64_t mtime = 1700000000;
  std::map<std::string, std::string> xattrs;
};

class TarBuilder {
 public:
  using Meta = TarMeta;
  TarBuilder& file(const std::string& path, const std::string& data, TarMeta m = TarMeta{});
  TarBuilder& dir(const std::string& path, TarMeta m = TarMeta{0755});
  TarBuilder& symlink(const std::string& path, const std::string& target, TarMeta m = TarMeta{0777});
  // A hard link entry; its header's own metadata (m) applies to the linked file (the later
  // header wins, as in Docker): give it the target's to leave the file as it is.
  TarBuilder& hardlink(const std::string& path, const std::string& target, TarMeta m = TarMeta{});
  TarBuilder& fifo(const std::string& path, TarMeta m = TarMeta{0644});
  TarBuilder& chardev(const std::string& path, unsigned major, unsigned minor, TarMeta m = TarMeta{0600});
  // An entry of any type with a raw name, for hostile archives (type: AE_IF* value).
  TarBuilder& raw(const std::string& path, unsigned type, const std::string& data = "",
                  const std::string& link = "", TarMeta m = TarMeta{});
  std::string build(Compression c = Compression::none) const;

 private:
  struct Entry {
    std::string path, data, link;
    unsigned type;
    bool hardlink = false;
    unsigned major = 0, minor = 0;
    Meta meta;
  };
  std::vector<Entry> entries_;
};

// A small root filesystem: the host's static /bin/busybox with its common applets as symlinks,
// /etc/passwd and /etc/group (root, app:1000, wheel:10 with app), /tmp, /root, /home/app.
TarBuilder busybox_rootfs();

// One raw ustar header block (+ data, padded to 512 bytes), for malformed tars libarchive will not
// write: size_field, when given, is written verbatim into the 12-byte size field instead of the
// octal size of data; fix_sum=false leaves a wrong checksum.
std::string ustar(const std::string& name, char type, const std::string& data, const std::string* size_field = nullptr,
                  bool fix_sum = true);

// Compress bytes with gzip or zstd (libarchive's raw writer).
std::string compress(const std::string& data, Compression c);

// One image for the archive writers below. Layers are uncompressed tars.
struct TestImage {
  std::vector<std::string> layers;
  std::vector<std::string> repo_tags;  // e.g. {"test/img:1"}; may be empty
  std::vector<std::string> cmd = {"/bin/sh"};
  std::vector<std::string> entrypoint;
  std::vector<std::string> env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  std::string user;
  std::string workdir;
  std::string created = "2024-01-01T00:00:00Z";
  // Filled by the writers:
  std::string config_json;  // exact config bytes
  std::string image_id;     // sha256:<hex> of config_json
  std::vector<std::string> diff_ids;
};

// Makes the config JSON for `img` (fills config_json, image_id, diff_ids).
void finish_config(TestImage& img);
// A legacy `docker save` archive (<dir>/layer.tar, manifest.json, repositories).
std::string docker_archive(std::vector<TestImage>& images, Compression layer_compression = Compression::none);
// An OCI image layout as a tar (oci-layout, index.json, blobs/sha256/...).
std::string oci_archive(std::vector<TestImage>& images, Compression layer_compression = Compression::gzip);
// An image of n layers tagged `tag`: busybox_rootfs(), then one file etc/layer-<i> ("<i>\n") in
// each layer i; the top layer also removes etc/group (a whiteout over the bottom layer).
TestImage deep_image(int n, const std::string& tag);

}  // namespace minirun::test

namespace minirun::test {

struct CmdResult {
  int code = -1;
  std::string out, err;
  long max_rss_kb = 0;  // the child's peak resident set (wait4 rusage), KiB
};
// Runs argv (argv[0] a path) with stdin from `input`, collecting stdout, stderr and the exit
// status (128+signal when killed). Kills it after timeout_s seconds.
CmdResult run_cmd(const std::vector<std::string>& argv, const std::string& input = "", int timeout_s = 120);

// Starts argv (argv[0] a path) without waiting for it: stdin from /dev/null, stdout and stderr
// into `log` (created or truncated). `in_child`, when given, runs in the child just before the
// exec. Returns the child's pid; the caller waits for it.
pid_t spawn_cmd(const std::vector<std::string>& argv, const std::string& log = "/dev/null",
                const std::function<void()>& in_child = {});

// The executable `name` in $PATH (or /usr/sbin:/usr/bin:/sbin:/bin), "" when there is none.
std::string find_in_path(const std::string& name);
// The processes (but this one) whose command line mentions `needle`.
std::vector<pid_t> processes_mentioning(const std::string& needle);
// Stops a daemon the test started (SIGTERM, SIGKILL after 15 s), then SIGKILLs whatever still
// mentions `dir` (the daemon's helpers: shims, its own containerd) and unmounts what is left under
// `dir`, innermost first.
void stop_daemon(pid_t daemon, const std::string& dir);

}  // namespace minirun::test

// extract.cpp — layer extraction, the most security-sensitive code in minirun.
//
// Design:
// - One pass over the bytes. A BlobReader preads the stored bytes and hashes them (blob digest;
//   for a plain tar also its DiffID); a compressed blob goes through a libarchive "raw" reader
//   that only decompresses; the uncompressed bytes are hashed (DiffID) and fed to a second
//   libarchive handle that parses the tar (PAX, GNU, sparse, xattrs, long names). After the
//   end-of-archive marker the rest of the stream is still read and hashed, since the DiffID
//   covers every byte. A layer of 8 MiB or more hashes on a thread per stream (ChunkHash), its
//   reader filling a ring of buffers, each refilled once hashed: hashing runs beside extraction.
// - An entry's parent directory is resolved once for the entries that follow in it and again
//   after any removal (the only way a resolved path can come to name another directory). New
//   entries are created first (O_EXCL) and an existing one is cleared only on EEXIST.
// - libarchive's disk writer is not used. Each entry's path is cleaned lexically against "/"
//   (like Docker: "../../x" is "x"), its parent directory is opened with openat2(RESOLVE_IN_ROOT),
//   so ".." and symlinks (absolute ones included, and those created earlier in the same tar)
//   resolve inside the destination, never outside; the last component is created with *at()
//   calls that do not follow symlinks. An entry naming the root itself ("." or "/") is ignored
//   unless it is a directory (then only its metadata applies), so the root is never replaced.
// - Ownership is numeric; chown happens before chmod (chown clears setuid) and before xattrs
//   (chown clears security.capability); directory times are set last, deepest first.
// - Whiteouts: ".wh.X" becomes a 0/0 character device X; ".wh..wh..opq" sets
//   trusted.overlay.opaque=y on its directory (it hides only lower layers, so entries of this
//   layer stay, whatever their order); other ".wh..wh.*" (aufs metadata) are skipped; a whiteout
//   of "", "." or ".." is refused.
// - A hard link whose target is not in this layer gets a copy of the target from the nearest
//   lower layer that has it (Docker fails such layers). A hard link entry's own uid, gid, mode
//   (and xattrs) apply to the inode after linking, as Docker's: the later header wins.
#include "minirun/image/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/util/layer_fs.h"
#include "minirun/image/tar_index.h"

namespace minirun {

namespace {

constexpr size_t kChunk = 1 << 20;
constexpr uint64_t kDefaultMax = 64ull << 30;

// ---- the byte pipeline ----

// A layer this large hashes on threads of its own, beside its extraction (a layer's SHA-256
// is a third of its load's CPU time); a smaller one hashes inline (a thread costs more).
constexpr uint64_t kHashThreadFrom = 8ull << 20;
constexpr size_t kRing = 4;  // chunks in flight between a reader and its hashing thread

// SHA-256 of a stream of chunks, inline or on a thread of its own. With a thread, a chunk's
// bytes must stay unchanged until done(k) for its index k (Ring waits for that).
class ChunkHash {
 public:
  ChunkHash() = default;
  ChunkHash(const ChunkHash&) = delete;
  ChunkHash& operator=(const ChunkHash&) = delete;
  ~ChunkHash() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      queue_.clear();  // an error path: nothing more to hash
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void start_thread() {
    threaded_ = true;
    thread_ = std::thread([this] { loop(); });
  }
  bool threaded() const { return threaded_; }
  void add(const char* p, size_t n) {
    if (!threaded_) {
      sha_.update(p, n);
      return;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      queue_.emplace_back(p, n);
    }
    cv_.notify_all();
  }
  // Waits until chunk number k (0-based, in the order added) is hashed.
  void wait_done(uint64_t k) {
    if (!threaded_) return;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return done_ > k; });
  }
  std::string final_digest() {
    if (threaded_) {
      {
        std::lock_guard<std::mutex> l(mu_);
        stop_ = true;
      }
      cv_.notify_all();
      thread_.join();
      threaded_ = false;
    }
    return sha_.final_digest();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto [p, n] = queue_.front();
      queue_.pop_front();
      l.unlock();
      sha_.update(p, n);
      l.lock();
      done_++;
      cv_.notify_all();
    }
  }
  Sha256 sha_;
  bool threaded_ = false, stop_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<const char*, size_t>> queue_;
  uint64_t done_ = 0;
  std::thread thread_;
};

// The buffers a reader fills in turn: one when its hash is inline, kRing when a thread hashes
// them. A buffer is refilled once the chunk it held is hashed (libarchive is done with a chunk
// when it asks for the next).
struct Ring {
  std::vector<std::vector<char>> bufs;
  uint64_t handed = 0;
  char* next(ChunkHash& h) {
    if (bufs.empty()) bufs.resize(h.threaded() ? kRing : 1, std::vector<char>(kChunk));
    if (handed >= bufs.size()) h.wait_done(handed - bufs.size());
    return bufs[handed++ % bufs.size()].data();
  }
};

struct BlobReader {
  int fd;
  uint64_t pos, end;
  Ring ring;        // before hash: a hashing thread stops before the buffers go
  ChunkHash hash;   // of the stored bytes (for a plain tar: its DiffID as well)
  // Returns the next chunk (empty at the end).
  std::pair<const char*, size_t> next() {
    if (pos >= end) return {nullptr, 0};
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, end - pos));
    char* buf = ring.next(hash);
    ssize_t r = ::pread(fd, buf, want, static_cast<off_t>(pos));
    if (r < 0) throw sys_error("read");
    if (r == 0) throw Error("blob truncated: file ends before the layer's recorded size");
    pos += static_cast<uint64_t>(r);
    hash.add(buf, static_cast<size_t>(r));
    return {buf, static_cast<size_t>(r)};
  }
};

la_ssize_t blob_read_cb(struct archive* a, void* client, const void** out) {
  auto* b = static_cast<BlobReader*>(client);
  try {
    auto [p, n] = b->next();
    *out = p;
    return static_cast<la_ssize_t>(n);
  } catch (const Error& e) {
    archive_set_error(a, EIO, "%s", e.what());
    return -1;
  }
}

// Cleans a tar path against "/": "./a//b/../c" → "a/c", "../../x" → "x". "" means the root.
std::string clean(const std::string& p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string c = p.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(std::move(c));
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& c : parts) out += (out.empty() ? "" : "/") + c;
  return out;
}

// Records the tar split: a second, minimal walk over the tar headers of the uncompressed stream
// (in step with libarchive) that keeps every byte except regular files' contents, which are
// referenced by path. Format: records 'R' <u64 len> <bytes> (raw) and 'F' <u64 size> <u32 len>
// <path> (file content from diff/<path>). A layer whose tar names the same file twice, or uses
// sparse entries, is marked not reproducible (no split is kept).
class SplitRecorder {
 public:
  explicit SplitRecorder(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) throw sys_error(path);
  }
  ~SplitRecorder() {
    if (fd_ >= 0) ::close(fd_);
  }
  void feed(const char* p, size_t n) {
    while (n) {
      size_t used = step(p, n);
      p += used, n -= used;
    }
  }
  void finish() {
    flush_raw(true);
    flush_out();
    ::close(fd_);
    fd_ = -1;
    if (!ok_) ::unlink(path_.c_str());
  }

 private:
  enum State { kHeader, kMeta, kData, kRaw, kTail };

  size_t step(const char* p, size_t n) {
    switch (state_) {
      case kHeader: {
        size_t take = std::min(n, 512 - hlen_);
        memcpy(hdr_ + hlen_, p, take);
        hlen_ += take;
        raw_.append(p, take);
        if (hlen_ == 512) header();
        return take;
      }
      case kMeta:
      case kRaw: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(n, remain_));
        raw_.append(p, take);
        if (state_ == kMeta) meta_.append(p, take);
        remain_ -= take;
        if (!remain_) end_block();
        return take;
      }
      case kData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(n, remain_));
        remain_ -= take;
        if (!remain_) {
          state_ = kRaw;
          remain_ = pad_;
          if (!remain_) state_ = kHeader;
        }
        return take;
      }
      case kTail:
        raw_.append(p, n);
        if (raw_.size() > (1u << 20)) flush_raw(false);
        return n;
    }
    return n;
  }

  void header() {
    hlen_ = 0;
    bool zero = std::all_of(hdr_, hdr_ + 512, [](char c) { return c == 0; });
    if (zero) {
      state_ = kTail;
      return;
    }
    char type = hdr_[156] ? hdr_[156] : '0';
    uint64_t size = tar_number(hdr_ + 124, 12);
    if (pax_has_size_ && type != 'x' && type != 'g') size = pax_size_;
    pad_ = (512 - size % 512) % 512;
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
      meta_type_ = type;
      meta_.clear();
      state_ = kMeta;
      remain_ = size;
      meta_pad_ = pad_;
      if (!remain_) end_block();
      return;
    }
    std::string name(hdr_, strnlen(hdr_, 100));
    if (memcmp(hdr_ + 257, "ustar", 5) == 0 && hdr_[345]) name = std::string(hdr_ + 345, strnlen(hdr_ + 345, 155)) + "/" + name;
    if (!long_name_.empty()) name = long_name_;
    if (!pax_path_.empty()) name = pax_path_;
    long_name_.clear(), pax_path_.clear(), pax_has_size_ = false;
    if (type == 'S' || sparse_) ok_ = false;
    sparse_ = false;
    if ((type == '0' || type == '7') && size > 0) {
      std::string path = clean(name);
      if (path.empty() || !seen_.insert(path).second) ok_ = false;
      flush_raw(true);
      put_file(path, size);
      state_ = kData;
      remain_ = size;
      return;
    }
    state_ = size ? kRaw : kHeader;
    remain_ = size + (size ? pad_ : 0);
  }

  void end_block() {
    if (state_ == kMeta) {
      if (meta_type_ == 'L') long_name_ = std::string(meta_.c_str());
      if (meta_type_ == 'x') {
        std::string link;
        try {
          parse_pax(meta_, pax_path_, link, pax_size_, pax_has_size_);
        } catch (const Error&) {
          ok_ = false;  // libarchive decides whether the layer is readable; no split is kept
        }
        if (meta_.find("GNU.sparse.") != std::string::npos) sparse_ = true;
      }
      state_ = kRaw;
      remain_ = meta_pad_;
      if (remain_) return;
    }
    state_ = kHeader;
  }

  void flush_raw(bool all) {
    if (raw_.empty() || (!all && raw_.size() < (1u << 20))) return;
    std::string rec = "R";
    uint64_t len = raw_.size();
    rec.append(reinterpret_cast<const char*>(&len), 8);
    write(rec);
    write(raw_);
    raw_.clear();
  }
  void put_file(const std::string& path, uint64_t size) {
    std::string rec = "F";
    rec.append(reinterpret_cast<const char*>(&size), 8);
    uint32_t len = static_cast<uint32_t>(path.size());
    rec.append(reinterpret_cast<const char*>(&len), 4);
    rec += path;
    write(rec);
  }
  // Records go through a buffer: a layer of 5,000 files would otherwise take 15,000 writes.
  void write(const std::string& s) {
    if (!ok_ && fd_ < 0) return;
    out_ += s;
    if (out_.size() >= (1u << 20)) flush_out();
  }
  void flush_out() {
    if (!out_.empty() && fd_ >= 0) write_all(fd_, out_.data(), out_.size(), path_);
    out_.clear();
  }

  std::string path_;
  int fd_ = -1;
  bool ok_ = true, sparse_ = false;
  State state_ = kHeader;
  char hdr_[512];
  size_t hlen_ = 0;
  uint64_t remain_ = 0, pad_ = 0, meta_pad_ = 0;
  char meta_type_ = 0;
  std::string raw_, meta_, long_name_, pax_path_, out_;
  uint64_t pax_size_ = 0;
  bool pax_has_size_ = false;
  std::set<std::string> seen_;
};

// The uncompressed tar stream, hashed as it is produced (a plain tar's by its BlobReader:
// the same bytes).
struct TarStream {
  BlobReader* blob;
  struct archive* decomp = nullptr;  // null for a plain tar
  uint64_t total = 0, max = kDefaultMax;
  Ring ring;       // before hash (see BlobReader)
  ChunkHash hash;  // the DiffID of a compressed layer
  std::string error;
  SplitRecorder* split = nullptr;

  std::pair<const char*, size_t> next() {
    const char* p;
    size_t n;
    if (!decomp) {
      std::tie(p, n) = blob->next();
    } else {
      char* buf = ring.next(hash);
      la_ssize_t r = archive_read_data(decomp, buf, kChunk);
      if (r < 0) throw Error(std::string("decompressing: ") + (archive_error_string(decomp) ? archive_error_string(decomp) : "corrupt data"));
      p = buf;
      n = static_cast<size_t>(r);
      hash.add(p, n);
    }
    total += n;
    if (total > max) throw Error("layer exceeds the maximum size of " + std::to_string(max) + " bytes uncompressed");
    if (split) split->feed(p, n);
    return {p, n};
  }
  void drain() {
    while (next().second) {
    }
  }
};

la_ssize_t tar_read_cb(struct archive* a, void* client, const void** out) {
  auto* t = static_cast<TarStream*>(client);
  try {
    auto [p, n] = t->next();
    *out = p;
    return static_cast<la_ssize_t>(n);
  } catch (const Error& e) {
    t->error = e.what();
    archive_set_error(a, EIO, "%s", e.what());
    return -1;
  }
}

bool is_compressed(const unsigned char* m, size_t n) {
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return true;
  if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return true;
  if (n >= 6 && m[0] == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z' && m[5] == 0) return true;
  return n >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h';
}

// ---- paths inside the destination ----

// The process's umask, read once without changing it (umask(2) would, for every thread):
// all bits when it cannot be read, so that every mode is then set by fchmod.
mode_t process_umask() {
  static const mode_t mask = [] {
    FILE* f = std::fopen("/proc/self/status", "re");
    if (!f) return static_cast<mode_t>(07777);
    char line[256];
    unsigned long m = 07777;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "Umask: %lo", &m) == 1) break;
    std::fclose(f);
    return static_cast<mode_t>(m);
  }();
  return mask;
}

int openat2_in_root(int root, const std::string& path, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long r = syscall(SYS_openat2, root, path.empty() ? "." : path.c_str(), &how, sizeof how);
    if (r >= 0 || errno != EAGAIN) return static_cast<int>(r);
  }
}

void remove_at(int dirfd, const std::string& name);

void remove_children(int fd) {
  DIR* d = fdopendir(fd);
  if (!d) {
    ::close(fd);
    throw sys_error("opendir");
  }
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names.push_back(e->d_name);
  for (const auto& n : names) remove_at(dirfd(d), n);
  closedir(d);
}

// Removes name (recursively when a directory) without following symlinks.
void remove_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR && errno != EPERM) throw sys_error("remove");
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw sys_error("remove");
  remove_children(fd);
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0) throw sys_error("remove");
}

class Extractor {
 public:
  Extractor(const std::string& dest, const ExtractOptions& o) : opts_(o), root_(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (root_.fd < 0) throw sys_error(dest);
  }

  void apply(struct archive* a, struct archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    std::string path = clean(raw ? raw : "");
    try {
      apply_entry(a, e, path);
    } catch (const Error& err) {
      throw Error(shortened_path(path.empty() ? std::string(raw ? raw : "\"\"") : path) + ": " + err.what(), err.exit_code());
    }
  }

  // Directory times last, deepest first, once their children exist.
  void finish() {
    std::sort(dir_times_.begin(), dir_times_.end(),
              [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
    for (const auto& [path, ts] : dir_times_) {
      Fd fd(openat2_in_root(root_.fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      if (fd.fd >= 0) ::futimens(fd.fd, ts.data());
    }
  }

  uint64_t content_size() const { return content_size_; }

 private:
  static std::string dirname_of(const std::string& p) {
    auto s = p.rfind('/');
    return s == std::string::npos ? "" : p.substr(0, s);
  }
  static std::string basename_of(const std::string& p) {
    auto s = p.rfind('/');
    return s == std::string::npos ? p : p.substr(s + 1);
  }

  // The directory `dir` (as open_dir) for an entry's parent, kept open for the entries that
  // follow in the same directory, as a tar lists them. Resolved again after anything was
  // removed: a removal (an entry replacing another, a whiteout) is the only way a path that
  // was resolved can come to name another directory. Owned here: valid until the next call.
  int parent_dir(const std::string& dir) {
    if (!parent_valid_ || dir != parent_path_) {
      parent_ = open_dir(dir);
      parent_path_ = dir;
      parent_valid_ = true;
      struct stat st;
      parent_setgid_ = ::fstat(parent_.fd, &st) != 0 || (st.st_mode & S_ISGID);
    }
    return parent_.fd;
  }

  // Opens (creating missing components, 0755 root-owned like Docker) the directory `dir`
  // resolved inside the root.
  Fd open_dir(const std::string& dir) {
    int fd = openat2_in_root(root_.fd, dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) return Fd(fd);
    if (errno == ENAMETOOLONG) throw Error("name too long (" + std::to_string(dir.size()) + " bytes of directories)");
    if (errno != ENOENT) throw sys_error("parent directory " + (dir.empty() ? "/" : shortened_path(dir)));
    std::string parent = dirname_of(dir), base = basename_of(dir);
    Fd p = open_dir(parent);
    if (::mkdirat(p.fd, base.c_str(), 0755) != 0 && errno != EEXIST) throw sys_error("mkdir " + shortened_path(dir));
    fd = openat2_in_root(root_.fd, dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) throw sys_error("parent directory " + shortened_path(dir));
    return Fd(fd);
  }

  void set_owner(int dirfd, const std::string& name, struct archive_entry* e) {
    if (::fchownat(dirfd, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e)),
                   AT_SYMLINK_NOFOLLOW) != 0 &&
        (geteuid() == 0 || errno != EPERM))
      throw sys_error("chown");
  }

  void set_xattrs(int fd, const std::string& proc_path, struct archive_entry* e) {
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      if (strncmp(name, "trusted.overlay.", 16) == 0) continue;  // a layer must not forge overlay state
      int r = fd >= 0 ? ::fsetxattr(fd, name, value, size, 0) : ::lsetxattr(proc_path.c_str(), name, value, size, 0);
      if (r != 0 && errno != ENOTSUP && (geteuid() == 0 || errno != EPERM)) throw sys_error(std::string("xattr ") + name);
    }
  }

  static std::array<struct timespec, 2> times_of(struct archive_entry* e) {
    struct timespec m = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    struct timespec a = archive_entry_atime_is_set(e) ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)} : m;
    return {a, m};
  }

  // Clears the way for a new entry; returns true when a directory stays (dir over dir).
  bool make_room(int dirfd, const std::string& name, bool new_is_dir) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (new_is_dir && S_ISDIR(st.st_mode)) return true;
    parent_valid_ = false;  // see parent_dir()
    remove_at(dirfd, name);
    return false;
  }

  void whiteout(const std::string& path, const std::string& base) {
    std::string target = base.substr(4);
    if (target == ".wh..opq") {  // opaque directory
      Fd dir = open_dir(dirname_of(path));
      if (::fsetxattr(dir.fd, "trusted.overlay.opaque", "y", 1, 0) != 0) throw sys_error("opaque whiteout");
      return;
    }
    if (target.rfind(".wh.", 0) == 0) return;  // other aufs metadata: ignored, as Docker does
    if (target.empty() || target == "." || target == "..") throw Error("invalid whiteout name \"" + base + "\"");
    int dir = parent_dir(dirname_of(path));
    make_room(dir, target, false);
    if (::mknodat(dir, target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) throw sys_error("whiteout");
  }

  // Writes the entry's data blocks; returns the end of the last one (short of the size when
  // a sparse file ends in a hole).
  la_int64_t write_file(struct archive* a, int fd) {
    const void* buf;
    size_t len;
    la_int64_t off, end = 0;
    for (;;) {
      int r = archive_read_data_block(a, &buf, &len, &off);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK) throw Error(std::string("reading file data: ") + (archive_error_string(a) ? archive_error_string(a) : "error"));
      const char* p = static_cast<const char*>(buf);
      while (len) {
        ssize_t w = ::pwrite(fd, p, len, static_cast<off_t>(off));
        if (w < 0) {
          if (errno == EINTR) continue;
          throw sys_error("write");
        }
        p += w, len -= static_cast<size_t>(w), off += w;
      }
      end = std::max(end, off);
    }
    return end;
  }

  // Copies a file that a hard link names from the nearest lower layer holding it.
  void copy_from_lower(const std::string& target, int dirfd, const std::string& name) {
    for (const auto& lower : opts_.lower_diffs) {
      Fd lroot(::open(lower.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (lroot.fd < 0) continue;
      Fd src(openat2_in_root(lroot.fd, target, O_RDONLY | O_NOFOLLOW));
      struct stat st;
      if (src.fd < 0) {
        // A whiteout in this lower hides the layers below it.
        Fd ldir(openat2_in_root(lroot.fd, dirname_of(target), O_RDONLY | O_DIRECTORY));
        if (ldir.fd >= 0 && ::fstatat(ldir.fd, basename_of(target).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            is_whiteout(st))
          break;
        continue;
      }
      if (::fstat(src.fd, &st) != 0 || !S_ISREG(st.st_mode)) throw Error("hard link target \"" + shortened_path(target) + "\" is not a regular file");
      copy_regular_file(src.fd, st, dirfd, name, "copy of " + shortened_path(target));
      content_size_ += static_cast<uint64_t>(st.st_size);
      return;
    }
    throw Error("hard link target \"" + shortened_path(target) + "\" not found in this layer or below");
  }

  void apply_entry(struct archive* a, struct archive_entry* e, const std::string& path) {
    mode_t type = archive_entry_filetype(e);
    const char* hl = archive_entry_hardlink(e);
    if (path.empty()) {  // the root itself: never replaced; a directory's metadata applies
      if (type == AE_IFDIR && !hl) {
        if (::fchmod(root_.fd, archive_entry_perm(e)) != 0) throw sys_error("chmod");
        set_owner(root_.fd, ".", e);
      }
      return;
    }
    std::string base = basename_of(path);
    if (base.rfind(".wh.", 0) == 0) return whiteout(path, base);
    struct DirRef {
      int fd;
    } dir{parent_dir(dirname_of(path))};
    auto ts = times_of(e);
    std::string proc = "/proc/self/fd/" + std::to_string(dir.fd) + "/" + base;
    if (hl) {
      std::string target = clean(hl);
      if (target.empty()) throw Error("hard link to the root");
      make_room(dir.fd, base, false);
      int tfd_flags = O_PATH | O_NOFOLLOW;
      Fd tdir(openat2_in_root(root_.fd, dirname_of(target), O_RDONLY | O_DIRECTORY));
      struct stat st;
      if (tdir.fd >= 0 && ::fstatat(tdir.fd, basename_of(target).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(st.st_mode)) throw Error("hard link to a directory");
        if (::linkat(tdir.fd, basename_of(target).c_str(), dir.fd, base.c_str(), 0) != 0) throw sys_error("link");
        (void)tfd_flags;
      } else {
        copy_from_lower(target, dir.fd, base);
      }
      // The link entry's own header applies to the (shared) inode, as Docker's extraction does:
      // the later header wins for every name of the file. Only what differs is changed, so a
      // link header that agrees (as every tar writer's does) keeps the file's setuid bit and
      // security.capability, which a chown would clear. A symlink keeps its mode.
      if (::fstatat(dir.fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) throw sys_error("link");
      if (st.st_uid != static_cast<uid_t>(archive_entry_uid(e)) || st.st_gid != static_cast<gid_t>(archive_entry_gid(e))) {
        set_owner(dir.fd, base, e);
        st.st_mode &= ~static_cast<mode_t>(07777);  // chown cleared setuid/setgid: chmod below
      }
      if (!S_ISLNK(st.st_mode) && (st.st_mode & 07777) != archive_entry_perm(e) &&
          ::fchmodat(dir.fd, base.c_str(), archive_entry_perm(e), 0) != 0)
        throw sys_error("chmod");
      set_xattrs(-1, proc, e);
      return;
    }
    switch (type) {
      case AE_IFDIR: {
        if (::mkdirat(dir.fd, base.c_str(), 0700) != 0 &&
            (errno != EEXIST || (!make_room(dir.fd, base, true) && ::mkdirat(dir.fd, base.c_str(), 0700) != 0)))
          throw sys_error("mkdir");
        Fd d(::openat(dir.fd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (d.fd < 0) throw sys_error("open directory");
        if (::fchown(d.fd, static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e))) != 0 &&
            (geteuid() == 0 || errno != EPERM))
          throw sys_error("chown");
        if (::fchmod(d.fd, archive_entry_perm(e)) != 0) throw sys_error("chmod");
        set_xattrs(d.fd, "", e);
        dir_times_.push_back({path, ts});
        return;
      }
      case AE_IFREG: {
        // Refused before a byte is written: the entry alone says it is over the limit.
        if (archive_entry_size(e) < 0 || static_cast<uint64_t>(archive_entry_size(e)) > max_size_)
          throw Error("file of " + std::to_string(archive_entry_size(e)) + " bytes: the layer exceeds the maximum size of " +
                      std::to_string(max_size_) + " bytes uncompressed");
        // A new file is root's already (root's group unless its directory is setgid): then no
        // chown, and, when the umask takes nothing from it, the mode is given at creation (no
        // chown comes after to clear a setuid bit).
        uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
        gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
        mode_t perm = archive_entry_perm(e);
        const bool chown = uid != 0 || gid != 0 || parent_setgid_ || !root_ids_;
        const bool exact = !chown && (perm & process_umask()) == 0;
        constexpr int kCreate = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
        Fd f(::openat(dir.fd, base.c_str(), kCreate, exact ? perm : 0600));
        if (f.fd < 0 && errno == EEXIST) {  // an earlier entry of the same name: replaced
          make_room(dir.fd, base, false);
          f = Fd(::openat(dir.fd, base.c_str(), kCreate, exact ? perm : 0600));
        }
        if (f.fd < 0) throw sys_error("create");
        la_int64_t size = archive_entry_size(e);
        if (write_file(a, f.fd) != size && ::ftruncate(f.fd, size) != 0) throw sys_error("truncate");
        content_size_ += static_cast<uint64_t>(size);
        if (chown && ::fchown(f.fd, uid, gid) != 0 && (geteuid() == 0 || errno != EPERM)) throw sys_error("chown");
        if (!exact && ::fchmod(f.fd, perm) != 0) throw sys_error("chmod");
        set_xattrs(f.fd, "", e);
        if (::futimens(f.fd, ts.data()) != 0) throw sys_error("utimes");
        return;
      }
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (::symlinkat(target ? target : "", dir.fd, base.c_str()) != 0 &&
            (errno != EEXIST || (make_room(dir.fd, base, false), ::symlinkat(target ? target : "", dir.fd, base.c_str())) != 0))
          throw sys_error("symlink");
        set_owner(dir.fd, base, e);
        ::utimensat(dir.fd, base.c_str(), ts.data(), AT_SYMLINK_NOFOLLOW);
        return;
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO: {
        make_room(dir.fd, base, false);
        dev_t dev = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (::mknodat(dir.fd, base.c_str(), type | 0600, dev) != 0) throw sys_error("mknod");
        set_owner(dir.fd, base, e);
        if (::fchmodat(dir.fd, base.c_str(), archive_entry_perm(e), 0) != 0) throw sys_error("chmod");
        set_xattrs(-1, proc, e);
        ::utimensat(dir.fd, base.c_str(), ts.data(), AT_SYMLINK_NOFOLLOW);
        return;
      }
      default:
        throw Error("unsupported entry type " + std::to_string(type));
    }
  }

  const ExtractOptions& opts_;
  Fd root_;
  uint64_t max_size_ = opts_.max_size ? opts_.max_size : kDefaultMax;
  uint64_t content_size_ = 0;
  std::vector<std::pair<std::string, std::array<struct timespec, 2>>> dir_times_;
  const bool root_ids_ = geteuid() == 0 && getegid() == 0;  // new files are 0:0
  Fd parent_;  // parent_dir()'s cache
  std::string parent_path_;
  bool parent_valid_ = false, parent_setgid_ = false;
};

struct ArchiveHandle {
  struct archive* a = archive_read_new();
  ~ArchiveHandle() { archive_read_free(a); }
};

}  // namespace

ExtractResult extract_layer(const std::string& file, uint64_t offset, uint64_t size, const std::string& dest,
                            const ExtractOptions& opts) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) throw sys_error(file);
  BlobReader blob{fd.fd, offset, offset + size};
  if (size >= kHashThreadFrom) blob.hash.start_thread();
  unsigned char magic[6] = {0};
  ssize_t m = size ? ::pread(fd.fd, magic, std::min<uint64_t>(6, size), static_cast<off_t>(offset)) : 0;
  if (m < 0) throw sys_error(file);

  TarStream stream{&blob};
  stream.max = opts.max_size ? opts.max_size : kDefaultMax;
  ArchiveHandle decomp;
  if (is_compressed(magic, static_cast<size_t>(m))) {
    archive_read_support_filter_all(decomp.a);
    archive_read_support_format_raw(decomp.a);
    struct archive_entry* e;
    if (archive_read_open(decomp.a, &blob, nullptr, blob_read_cb, nullptr) != ARCHIVE_OK ||
        archive_read_next_header(decomp.a, &e) != ARCHIVE_OK)
      throw Error(std::string("decompressing: ") + (archive_error_string(decomp.a) ? archive_error_string(decomp.a) : "unreadable"));
    stream.decomp = decomp.a;
    if (size >= kHashThreadFrom) stream.hash.start_thread();
  }

  std::unique_ptr<SplitRecorder> split;
  if (!opts.tar_split_path.empty()) {
    split = std::make_unique<SplitRecorder>(opts.tar_split_path);
    stream.split = split.get();
  }
  ArchiveHandle tar;
  archive_read_support_format_tar(tar.a);
  archive_read_support_format_gnutar(tar.a);
  if (archive_read_open(tar.a, &stream, nullptr, tar_read_cb, nullptr) != ARCHIVE_OK)
    throw Error(std::string("not a tar archive: ") + (archive_error_string(tar.a) ? archive_error_string(tar.a) : ""));
  Extractor ex(dest, opts);
  uint64_t entries = 0;
  for (;;) {
    struct archive_entry* e;
    int r = archive_read_next_header(tar.a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      std::string why = !stream.error.empty() ? stream.error : (archive_error_string(tar.a) ? archive_error_string(tar.a) : "malformed tar");
      if (size == 0 || (entries == 0 && stream.total == 0)) break;  // an empty blob is an empty layer
      throw Error("malformed or truncated tar: " + why);
    }
    ex.apply(tar.a, e);
    entries++;
  }
  if (!stream.error.empty()) throw Error(stream.error);
  stream.drain();
  while (blob.next().second) {
  }
  ex.finish();
  if (split) split->finish();
  ExtractResult res;
  res.blob_digest = blob.hash.final_digest();
  res.diff_id = stream.decomp ? stream.hash.final_digest() : res.blob_digest;
  res.tar_size = stream.total;
  res.content_size = ex.content_size();
  return res;
}

}  // namespace minirun

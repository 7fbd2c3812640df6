// tar_split.cpp — recording a layer's tar split (tar_split.h) in step with its extraction.
//
// A second, minimal walk over the tar headers of the uncompressed stream keeps every byte except
// regular files' contents. Format: records 'R' <u64 len> <bytes> (raw) and 'F' <u64 size>
// <u32 len> <path> (file content from diff/<path>). A layer whose tar names the same file twice,
// or uses sparse entries, is marked not reproducible (no split is kept).
#include "minirun/image/tar_split.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>

#include "minirun/image/tar_index.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

class TarSplitRecorder::Impl {
 public:
  explicit Impl(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) throw sys_error(path);
  }
  ~Impl() {
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
      std::string path = clean_entry_path(name);
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

TarSplitRecorder::TarSplitRecorder(const std::string& path) : impl_(std::make_unique<Impl>(path)) {}
TarSplitRecorder::~TarSplitRecorder() = default;
void TarSplitRecorder::feed(const char* p, size_t n) { impl_->feed(p, n); }
void TarSplitRecorder::finish() { impl_->finish(); }

}  // namespace minirun

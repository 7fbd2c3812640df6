// layer_stream.cpp — the layer pipeline: blob bytes → SHA-256 → decompression (→ SHA-256) → tar
// entries, each stage on its own thread, joined by bounded chunk pipes.
//
// Design:
// - write() runs on the caller's thread (a download's, or load's reader): it hashes the stored
//   bytes (the blob digest) and copies them into the `stored` pipe (write_from() preads straight
//   into the pipe's buffers).
// - The decompressing thread sniffs the first chunk: a compressed blob goes through a libarchive
//   "raw" reader that only decompresses; its output is hashed (the DiffID) and pushed into the
//   `tar` pipe. A plain tar is passed through (its DiffID is its blob digest). After the end of
//   the compressed stream the rest of `stored` is still drained, so the writer never waits on a
//   reader that is gone.
// - The extracting thread parses the tar with libarchive (PAX, GNU, sparse, xattrs, long names),
//   records the tar split from the same bytes, and creates each entry (EntryWriter). After the
//   end-of-archive marker the rest of the stream is still read: the DiffID covers every byte.
// - The first failure of any stage is kept; the failing stage breaks both of its pipes, so the
//   others stop at once and finish() reports it. write() goes on hashing what it is given, so
//   that a pull can tell a damaged blob (its digest) from a hostile one.
// On two cores the decompression and the extraction of one big layer run side by side, which is
// what `gzip -dc | tar -x` does with two processes.
#include "minirun/image/layer_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "minirun/image/chunk_pipe.h"
#include "minirun/image/entry_writer.h"
#include "minirun/image/tar_split.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"

namespace minirun {

namespace {

constexpr size_t kChunks = 4;

bool is_compressed(const char* p, size_t n) {
  const auto* m = reinterpret_cast<const unsigned char*>(p);
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return true;
  if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return true;
  if (n >= 6 && m[0] == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z' && m[5] == 0) return true;
  return n >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h';
}

struct ArchiveHandle {
  struct archive* a = archive_read_new();
  ~ArchiveHandle() { archive_read_free(a); }
};

std::string archive_error(struct archive* a, const char* fallback) {
  const char* s = archive_error_string(a);
  return s ? s : fallback;
}

}  // namespace

class LayerStream::Impl {
 public:
  Impl(const std::string& dest, const ExtractOptions& opts) : dest_(dest), opts_(opts) {
    if (!opts_.tar_split_path.empty()) split_ = std::make_unique<TarSplitRecorder>(opts_.tar_split_path);
    decompressor_ = std::thread([this] { decompress(); });
    extractor_ = std::thread([this] { extract(); });
  }

  ~Impl() {
    if (!decompressor_.joinable()) return;
    fail(Error("layer stream abandoned"));
    stored_.fail("layer stream abandoned");
    stored_.cancel();
    tar_.fail("layer stream abandoned");
    tar_.cancel();
    decompressor_.join();
    extractor_.join();
  }

  void write(const char* p, size_t n) {
    blob_sha_.update(p, n);
    written_ += n;
    while (n && !broken_) {
      if (!cur_ && !acquire()) return;
      size_t take = std::min(n, stored_.chunk_size() - cur_n_);
      memcpy(cur_ + cur_n_, p, take);
      cur_n_ += take, p += take, n -= take;
      if (cur_n_ == stored_.chunk_size()) flush();
    }
  }

  void write_from(int fd, uint64_t offset, uint64_t size) {
    const uint64_t end = offset + size;
    while (offset < end) {
      if (!cur_ && !acquire()) return;
      size_t want = static_cast<size_t>(std::min<uint64_t>(stored_.chunk_size() - cur_n_, end - offset));
      ssize_t r = ::pread(fd, cur_ + cur_n_, want, static_cast<off_t>(offset));
      if (r < 0) {
        if (errno == EINTR) continue;
        throw sys_error("read");
      }
      if (r == 0) throw Error("blob truncated: file ends before the layer's recorded size");
      blob_sha_.update(cur_ + cur_n_, static_cast<size_t>(r));
      cur_n_ += static_cast<size_t>(r), offset += static_cast<uint64_t>(r), written_ += static_cast<uint64_t>(r);
      if (cur_n_ == stored_.chunk_size()) flush();
    }
  }

  ExtractResult finish() {
    if (cur_) {
      if (cur_n_) stored_.push(cur_, cur_n_);
      else stored_.give_back(cur_);
      cur_ = nullptr;
    }
    stored_.close();
    decompressor_.join();
    extractor_.join();
    blob_digest_ = blob_sha_.final_digest();
    if (error_) throw *error_;
    ExtractResult r;
    r.blob_digest = blob_digest_;
    r.diff_id = compressed_ ? diff_sha_.final_digest() : r.blob_digest;
    r.tar_size = tar_size_;
    r.content_size = content_size_;
    return r;
  }

  uint64_t written() const { return written_; }
  const std::string& blob_digest() const { return blob_digest_; }

 private:
  // A buffer to fill; false once the pipeline is broken (finish() reports why).
  bool acquire() {
    cur_ = stored_.acquire();
    cur_n_ = 0;
    broken_ = !cur_;
    return cur_;
  }
  void flush() {
    stored_.push(cur_, cur_n_);
    cur_ = nullptr;
  }

  void fail(const Error& e) {
    std::lock_guard<std::mutex> l(mu_);
    if (!error_) error_ = e;
  }

  // ---- the decompressing thread ----

  struct RawInput {
    ChunkPipe* pipe;
    std::pair<const char*, size_t> first;
    bool first_given = false;
    std::string error;
  };
  static la_ssize_t raw_read_cb(struct archive* a, void* client, const void** out) {
    auto* in = static_cast<RawInput*>(client);
    try {
      std::pair<const char*, size_t> c = in->first;
      if (in->first_given) c = in->pipe->pop();
      in->first_given = true;
      *out = c.first;
      return static_cast<la_ssize_t>(c.second);
    } catch (const Error& e) {
      in->error = e.what();
      archive_set_error(a, EIO, "%s", e.what());
      return -1;
    }
  }

  char* tar_buffer() {
    char* b = tar_.acquire();
    if (!b) throw Error("layer extraction stopped");
    return b;
  }

  void decompress() {
    try {
      auto first = stored_.pop();
      if (!is_compressed(first.first, first.second)) {
        for (auto c = first; c.second; c = stored_.pop()) {
          char* b = tar_buffer();
          memcpy(b, c.first, c.second);
          tar_.push(b, c.second);
        }
      } else {
        compressed_ = true;
        RawInput in{&stored_, first};
        ArchiveHandle raw;
        archive_read_support_filter_all(raw.a);
        archive_read_support_format_raw(raw.a);
        struct archive_entry* e;
        if (archive_read_open(raw.a, &in, nullptr, raw_read_cb, nullptr) != ARCHIVE_OK ||
            archive_read_next_header(raw.a, &e) != ARCHIVE_OK)
          throw Error("decompressing: " + (in.error.empty() ? archive_error(raw.a, "unreadable") : in.error));
        for (;;) {
          char* b = tar_buffer();
          la_ssize_t n = archive_read_data(raw.a, b, tar_.chunk_size());
          if (n < 0) {
            tar_.give_back(b);
            throw Error(in.error.empty() ? "decompressing: " + archive_error(raw.a, "corrupt data") : in.error);
          }
          if (n == 0) {
            tar_.give_back(b);
            break;
          }
          diff_sha_.update(b, static_cast<size_t>(n));
          tar_.push(b, static_cast<size_t>(n));
        }
        while (stored_.pop().second) {
        }
      }
      tar_.close();
    } catch (const std::exception& e) {
      const auto* err = dynamic_cast<const Error*>(&e);
      fail(err ? *err : Error(e.what()));
      tar_.fail(e.what());
      stored_.cancel();
    }
  }

  // ---- the extracting thread ----

  struct TarInput {
    Impl* self;
    uint64_t total = 0, max;
    std::string error;
    std::pair<const char*, size_t> next() {
      auto c = self->tar_.pop();
      total += c.second;
      if (total > max) throw Error("layer exceeds the maximum size of " + std::to_string(max) + " bytes uncompressed");
      if (self->split_) self->split_->feed(c.first, c.second);
      return c;
    }
  };
  static la_ssize_t tar_read_cb(struct archive* a, void* client, const void** out) {
    auto* in = static_cast<TarInput*>(client);
    try {
      auto [p, n] = in->next();
      *out = p;
      return static_cast<la_ssize_t>(n);
    } catch (const Error& e) {
      in->error = e.what();
      archive_set_error(a, EIO, "%s", e.what());
      return -1;
    }
  }

  void extract() {
    try {
      TarInput in{this, 0, opts_.max_size ? opts_.max_size : kDefaultMaxLayerSize};
      ArchiveHandle tar;
      archive_read_support_format_tar(tar.a);
      archive_read_support_format_gnutar(tar.a);
      if (archive_read_open(tar.a, &in, nullptr, tar_read_cb, nullptr) != ARCHIVE_OK) {
        if (!in.error.empty()) throw Error(in.error);
        if (in.total) throw Error("not a tar archive: " + archive_error(tar.a, ""));
        // an empty blob is an empty layer
        if (split_) split_->finish();
        return;
      }
      EntryWriter writer(dest_, opts_);
      uint64_t entries = 0;
      for (;;) {
        struct archive_entry* e;
        int r = archive_read_next_header(tar.a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
          if (!in.error.empty()) throw Error(in.error);
          if (entries == 0 && in.total == 0) break;  // an empty blob is an empty layer
          throw Error("malformed or truncated tar: " + archive_error(tar.a, "malformed tar"));
        }
        writer.apply(tar.a, e);
        entries++;
      }
      if (!in.error.empty()) throw Error(in.error);
      while (in.next().second) {
      }
      writer.finish();
      if (split_) split_->finish();
      tar_size_ = in.total;
      content_size_ = writer.content_size();
    } catch (const std::exception& e) {
      const auto* err = dynamic_cast<const Error*>(&e);
      fail(err ? *err : Error(e.what()));
      tar_.cancel();
      stored_.fail(e.what());  // the decompressor may wait for input: it stops too
    }
  }

  const std::string dest_;
  const ExtractOptions opts_;
  ChunkPipe stored_{kChunks}, tar_{kChunks};
  std::unique_ptr<TarSplitRecorder> split_;
  Sha256 blob_sha_, diff_sha_;
  char* cur_ = nullptr;
  size_t cur_n_ = 0;
  uint64_t written_ = 0;
  bool broken_ = false;
  std::string blob_digest_;
  bool compressed_ = false;
  uint64_t tar_size_ = 0, content_size_ = 0;
  std::mutex mu_;
  std::optional<Error> error_;
  std::thread decompressor_, extractor_;
};

LayerStream::LayerStream(const std::string& dest, const ExtractOptions& opts) : impl_(std::make_unique<Impl>(dest, opts)) {}
LayerStream::~LayerStream() = default;
void LayerStream::write(const char* data, size_t n) { impl_->write(data, n); }
void LayerStream::write_from(int fd, uint64_t offset, uint64_t size) { impl_->write_from(fd, offset, size); }
ExtractResult LayerStream::finish() { return impl_->finish(); }
uint64_t LayerStream::written() const { return impl_->written(); }
const std::string& LayerStream::blob_digest() const { return impl_->blob_digest(); }

}  // namespace minirun

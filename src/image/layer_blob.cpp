// layer_blob.cpp — see layer_blob.h. One thread writes the tar into a pipe (tarwrite.h, which
// hashes what it writes: the DiffID); this one reads it, compresses and hashes the compressed
// bytes into the file. A failure on either side still drains the pipe, so the writer never blocks.
#include "minirun/image/layer_blob.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <exception>
#include <thread>
#include <vector>

#include "minirun/image/tarwrite.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/fd.h"
#include "minirun/util/fsutil.h"

namespace minirun {

namespace {

// Compresses what it is given into `out`, hashing the compressed bytes. gzip at zlib's fastest
// level: three times the speed of its default on a distribution's /usr (57 against 20 MB/s on
// one core here) for a blob about 7% larger. A blob is made once and kept (docs/push.md), but
// that once is what a user waits for at the first push.
class Compressor {
 public:
  Compressor(const std::string& kind, int out, const std::string& name) : gzip_(kind == "gzip"), out_(out), name_(name) {
    if (kind != "gzip" && kind != "zstd") throw Error("unknown compression \"" + kind + "\" (gzip or zstd)");
    if (gzip_) {
      if (deflateInit2(&z_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw Error(name_ + ": deflateInit2 failed");
    } else {
      zc_ = ZSTD_createCCtx();
      if (!zc_) throw Error(name_ + ": ZSTD_createCCtx failed");
      ZSTD_CCtx_setParameter(zc_, ZSTD_c_compressionLevel, 3);
    }
  }
  ~Compressor() {
    if (gzip_)
      deflateEnd(&z_);
    else
      ZSTD_freeCCtx(zc_);
  }
  void write(const char* p, size_t n, bool last) {
    if (gzip_) {
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
      z_.avail_in = static_cast<uInt>(n);
      int rc;
      do {
        z_.next_out = reinterpret_cast<Bytef*>(buf_.data());
        z_.avail_out = static_cast<uInt>(buf_.size());
        rc = deflate(&z_, last ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR) throw Error(name_ + ": deflate failed");
        emit(buf_.size() - z_.avail_out);
      } while (z_.avail_out == 0 || (last && rc != Z_STREAM_END));
    } else {
      ZSTD_inBuffer in{p, n, 0};
      for (;;) {
        ZSTD_outBuffer o{buf_.data(), buf_.size(), 0};
        size_t left = ZSTD_compressStream2(zc_, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) throw Error(name_ + ": zstd: " + ZSTD_getErrorName(left));
        emit(o.pos);
        if (last ? left == 0 : in.pos == in.size) break;
      }
    }
  }
  CompressedBlob finish() { return {hash_.final_digest(), size_}; }

 private:
  void emit(size_t n) {
    if (!n) return;
    hash_.update(buf_.data(), n);
    write_all(out_, buf_.data(), n, name_);
    size_ += n;
  }
  bool gzip_;
  int out_;
  std::string name_;
  z_stream z_{};
  ZSTD_CCtx* zc_ = nullptr;
  std::vector<char> buf_ = std::vector<char>(1 << 17);
  Sha256 hash_;
  uint64_t size_ = 0;
};

}  // namespace

CompressedBlob compress_layer(const std::string& split_file, const std::string& diff_dir, const std::string& diff_id,
                              const std::string& compression, const std::string& out_file) {
  Fd out(::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (out.get() < 0) throw sys_error(out_file + ": create");
  Compressor comp(compression, out.get(), out_file);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw sys_error("pipe");
  Fd rd(p[0]), wr(p[1]);
  LayerTar tar;
  std::exception_ptr writer_failure;
  std::thread writer([&] {
    try {
      tar = !split_file.empty() && ::access(split_file.c_str(), R_OK) == 0 ? write_tar_from_split(split_file, diff_dir, wr.get())
                                                                           : write_layer_tar(diff_dir, wr.get());
    } catch (...) {
      writer_failure = std::current_exception();
    }
    wr.reset();
  });
  std::exception_ptr failure;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(rd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (failure) continue;  // drained
    try {
      comp.write(buf.data(), static_cast<size_t>(n), false);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  writer.join();
  try {
    if (writer_failure) std::rethrow_exception(writer_failure);
    if (failure) std::rethrow_exception(failure);
    if (tar.diff_id != diff_id)
      throw Error("layer " + diff_id + ": its content in the store gives " + tar.diff_id +
                  ": the layer is damaged (nothing was pushed)");
    comp.write(nullptr, 0, true);
    CompressedBlob b = comp.finish();
    if (::fsync(out.get()) != 0) throw sys_error(out_file + ": fsync");
    return b;
  } catch (...) {
    ::unlink(out_file.c_str());
    throw;
  }
}

}  // namespace minirun

// chunk_pipe.cpp — the bounded chunk stream between two threads (chunk_pipe.h).
#include "minirun/image/chunk_pipe.h"

#include "minirun/util/error.h"

namespace minirun {

ChunkPipe::ChunkPipe(size_t chunks, size_t chunk_size) : chunk_size_(chunk_size), bufs_(chunks) {
  for (auto& b : bufs_) {
    b.resize(chunk_size);
    free_.push_back(b.data());
  }
}

char* ChunkPipe::acquire() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return cancelled_ || !free_.empty(); });
  if (cancelled_) return nullptr;
  char* b = free_.front();
  free_.pop_front();
  return b;
}

void ChunkPipe::push(char* buf, size_t n) {
  {
    std::lock_guard<std::mutex> l(mu_);
    full_.emplace_back(buf, n);
  }
  cv_.notify_all();
}

void ChunkPipe::give_back(char* buf) {
  {
    std::lock_guard<std::mutex> l(mu_);
    free_.push_back(buf);
  }
  cv_.notify_all();
}

void ChunkPipe::close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

void ChunkPipe::fail(const std::string& why) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (error_.empty()) error_ = why.empty() ? "stream failed" : why;
    closed_ = true;
  }
  cv_.notify_all();
}

std::pair<const char*, size_t> ChunkPipe::pop() {
  std::unique_lock<std::mutex> l(mu_);
  if (held_) {
    free_.push_back(held_);
    held_ = nullptr;
    cv_.notify_all();
  }
  cv_.wait(l, [&] { return !full_.empty() || closed_; });
  if (!error_.empty()) throw Error(error_);
  if (full_.empty()) return {nullptr, 0};
  auto [b, n] = full_.front();
  full_.pop_front();
  held_ = b;
  return {b, n};
}

void ChunkPipe::cancel() {
  {
    std::lock_guard<std::mutex> l(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

}  // namespace minirun

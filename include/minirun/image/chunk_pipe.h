// chunk_pipe.h — a bounded stream of byte chunks from one thread to another: a fixed pool of
// buffers, each filled by the producer, read by the consumer, then given back for refilling.
// Either side can break the pipe (the producer with an error, the consumer by cancelling), and
// the other side then stops instead of waiting: a failed stage never leaves its neighbour
// blocked. What bounds a layer's memory in the pull and load pipeline (layer_stream.h).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace minirun {

class ChunkPipe {
 public:
  explicit ChunkPipe(size_t chunks = 4, size_t chunk_size = 1u << 20);
  ChunkPipe(const ChunkPipe&) = delete;
  ChunkPipe& operator=(const ChunkPipe&) = delete;

  size_t chunk_size() const { return chunk_size_; }

  // ---- producer ----
  // An empty buffer of chunk_size() bytes, waiting while all are in use; nullptr once the
  // consumer cancelled.
  char* acquire();
  // Hands the buffer acquire() gave, holding n bytes, to the consumer.
  void push(char* buf, size_t n);
  // Returns a buffer acquire() gave, unused.
  void give_back(char* buf);
  // The end of the stream (after the last push).
  void close();
  // The stream is broken: the consumer's next pop() throws Error(why).
  void fail(const std::string& why);

  // ---- consumer ----
  // The next chunk, {nullptr, 0} at the end of the stream; the chunk returned before is given
  // back to the producer. Throws Error when the producer failed.
  std::pair<const char*, size_t> pop();
  // The consumer stops reading: acquire() returns nullptr from now on.
  void cancel();

 private:
  const size_t chunk_size_;
  std::vector<std::vector<char>> bufs_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<char*> free_;
  std::deque<std::pair<char*, size_t>> full_;
  char* held_ = nullptr;  // the consumer's current chunk
  bool closed_ = false, cancelled_ = false;
  std::string error_;
};

}  // namespace minirun

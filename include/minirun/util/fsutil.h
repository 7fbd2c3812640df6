// fsutil.h — small file-system helpers shared by the core: atomic file replacement
// (write temp → fsync → rename), whole-file reads, recursive removal, random ids.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

namespace minirun {

// Replaces `path` atomically: writes `path.tmp-<pid>-<rand>`, fsyncs it, renames it over `path`.
// write(2) until every byte is written; a short write is retried, so the error is the real one
// (ENOSPC), never a stale errno. Throws "<what>: write: <error>".
void write_all(int fd, const void* data, size_t n, const std::string& what);
// The same loop without throwing, for a writer that outlives its reader (a terminal, a pipe):
// false, with errno set (ENOSPC for a write of 0 bytes), when fd takes no more.
bool write_fully(int fd, const void* data, size_t n) noexcept;
void write_file_atomic(const std::string& path, const std::string& data, mode_t mode = 0644);
// A new file written and fsync'd in place, for a directory that is itself staged and then renamed
// into place whole (a temporary name and a rename per file would add nothing). Error if it exists.
void write_new_file_durable(const std::string& path, const std::string& data, mode_t mode = 0644);
// Reads a whole file (at most max_bytes); throws Error naming the path.
std::string read_whole_file(const std::string& path, size_t max_bytes = 64u << 20);
// Like read_whole_file, but nullopt when the file does not exist.
std::optional<std::string> read_file_if_exists(const std::string& path, size_t max_bytes = 64u << 20);
// Removes a tree without following symlinks; a missing path is fine.
void remove_tree(const std::string& path);
// Gives dst_fd the extended attributes of src_fd (both open files or directories), dropping
// dst's own first; names starting with skip_prefix (unless empty) are neither dropped nor copied.
// Throws "<what>: xattr <name>: <error>" (ENOTSUP is ignored: the file system has none).
void copy_xattrs(int src_fd, int dst_fd, const std::string& what, const std::string& skip_prefix = "");
// Creates dirfd/name (which must not exist) as a copy of the regular file src_fd whose stat is
// st: content, owner, mode, extended attributes, times. Throws "<what>: <step>: <error>".
void copy_regular_file(int src_fd, const struct stat& st, int dirfd, const std::string& name, const std::string& what);
// A path as it appears in an error message: at most about 200 bytes, so that a hostile name of
// 5,000 bytes still gives one readable line.
std::string shortened_path(const std::string& p);
// n random characters from [0-9a-f].
std::string random_hex(size_t n);
// n random characters from [A-Z0-9] (Docker's short-link alphabet).
std::string random_short_id(size_t n = 26);
bool pid_alive(pid_t pid);
// fsync of a directory (or file) by path; errors ignored where the file system has no fsync.
void fsync_path(const std::string& path);

// Removes a directory tree when it goes out of scope (errors ignored: it is a leftover then,
// which the next start cleans).
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::string dir) : dir_(std::move(dir)) {}
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  ~RemoveOnExit();
  const std::string& path() const { return dir_; }
  void release() { dir_.clear(); }  // keep it after all

 private:
  std::string dir_;
};

// The current time as RFC 3339 in UTC ("2026-11-22T15:04:05Z").
std::string now_rfc3339();

}  // namespace minirun

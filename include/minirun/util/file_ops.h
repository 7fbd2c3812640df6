// file_ops.h — the two file-system steps several stages repeat: replacing a file atomically
// (write a new file beside it → fsync when it must survive a power loss → rename over it), and
// listing a directory's names. Used by fsutil's write_file_atomic, the store, bridge networks'
// endpoint records and the CLI's -o outputs.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace minirun {

// Replaces `path` atomically: `write` fills a new file beside it (`path.tmp-<pid>-<rand>`, made
// with `mode`), which is fsynced when `durable` (a file system with no fsync is fine), then
// renamed over `path`. On any failure the new file is removed and `path` is as it was; throws
// what `write` threw, or "<path>: create|fsync|rename: <error>".
void replace_file(const std::string& path, mode_t mode, bool durable, const std::function<void(int fd)>& write);

// The names in directory `dir` but "." and "..", sorted; empty when it cannot be opened.
std::vector<std::string> list_dir_names(const std::string& dir);

}  // namespace minirun

// file_ops.h — the file-system steps several stages repeat: writing a new file (fsync'd when it
// must survive a power loss), replacing a file atomically (such a new file beside it, renamed
// over it), and listing a directory's names. Used by fsutil's write_file_atomic, the store, bridge networks'
// endpoint records and the CLI's -o outputs.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace minirun {

// Creates `path` (with `mode`; an error if it exists), has `write` fill it, fsyncs it when
// `durable` (a file system with no fsync is fine). On any failure the new file is removed; throws
// what `write` threw, or "<what>: create|fsync: <error>".
void write_new_file(const std::string& path, const std::string& what, mode_t mode, bool durable,
                    const std::function<void(int fd)>& write);

// Replaces `path` atomically: `write` fills a new file beside it (`path.tmp-<pid>-<rand>`, made
// with `mode`), which is fsynced when `durable` (a file system with no fsync is fine), then
// renamed over `path`. On any failure the new file is removed and `path` is as it was; throws
// what `write` threw, or "<path>: create|fsync|rename: <error>".
void replace_file(const std::string& path, mode_t mode, bool durable, const std::function<void(int fd)>& write);

// The names in directory `dir` but "." and "..", sorted; empty when it cannot be opened.
std::vector<std::string> list_dir_names(const std::string& dir);

}  // namespace minirun

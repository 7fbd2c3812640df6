// source_checksum.h — the checksum a COPY step's cache key takes of the files the step writes
// (its staged layer): every entry below a directory, sorted by path, with its path, type,
// permission bits (with setuid, setgid and sticky), owner, link target, device number and
// content digest. Times are not part of it: touching a source keeps the cache, while any
// change of what the layer would hold (content, mode, owner after --chown, a link's target, a
// file added, removed or renamed) gives another checksum.
#pragma once

#include <string>

namespace minirun::build {

// "sha256:<hex>" of the tree below dir (dir itself not included). Throws Error on a read error.
std::string tree_checksum(const std::string& dir);

}  // namespace minirun::build

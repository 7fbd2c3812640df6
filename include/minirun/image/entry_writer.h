// entry_writer.h — creates a layer's tar entries (as libarchive reads them) inside one
// destination directory and never outside it: regular files, directories, links, devices,
// fifos, whiteouts in overlay form, ownership, modes, xattrs and times. The most
// security-sensitive code of minirun (entry_writer.cpp explains how).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "minirun/image/extract.h"

struct archive;
struct archive_entry;

namespace minirun {

class EntryWriter {
 public:
  // dest: an existing, empty directory.
  EntryWriter(const std::string& dest, const ExtractOptions& opts);
  ~EntryWriter();
  EntryWriter(const EntryWriter&) = delete;
  EntryWriter& operator=(const EntryWriter&) = delete;
  // Creates entry e (its data read from a); throws Error naming the entry ("usr/bin/x: …").
  void apply(struct archive* a, struct archive_entry* e);
  // Once every entry is applied: directory times, deepest first.
  void finish();
  // Bytes of regular file content written (hard links counted once).
  uint64_t content_size() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace minirun

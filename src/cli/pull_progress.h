// pull_progress.h — docker pull's per-layer lines on a terminal: one line per layer, each
// rewritten in place as its layer moves on ("Waiting", "Downloading [==>   ]  12.3MB/95MB",
// "Extracting", "Pull complete", "Already exists"), with the cursor movements Docker's
// jsonmessage display uses (a new layer adds a line; an update moves up to its line, clears it,
// writes it and moves back down). Pure: events in, the bytes to write out; the caller writes
// them. The plain (non-terminal) lines are cmd_pull.cpp's own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "minirun/engine/pull.h"

namespace minirun::cli {

// Docker's units.HumanSize, as its progress shows sizes: decimal units, 4 significant digits
// ("12.35MB", "95MB", "512B"; cli.h's human_size, for `images`, has 3).
std::string progress_size(uint64_t bytes);

// Docker's JSONProgress.String(): "[=====>     ] " when the terminal is wider than 110
// columns, then "%8v/%v" of the byte counts; "" when nothing is known.
std::string progress_bar(uint64_t done, uint64_t total, size_t width);

class TerminalProgress {
 public:
  // width: the terminal's columns (0 when unknown: no bar).
  explicit TerminalProgress(size_t width = 0) : width_(width) {}

  // A layer's line, added under the others the first time its id is seen, else rewritten.
  std::string layer(const LayerProgress& p);
  // A line of its own ("Digest: …"): written where the cursor is, under the layers' lines; the
  // layers seen so far are forgotten (a later event of theirs starts a new line), as in Docker.
  std::string line(const std::string& text);

  // The words a state shows, as docker pull does.
  static std::string status(const LayerProgress& p, size_t width);

 private:
  size_t width_;
  std::map<std::string, size_t> lines_;  // layer id → its line, from the first
};

}  // namespace minirun::cli

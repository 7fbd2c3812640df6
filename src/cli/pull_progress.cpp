// pull_progress.cpp — see pull_progress.h.
#include "pull_progress.h"

#include <cstdio>

namespace minirun::cli {

std::string progress_size(uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1000.0 && u + 1 < sizeof units / sizeof *units) v /= 1000.0, u++;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.4g%s", v, units[u]);
  return buf;
}

std::string progress_bar(uint64_t done, uint64_t total, size_t width) {
  if (done == 0 && total == 0) return "";
  char buf[96];
  if (total == 0) {
    std::snprintf(buf, sizeof buf, "%8s", progress_size(done).c_str());
    return buf;
  }
  std::string out;
  if (width > 110) {
    size_t pct = static_cast<size_t>(static_cast<double>(done) / static_cast<double>(total) * 100) / 2;
    if (pct > 50) pct = 50;
    out = "[" + std::string(pct, '=') + ">" + std::string(50 - pct, ' ') + "] ";
  }
  if (done > total)
    std::snprintf(buf, sizeof buf, "%8s", progress_size(done).c_str());
  else
    std::snprintf(buf, sizeof buf, "%8s/%s", progress_size(done).c_str(), progress_size(total).c_str());
  return out + buf;
}

std::string TerminalProgress::status(const LayerProgress& p, size_t width) {
  switch (p.state) {
    case LayerState::kWaiting: return "Waiting";
    case LayerState::kDownloading: return "Downloading " + progress_bar(p.done, p.total, width);
    case LayerState::kExtracting: return "Extracting";
    case LayerState::kComplete: return "Pull complete";
    case LayerState::kExists: return "Already exists";
  }
  return "";
}

std::string TerminalProgress::layer(const LayerProgress& p) {
  std::string out;
  auto it = lines_.find(p.id);
  if (it == lines_.end()) {
    it = lines_.emplace(p.id, lines_.size()).first;
    out += "\n";  // the new line; the cursor stays under every layer's line
  }
  size_t up = lines_.size() - it->second;
  out += "\x1b[" + std::to_string(up) + "A";
  out += "\x1b[2K\r" + p.id + ": " + status(p, width_) + "\r";
  out += "\x1b[" + std::to_string(up) + "B";
  return out;
}

std::string TerminalProgress::line(const std::string& text) {
  lines_.clear();
  return text + "\n";
}

}  // namespace minirun::cli

// retry.cpp — see retry.h.
#include "minirun/registry/retry.h"

#include <charconv>

namespace minirun::registry {

bool retryable_status(int s) { return s == 408 || s == 425 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504; }

std::chrono::milliseconds retry_delay(int failures, std::string_view retry_after, std::chrono::milliseconds cap) {
  using std::chrono::milliseconds;
  while (!retry_after.empty() && retry_after.front() == ' ') retry_after.remove_prefix(1);
  while (!retry_after.empty() && retry_after.back() == ' ') retry_after.remove_suffix(1);
  unsigned long long secs = 0;
  auto [end, ec] = std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), secs);
  if (!retry_after.empty() && ec == std::errc() && end == retry_after.data() + retry_after.size()) {
    if (secs >= static_cast<unsigned long long>(cap.count()) / 1000 + 1) return cap;
    return std::min(cap, milliseconds(secs * 1000));
  }
  int shift = failures < 1 ? 0 : (failures > 16 ? 15 : failures - 1);
  return std::min(cap, milliseconds(250LL << shift));
}

std::optional<uint64_t> bytes_to_skip(int status, std::string_view range, uint64_t pos) {
  if (status == 200) return pos;
  if (status != 206) return std::nullopt;
  if (range.rfind("bytes ", 0) != 0) return std::nullopt;
  range.remove_prefix(6);
  uint64_t start = 0;
  auto [end, ec] = std::from_chars(range.data(), range.data() + range.size(), start);
  if (ec != std::errc() || end == range.data() + range.size() || *end != '-') return std::nullopt;
  if (start > pos) return std::nullopt;
  return pos - start;
}

}  // namespace minirun::registry

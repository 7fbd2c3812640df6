// retry.h — the decisions of a blob download that survives a flaky registry, as pure functions:
// which answers are worth another try, how long to wait before it (exponential, or the server's
// Retry-After, always bounded), and where a response to a resumed request (Range: bytes=N-)
// starts, so that each byte reaches the sink once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace minirun::registry {

// 408, 425, 429, 500, 502, 503, 504: a later try may work.
bool retryable_status(int status);

// The wait before try number `failures` + 1 (failures >= 1): 250 ms doubled each time, or the
// Retry-After header's seconds when it has some (an HTTP date is not read: the doubling applies),
// never more than `cap`.
std::chrono::milliseconds retry_delay(int failures, std::string_view retry_after, std::chrono::milliseconds cap);

// For a response to a request for the blob from byte `pos`: how many bytes of its body come
// before `pos` and must be dropped. 200 is the whole blob again (pos bytes to drop); 206 starts
// where its Content-Range ("bytes START-END/TOTAL") says. nullopt when the body cannot continue
// at pos (a 206 starting after pos, or one whose Content-Range cannot be read).
std::optional<uint64_t> bytes_to_skip(int status, std::string_view content_range, uint64_t pos);

}  // namespace minirun::registry

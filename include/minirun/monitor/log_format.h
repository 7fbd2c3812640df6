// log_format.h — one line of Docker's json-file log driver, both ways:
//   {"log":"hello\n","stream":"stdout","time":"2026-11-26T01:02:03.123456789Z"}
// `log` is the bytes the container wrote, a line with its "\n" or, for a partial message (a line
// longer than kMaxLogLine, or the unfinished end of a stream), without it. Invalid UTF-8 becomes
// U+FFFD as Docker writes it. The encoder writes into a caller's buffer in one pass (no
// allocation); the decoder has a fast path for the exact field order minirun and Docker write
// and falls back to a JSON parser for anything else a foreign tool may have written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace minirun::logs {

enum class Stream : uint8_t { out = 0, err = 1 };

// Docker splits lines longer than this into partial messages (16 KiB).
constexpr size_t kMaxLogLine = 16 * 1024;

// Bytes an encoded entry of a log of n bytes may take at most.
constexpr size_t max_entry_size(size_t n) { return 6 * n + 96; }

// Appends the JSON string escape of s (without quotes) at dst, which has room for 6 * n bytes;
// returns the new end.
char* json_escape(char* dst, const char* s, size_t n);

// Writes one entry and its '\n' at dst (room for max_entry_size(n)); `time` is
// kRfc3339NanoLen characters. Returns the new end.
char* encode_entry(char* dst, const char* log, size_t n, bool newline, Stream s, const char* time);

struct Entry {
  Stream stream = Stream::out;
  int64_t time_ns = 0;  // 0 when the line has no valid time
  std::string_view time;  // the time as written in the line (valid while the line is)
};

// The fast path alone: a line in exactly the field order minirun and Docker write. Gives the
// stream, the still-escaped log text and the time text (views into line); false otherwise.
bool split_entry(std::string_view line, Stream& stream, std::string_view& escaped, std::string_view& time);
// Appends the decoded JSON string body `escaped` (no quotes) to out; false (out may hold part of
// it) on an unescaped quote or a bad escape.
bool unescape_json(std::string_view escaped, std::string& out);
// The same into a raw buffer with room for escaped.size() bytes (decoding never grows the text);
// returns the new end, nullptr when it is not a valid string body.
char* unescape_json(std::string_view escaped, char* dst);

// The one-pass fast path over a buffer, for reading whole files: the line at p (the buffer ends
// at end) in exactly the form encode_entry writes (a 30-character time). Decodes its log text to
// dst (room bytes at most) and returns the line's length with its '\n'; 0 when the line has
// another form, is not complete before end, or its text needs more than room (the caller then
// takes the general path: find the '\n', decode_entry).
struct FastLine {
  Stream stream = Stream::out;
  char* text_end = nullptr;    // the decoded text is [dst, text_end)
  const char* time = nullptr;  // kRfc3339NanoLen characters
};
size_t parse_line_fast(const char* p, const char* end, char* dst, size_t room, FastLine& f);

// Decodes one line (without its '\n'): appends the log text to `text` and fills `e`. The fast
// path does not parse the time (need_time = false) unless asked. False when the line is not an
// entry (not JSON, no "log" string); `text` is unchanged then.
bool decode_entry(std::string_view line, std::string& text, Entry& e, bool need_time);

}  // namespace minirun::logs

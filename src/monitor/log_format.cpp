// log_format.cpp — design: the encoder and the fast decoder look at 16 bytes at a time (SSE2,
// which every x86-64 has; a byte loop elsewhere) for the few bytes JSON cares about, and copy
// the runs between them whole. Log text is mostly printable ASCII, so an entry costs about one
// memcpy of its text. The fast decoder reads the fixed tail `","stream":"stdout","time":"…"}`
// from the end of the line, so it knows the stream before it decodes the text and can append
// the text straight into the right output buffer.
#include "minirun/monitor/log_format.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "minirun/util/timefmt.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace minirun::logs {

namespace {

const char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at s (1 to 4), 0 when it is not valid.
size_t utf8_len(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  if (c < 0xC2) return 0;
  if (c < 0xE0) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c < 0xF0) {
    if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && s[1] >= 0xA0) return 0;  // surrogates
    return 3;
  }
  if (c < 0xF5) {
    if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && s[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && s[1] >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Index of the first byte in [p, p+n) that JSON must escape or that is not ASCII; n if none.
inline size_t plain_run(const char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them with the controls.
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
    int mask = _mm_movemask_epi8(bad);
    if (mask) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return i;
  }
  return n;
}

// Index of the first '"' or '\\' in [p, p+n); n if none.
inline size_t string_run(const char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
    if (mask) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < n; i++)
    if (p[i] == '"' || p[i] == '\\') return i;
  return n;
}

inline int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool hex4(const char* p, unsigned& v) {
  v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0) return false;
    v = v * 16 + static_cast<unsigned>(h);
  }
  return true;
}

// put_utf8 into a raw buffer; returns the new end.
char* put_utf8_raw(char* d, unsigned cp) {
  if (cp < 0x80) {
    *d++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *d++ = static_cast<char>(0xC0 | (cp >> 6)), *d++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *d++ = static_cast<char>(0xE0 | (cp >> 12)), *d++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *d++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *d++ = static_cast<char>(0xF0 | (cp >> 18)), *d++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *d++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), *d++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return d;
}

// Decodes the JSON string body [p, end) (no quotes) to dst, which has room for end - p bytes
// (decoding never grows the text). Returns the new end, nullptr on an unescaped quote or a bad
// escape.
char* unescape_raw(const char* p, const char* end, char* d) {
  while (p < end) {
    size_t run = string_run(p, static_cast<size_t>(end - p));
    std::memcpy(d, p, run);
    d += run;
    p += run;
    if (p == end) return d;
    if (*p == '"' || p + 1 == end) return nullptr;
    char c = p[1];
    p += 2;
    switch (c) {
      case 'n': *d++ = '\n'; break;
      case 't': *d++ = '\t'; break;
      case 'r': *d++ = '\r'; break;
      case '"': *d++ = '"'; break;
      case '\\': *d++ = '\\'; break;
      case '/': *d++ = '/'; break;
      case 'b': *d++ = '\b'; break;
      case 'f': *d++ = '\f'; break;
      case 'u': {
        unsigned cp;
        if (end - p < 4 || !hex4(p, cp)) return nullptr;
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
          unsigned lo;
          if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, lo) && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          cp = 0xFFFD;
        }
        d = put_utf8_raw(d, cp);
        break;
      }
      default: return nullptr;
    }
  }
  return d;
}

// Decodes a JSON string body from p up to its closing quote, to d (room for end - p bytes).
// Returns the quote's position (d is then the text's end), nullptr on a bad escape or when no
// quote comes before end.
const char* unescape_to_quote(const char* p, const char* end, char*& d) {
  while (p < end) {
    size_t run = string_run(p, static_cast<size_t>(end - p));
    std::memcpy(d, p, run);
    d += run;
    p += run;
    if (p == end) return nullptr;
    if (*p == '"') return p;
    if (p + 1 == end) return nullptr;
    char c = p[1];
    if (c == 'n') {  // the one escape of nearly every entry
      *d++ = '\n';
      p += 2;
      continue;
    }
    // Anything else: the general decoder on this escape alone.
    const char* esc_end = p + 2;
    if (c == 'u') {
      esc_end = p + 6;
      if (esc_end + 6 <= end && esc_end[0] == '\\' && esc_end[1] == 'u') esc_end += 6;  // a surrogate pair's half
      if (esc_end > end) return nullptr;
    }
    char* e = unescape_raw(p, esc_end, d);
    if (!e) {
      if (c == 'u' && esc_end - p == 12) {  // not a pair after all: decode the first alone
        esc_end = p + 6;
        e = unescape_raw(p, esc_end, d);
      }
      if (!e) return nullptr;
    }
    d = e;
    p = esc_end;
  }
  return nullptr;
}

// Decodes the JSON string body [p, end) (no quotes) onto out. False on an unescaped quote or a
// bad escape.
bool unescape(const char* p, const char* end, std::string& out) {
  size_t at = out.size();
  out.resize(at + static_cast<size_t>(end - p));
  char* e = unescape_raw(p, end, out.data() + at);
  if (!e) return false;
  out.resize(static_cast<size_t>(e - out.data()));
  return true;
}

constexpr std::string_view kHead = "{\"log\":\"";
constexpr std::string_view kMidOut = "\",\"stream\":\"stdout\",\"time\":\"";
constexpr std::string_view kMidErr = "\",\"stream\":\"stderr\",\"time\":\"";

bool decode_slow(std::string_view line, std::string& text, Entry& e) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  auto l = j.find("log");
  if (l == j.end() || !l->is_string()) return false;
  auto s = j.find("stream");
  e.stream = s != j.end() && s->is_string() && s->get_ref<const std::string&>() == "stdout" ? Stream::out : Stream::err;
  if (s == j.end()) e.stream = Stream::out;
  e.time = {};
  e.time_ns = 0;
  auto t = j.find("time");
  if (t != j.end() && t->is_string()) {
    const std::string& ts = t->get_ref<const std::string&>();
    // Point into the line so that the view outlives the parsed document.
    size_t at = line.find(ts);
    if (at != std::string_view::npos) e.time = line.substr(at, ts.size());
    if (!parse_rfc3339(ts, e.time_ns)) e.time_ns = 0;
  }
  text += l->get_ref<const std::string&>();
  return true;
}

}  // namespace

char* json_escape(char* dst, const char* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t run = plain_run(s + i, n - i);
    std::memcpy(dst, s + i, run);
    dst += run;
    i += run;
    if (i == n) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = utf8_len(reinterpret_cast<const unsigned char*>(s + i), n - i);
      if (len) {
        std::memcpy(dst, s + i, len);
        dst += len;
        i += len;
      } else {
        std::memcpy(dst, "\\ufffd", 6);
        dst += 6;
        i++;
      }
      continue;
    }
    *dst++ = '\\';
    switch (c) {
      case '"': *dst++ = '"'; break;
      case '\\': *dst++ = '\\'; break;
      case '\n': *dst++ = 'n'; break;
      case '\r': *dst++ = 'r'; break;
      case '\t': *dst++ = 't'; break;
      default:
        *dst++ = 'u', *dst++ = '0', *dst++ = '0';
        *dst++ = kHex[c >> 4], *dst++ = kHex[c & 15];
    }
    i++;
  }
  return dst;
}

char* encode_entry(char* dst, const char* log, size_t n, bool newline, Stream s, const char* time) {
  std::memcpy(dst, kHead.data(), kHead.size());
  dst = json_escape(dst + kHead.size(), log, n);
  if (newline) *dst++ = '\\', *dst++ = 'n';
  std::string_view mid = s == Stream::out ? kMidOut : kMidErr;
  std::memcpy(dst, mid.data(), mid.size());
  dst += mid.size();
  std::memcpy(dst, time, kRfc3339NanoLen);
  dst += kRfc3339NanoLen;
  *dst++ = '"', *dst++ = '}', *dst++ = '\n';
  return dst;
}

bool split_entry(std::string_view line, Stream& stream, std::string_view& escaped, std::string_view& time) {
  if (line.size() < kHead.size() + kMidOut.size() + 2 || line.compare(0, kHead.size(), kHead) != 0 ||
      line[line.size() - 2] != '"' || line[line.size() - 1] != '}')
    return false;
  size_t tend = line.size() - 2;
  size_t q = line.rfind('"', tend - 1);
  if (q == std::string_view::npos || q + 1 < kMidOut.size() + kHead.size()) return false;
  size_t mid = q + 1 - kMidOut.size();
  std::string_view m = line.substr(mid, kMidOut.size());
  if (m == kMidOut) stream = Stream::out;
  else if (m == kMidErr) stream = Stream::err;
  else return false;
  escaped = line.substr(kHead.size(), mid - kHead.size());
  time = line.substr(q + 1, tend - q - 1);
  return true;
}

char* unescape_json(std::string_view escaped, char* dst) {
  return unescape_raw(escaped.data(), escaped.data() + escaped.size(), dst);
}

size_t parse_line_fast(const char* p, const char* end, char* dst, size_t room, FastLine& f) {
  constexpr size_t kTail = kMidOut.size() + kRfc3339NanoLen + 3;  // …"time":"<30>"}\n
  if (static_cast<size_t>(end - p) < kHead.size() + kTail || std::memcmp(p, kHead.data(), kHead.size()) != 0) return 0;
  const char* text = p + kHead.size();
  const char* limit = static_cast<size_t>(end - text) > room ? text + room : end;
  char* d = dst;
  const char* q = unescape_to_quote(text, limit, d);
  if (!q || static_cast<size_t>(end - q) < kTail) return 0;
  if (std::memcmp(q, kMidOut.data(), kMidOut.size()) == 0) f.stream = Stream::out;
  else if (std::memcmp(q, kMidErr.data(), kMidErr.size()) == 0) f.stream = Stream::err;
  else return 0;
  const char* t = q + kMidOut.size();
  if (t[kRfc3339NanoLen - 1] != 'Z' || t[kRfc3339NanoLen] != '"' || t[kRfc3339NanoLen + 1] != '}' ||
      t[kRfc3339NanoLen + 2] != '\n')
    return 0;
  f.time = t;
  f.text_end = d;
  return static_cast<size_t>(t + kRfc3339NanoLen + 3 - p);
}

bool unescape_json(std::string_view escaped, std::string& out) {
  return unescape(escaped.data(), escaped.data() + escaped.size(), out);
}

bool decode_entry(std::string_view line, std::string& text, Entry& e, bool need_time) {
  std::string_view escaped, time;
  Stream s;
  if (split_entry(line, s, escaped, time)) {
    size_t before = text.size();
    if (unescape(escaped.data(), escaped.data() + escaped.size(), text)) {
      e.stream = s;
      e.time = time;
      e.time_ns = 0;
      if (need_time && !parse_rfc3339(time, e.time_ns)) e.time_ns = 0;
      return true;
    }
    text.resize(before);
  }
  return decode_slow(line, text, e);
}

}  // namespace minirun::logs

#include "minirun/util/go_duration.h"

#include <cstring>

namespace minirun {

namespace {

// The unit at the start of s (longest match), its length in *len; 0 when none.
uint64_t unit_of(std::string_view s, size_t* len) {
  static const struct {
    const char* name;
    uint64_t ns;
  } units[] = {{"ns", 1},          {"us", 1000},        {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
               {"ms", 1000000},    {"s", 1000000000ULL}, {"m", 60000000000ULL}, {"h", 3600000000000ULL}};
  size_t n = 0;
  while (n < s.size() && s[n] != '.' && (s[n] < '0' || s[n] > '9')) n++;
  for (const auto& u : units)
    if (s.substr(0, n) == u.name) {
      *len = n;
      return u.ns;
    }
  return 0;
}

}  // namespace

std::optional<int64_t> parse_go_duration(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  constexpr uint64_t kMax = uint64_t{1} << 63;  // |int64 min|
  uint64_t total = 0;
  while (!s.empty()) {
    uint64_t whole = 0, frac = 0, scale = 1;
    size_t i = 0;
    bool digits = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++) {
      if (whole > (kMax - 9) / 10) return std::nullopt;
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      for (i++; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++) {
        digits = true;
        if (scale < 1000000000000000000ULL) {  // more digits than that cannot matter
          frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!digits) return std::nullopt;
    size_t ulen = 0;
    uint64_t unit = unit_of(s.substr(i), &ulen);
    if (!unit) return std::nullopt;
    if (whole > kMax / unit) return std::nullopt;
    uint64_t v = whole * unit;
    v += static_cast<uint64_t>(static_cast<long double>(frac) * static_cast<long double>(unit) / scale);
    if (v > kMax || total > kMax - v) return std::nullopt;
    total += v;
    s.remove_prefix(i + ulen);
  }
  if (!neg && total == kMax) return std::nullopt;
  return neg ? static_cast<int64_t>(0 - total) : static_cast<int64_t>(total);
}

namespace {

// v / 10^prec with the fraction's trailing zeros (and a bare point) left out.
std::string fraction(uint64_t& v, int prec) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; i++) {
    int d = static_cast<int>(v % 10);
    print = print || d != 0;
    if (print) digits.insert(digits.begin(), static_cast<char>('0' + d));
    v /= 10;
  }
  return print ? "." + digits : "";
}

}  // namespace

std::string format_go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  const bool neg = ns < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string out;
  if (u < 1000000000ULL) {
    int prec = 0;
    const char* unit = "ns";
    if (u >= 1000000) prec = 6, unit = "ms";
    else if (u >= 1000) prec = 3, unit = "\xc2\xb5s";
    std::string f = fraction(u, prec);
    out = std::to_string(u) + f + unit;
  } else {
    std::string f = fraction(u, 9);
    out = std::to_string(u % 60) + f + "s";
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

}  // namespace minirun

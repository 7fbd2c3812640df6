#include "minirun/util/timefmt.h"

#include <time.h>

namespace minirun {

int64_t now_unix_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Howard Hinnant's civil calendar algorithms.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

static void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

static inline void put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

void format_rfc3339_nano(char* dst, int64_t ns) {
  int64_t secs = ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000);
  int64_t frac = ns - secs * 1000000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  unsigned yy = static_cast<unsigned>(y < 0 ? 0 : y > 9999 ? 9999 : y);
  put2(dst, yy / 100);
  put2(dst + 2, yy % 100);
  dst[4] = '-';
  put2(dst + 5, m);
  dst[7] = '-';
  put2(dst + 8, d);
  dst[10] = 'T';
  put2(dst + 11, static_cast<unsigned>(sod / 3600));
  dst[13] = ':';
  put2(dst + 14, static_cast<unsigned>(sod / 60 % 60));
  dst[16] = ':';
  put2(dst + 17, static_cast<unsigned>(sod % 60));
  dst[19] = '.';
  for (int i = 28; i >= 20; i--) {
    dst[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  dst[29] = 'Z';
}

std::string format_rfc3339_nano(int64_t ns) {
  std::string s(kRfc3339NanoLen, '\0');
  format_rfc3339_nano(s.data(), ns);
  return s;
}

static bool digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  out = v;
  return true;
}

bool parse_rfc3339(std::string_view s, int64_t& out) {
  unsigned y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return false;
  static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60) return false;
  if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return false;
  size_t p = 19;
  int64_t frac = 0;
  if (p < s.size() && s[p] == '.') {
    p++;
    size_t n = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      if (n < 9) frac = frac * 10 + (s[p] - '0');
      n++, p++;
    }
    if (n == 0) return false;
    for (; n < 9; n++) frac *= 10;
  }
  int64_t offset = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    p++;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    unsigned oh, om;
    if (!digits(s, p + 1, 2, oh) || p + 3 >= s.size() || s[p + 3] != ':' || !digits(s, p + 4, 2, om) || oh > 23 ||
        om > 59)
      return false;
    offset = (s[p] == '+' ? 1 : -1) * static_cast<int64_t>(oh * 3600 + om * 60);
    p += 6;
  } else {
    return false;
  }
  if (p != s.size()) return false;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  out = secs * 1000000000 + frac;
  return true;
}

}  // namespace minirun

// dockerignore.cpp — patternmatcher's rules: each pattern compiled once to an exact, prefix,
// suffix or token match (the tokens of the regular expression patternmatcher builds, run by a
// small automaton rather than a regular-expression engine), then MatchesOrParentMatches' walk
// over the patterns with the parent-directory rule.
#include "minirun/dockerfile/dockerignore.h"

#include <algorithm>

#include "minirun/dockerfile/code_points.h"
#include "minirun/util/error.h"

namespace minirun::dockerfile {

std::string clean_path(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path[0] == '/';
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view elem = path.substr(i, j - i);
    i = j + 1;
    if (elem.empty() || elem == ".") continue;
    if (elem == "..") {
      if (!out.empty() && out.back() != "..")
        out.pop_back();
      else if (!rooted)
        out.emplace_back("..");
      continue;
    }
    out.emplace_back(elem);
  }
  std::string s = rooted ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) s += (k ? "/" : "") + out[k];
  return s.empty() ? "." : s;
}

namespace {

std::string trim(std::string_view s) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    size_t j = s.find(sep, i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) return out;
    i = j + 1;
  }
}

// filepath.Match's syntax check: the classes closed, an escape not at the end.
bool valid_glob(std::string_view p) {
  // One character of a class, maybe escaped; ']' and '-' must be escaped there.
  auto class_char = [&](size_t& i) {
    if (i >= p.size() || p[i] == '-' || p[i] == ']') return false;
    if (p[i] == '\\' && ++i >= p.size()) return false;
    ++i;
    return true;
  };
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      if (++i >= p.size()) return false;
    } else if (p[i] == '[') {
      ++i;
      if (i < p.size() && p[i] == '^') ++i;
      for (int nrange = 0;; ++nrange) {
        if (i < p.size() && p[i] == ']' && nrange > 0) break;
        if (!class_char(i)) return false;
        if (i < p.size() && p[i] == '-') {
          ++i;
          if (!class_char(i)) return false;
        }
      }
    }
  }
  return true;
}

}  // namespace

// One pattern, compiled as patternmatcher compiles it: an exact, prefix or suffix comparison
// when it can, else the tokens of the regular expression patternmatcher would build ("^...$"
// of literals, [^/], [^/]*, (.*/)?, .* and [classes]), matched by an automaton over the path's
// characters.
struct DockerIgnore::Pattern {
  enum Type { kExact, kPrefix, kSuffix, kTokens } type = kExact;
  struct Token {
    enum Kind { kLiteral, kOneNotSlash, kManyNotSlash, kOptionalDirs, kAnything, kClass } kind;
    char32_t ch = 0;
    bool negated = false;
    std::vector<std::pair<char32_t, char32_t>> ranges;

    bool in_class(char32_t c) const {
      bool in = false;
      for (const auto& [lo, hi] : ranges) in = in || (c >= lo && c <= hi);
      return in != negated;
    }
  };
  std::string cleaned;
  std::vector<std::string> dirs;
  std::vector<Token> tokens;
  bool exclusion = false;

  void compile() {
    Type detected = kExact;
    std::u32string p = decode_code_points(cleaned);
    auto literal = [&](char32_t c) { tokens.push_back({Token::kLiteral, c}); };
    for (size_t i = 0, n = 0; i < p.size(); ++n) {
      char32_t ch = p[i++];
      if (ch == U'*') {
        if (i < p.size() && p[i] == U'*') {
          ++i;
          if (i < p.size() && p[i] == U'/') ++i;
          if (i >= p.size()) {
            if (detected == kExact) {
              detected = kPrefix;
            } else {
              tokens.push_back({Token::kAnything});
              detected = kTokens;
            }
          } else {
            tokens.push_back({Token::kOptionalDirs});
            detected = kTokens;
          }
          if (n == 0) detected = kSuffix;
        } else {
          tokens.push_back({Token::kManyNotSlash});
          detected = kTokens;
        }
      } else if (ch == U'?') {
        tokens.push_back({Token::kOneNotSlash});
        detected = kTokens;
      } else if (ch == U'\\') {
        if (i < p.size()) {
          literal(p[i++]);
          detected = kTokens;
        } else {
          literal(U'\\');
        }
      } else if (ch == U'[') {
        // A class as filepath.Match checked it: [^...], characters, \-escapes, ranges a-z.
        Token t{Token::kClass};
        if (i < p.size() && p[i] == U'^') {
          t.negated = true;
          ++i;
        }
        auto one = [&]() {
          if (i < p.size() && p[i] == U'\\') ++i;
          return i < p.size() ? p[i++] : U'\\';
        };
        while (i < p.size() && p[i] != U']') {
          char32_t lo = one();
          char32_t hi = lo;
          if (i + 1 < p.size() && p[i] == U'-' && p[i + 1] != U']') {
            ++i;
            hi = one();
          }
          t.ranges.emplace_back(lo, hi);
        }
        if (i < p.size()) ++i;  // the ]
        tokens.push_back(std::move(t));
        detected = kTokens;
      } else if (ch == U']') {
        literal(ch);
        detected = kTokens;
      } else {
        literal(ch);
      }
    }
    type = detected;
  }

  // Whether the tokens match the path, or (with parents) the path up to one of its slashes.
  bool match_tokens(std::string_view path, bool parents) const {
    const size_t m = tokens.size();
    // on[i]: before token i; dirs[i]: inside the ".*" of an optional "(.*/)?" token i.
    std::vector<char> on(m + 1, 0), dirs(m, 0), next_on(m + 1, 0), next_dirs(m, 0);
    auto close = [&](std::vector<char>& o, std::vector<char>& d) {
      for (size_t i = 0; i < m; ++i) {
        if (!o[i]) continue;
        auto k = tokens[i].kind;
        if (k == Token::kManyNotSlash || k == Token::kAnything || k == Token::kOptionalDirs) o[i + 1] = 1;
        if (k == Token::kOptionalDirs) d[i] = 1;
      }
    };
    on[0] = 1;
    close(on, dirs);
    for (char32_t c : decode_code_points(path)) {
      if (parents && c == U'/' && on[m]) return true;
      std::fill(next_on.begin(), next_on.end(), 0);
      std::fill(next_dirs.begin(), next_dirs.end(), 0);
      bool any = false;
      for (size_t i = 0; i < m; ++i) {
        const Token& t = tokens[i];
        if (on[i]) {
          switch (t.kind) {
            case Token::kLiteral:
              if (c == t.ch) next_on[i + 1] = any = true;
              break;
            case Token::kOneNotSlash:
              if (c != U'/') next_on[i + 1] = any = true;
              break;
            case Token::kManyNotSlash:
              if (c != U'/') next_on[i] = any = true;
              break;
            case Token::kAnything:
              if (c != U'\n') next_on[i] = any = true;
              break;
            case Token::kClass:
              if (t.in_class(c)) next_on[i + 1] = any = true;
              break;
            case Token::kOptionalDirs:
              break;
          }
        }
        if (dirs[i] && c != U'\n') {
          next_dirs[i] = any = true;
          if (c == U'/') next_on[i + 1] = 1;
        }
      }
      if (!any) return false;
      close(next_on, next_dirs);
      std::swap(on, next_on);
      std::swap(dirs, next_dirs);
    }
    return on[m];
  }

  // patternmatcher's MatchesOrParentMatches for one pattern: the path or a directory above it.
  bool match_self_or_parent(std::string_view path) const {
    if (type == kTokens) return match_tokens(path, true);
    if (match(path)) return true;
    for (size_t j = path.find('/'); j != std::string_view::npos; j = path.find('/', j + 1))
      if (j > 0 && match(path.substr(0, j))) return true;
    return false;
  }

  bool match(std::string_view path) const {
    switch (type) {
      case kExact:
        return path == cleaned;
      case kPrefix:
        return path.substr(0, cleaned.size() - 2) == std::string_view(cleaned).substr(0, cleaned.size() - 2);
      case kSuffix: {
        std::string_view suffix = std::string_view(cleaned).substr(2);
        if (path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
          return true;
        return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
      }
      case kTokens:
        return match_tokens(path, false);
    }
    return false;
  }
};

std::vector<std::string> read_dockerignore(std::string_view text) {
  std::vector<std::string> out;
  bool first = true;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // bufio.ScanLines drops a \r
    if (first && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    first = false;
    if (!line.empty() && line[0] == '#') continue;
    std::string pattern = trim(line);
    if (pattern.empty()) continue;
    bool invert = pattern[0] == '!';
    if (invert) pattern = trim(pattern.substr(1));
    if (!pattern.empty()) {
      pattern = clean_path(pattern);
      if (pattern.size() > 1 && pattern[0] == '/') pattern.erase(0, 1);
    }
    if (invert) pattern = "!" + pattern;
    out.push_back(pattern);
  }
  return out;
}

DockerIgnore::DockerIgnore(const std::vector<std::string>& patterns) {
  for (const auto& raw : patterns) {
    std::string p = trim(raw);
    if (p.empty()) continue;
    p = clean_path(p);
    auto pat = std::make_unique<Pattern>();
    if (p[0] == '!') {
      if (p.size() == 1) throw Error("illegal exclusion pattern: \"!\"");
      pat->exclusion = true;
      p.erase(0, 1);
      exclusions_ = true;
    }
    if (!valid_glob(p)) throw Error("syntax error in pattern");
    pat->cleaned = p;
    pat->dirs = split(p, '/');
    pat->compile();
    patterns_.push_back(std::move(pat));
  }
}

DockerIgnore::~DockerIgnore() = default;
DockerIgnore::DockerIgnore(DockerIgnore&&) noexcept = default;
DockerIgnore& DockerIgnore::operator=(DockerIgnore&&) noexcept = default;

bool DockerIgnore::has_exclusions() const { return exclusions_; }
bool DockerIgnore::empty() const { return patterns_.empty(); }

bool DockerIgnore::excluded(std::string_view path) const {
  // MatchesOrParentMatches, what BuildKit's context walker applies: a pattern matching the
  // path or any directory above it; the last pattern that matches decides.
  std::string file = clean_path(path);
  if (file == ".") return false;
  bool matched = false;
  for (const auto& p : patterns_) {
    if (p->exclusion != matched) continue;
    if (p->match_self_or_parent(file)) matched = !p->exclusion;
  }
  return matched;
}

bool DockerIgnore::may_include_below(std::string_view dir) const {
  if (!exclusions_) return false;
  std::string d = clean_path(dir);
  std::vector<std::string> comps = d == "." ? std::vector<std::string>{} : split(d, '/');
  for (const auto& p : patterns_) {
    if (!p->exclusion) continue;
    bool possible = true;
    for (size_t i = 0; i < comps.size() && i < p->dirs.size(); ++i) {
      const std::string& pc = p->dirs[i];
      if (pc.find("**") != std::string::npos) break;  // may match any depth
      Pattern one;
      one.cleaned = pc;
      one.compile();
      if (one.type == Pattern::kPrefix || one.type == Pattern::kSuffix) break;  // a ** of its own
      if (!one.match(comps[i])) {
        possible = false;
        break;
      }
    }
    if (possible) return true;
  }
  return false;
}

}  // namespace minirun::dockerfile

// dockerignore.cpp — patternmatcher's rules: each pattern compiled once to an exact, prefix,
// suffix or regular-expression match (the same regular expression Docker builds), then
// Matches()'s walk over the patterns with the parent-directory rule.
#include "minirun/build/dockerignore.h"

#include <regex>

#include "minirun/util/error.h"

namespace minirun::build {

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

std::string dir_of(const std::string& p) {
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return clean_path(p.substr(0, slash + 1));
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

struct DockerIgnore::Pattern {
  enum Type { kExact, kPrefix, kSuffix, kRegex } type = kExact;
  std::string cleaned;
  std::vector<std::string> dirs;
  std::regex re;
  bool exclusion = false;

  void compile() {
    std::string reg = "^";
    Type detected = kExact;
    const std::string& p = cleaned;
    for (size_t i = 0, n = 0; i < p.size(); ++n) {
      char ch = p[i++];
      if (ch == '*') {
        if (i < p.size() && p[i] == '*') {
          ++i;
          if (i < p.size() && p[i] == '/') ++i;
          if (i >= p.size()) {
            if (detected == kExact) {
              detected = kPrefix;
            } else {
              reg += ".*";
              detected = kRegex;
            }
          } else {
            reg += "(.*/)?";
            detected = kRegex;
          }
          if (n == 0) detected = kSuffix;
        } else {
          reg += "[^/]*";
          detected = kRegex;
        }
      } else if (ch == '?') {
        reg += "[^/]";
        detected = kRegex;
      } else if (std::string_view(".+()|{}$").find(ch) != std::string_view::npos) {
        reg += '\\';
        reg += ch;
      } else if (ch == '\\') {
        if (i < p.size()) {
          reg += '\\';
          reg += p[i++];
          detected = kRegex;
        } else {
          reg += "\\\\";
        }
      } else if (ch == '[' || ch == ']') {
        reg += ch;
        detected = kRegex;
      } else {
        reg += ch;
      }
    }
    if (detected == kRegex) {
      reg += "$";
      try {
        re = std::regex(reg, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        throw Error("syntax error in pattern");
      }
    }
    type = detected;
  }

  bool match(const std::string& path) const {
    switch (type) {
      case kExact:
        return path == cleaned;
      case kPrefix:
        return path.rfind(cleaned.substr(0, cleaned.size() - 2), 0) == 0;
      case kSuffix: {
        std::string suffix = cleaned.substr(2);
        if (path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
          return true;
        return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
      }
      case kRegex:
        return std::regex_match(path, re);
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
  // path or any directory above it.
  std::string file = clean_path(path);
  if (file == ".") return false;
  bool matched = false;
  std::string parent = dir_of(file);
  std::vector<std::string> parent_dirs = split(parent, '/');
  for (const auto& p : patterns_) {
    if (p->exclusion != matched) continue;
    bool m = p->match(file);
    if (!m && parent != ".") {
      std::string prefix;
      for (size_t i = 0; i < parent_dirs.size() && !m; ++i) {
        prefix += (i ? "/" : "") + parent_dirs[i];
        m = p->match(prefix);
      }
    }
    if (m) matched = !p->exclusion;
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
      if (one.type == Pattern::kPrefix || one.type == Pattern::kSuffix) break;
      if (!one.match(comps[i])) {
        possible = false;
        break;
      }
    }
    if (possible) return true;
  }
  return false;
}

}  // namespace minirun::build

// shell_pattern.cpp — a shell pattern as tokens (literal, ?, *), matched by simulating its
// automaton: the set of token positions reached after each character of the value. Values are
// taken as UTF-8 code points (a byte that is not valid UTF-8 stands for itself), as Go's
// regular expressions take them.
#include "minirun/dockerfile/shell_pattern.h"

#include "minirun/dockerfile/code_points.h"

#include <algorithm>

#include "minirun/util/error.h"

namespace minirun::dockerfile {

ShellPattern::ShellPattern(std::string_view pattern) {
  std::u32string p = decode_code_points(pattern);
  for (size_t i = 0; i < p.size(); ++i) {
    char32_t c = p[i];
    if (c == U'*') {
      tokens_.push_back({Token::kStar, 0});
    } else if (c == U'?') {
      tokens_.push_back({Token::kAny, 0});
    } else if (c == U'\\') {
      char32_t next = i + 1 < p.size() ? p[i + 1] : 0;
      if (next == U'}' || next == U'/') continue;  // the character, taken next time round
      if (next != U'*' && next != U'?' && next != U'\\')
        throw Error("invalid escape '\\" + (i + 1 < p.size() ? encode_code_points(p.substr(i + 1, 1)) : "\xEF\xBF\xBD") + "'");
      tokens_.push_back({Token::kLiteral, next});
      ++i;
    } else {
      tokens_.push_back({Token::kLiteral, c});
    }
  }
}

std::vector<size_t> ShellPattern::match_ends(const std::vector<Token>& tokens, const std::u32string& text,
                                             size_t start) {
  const size_t m = tokens.size();
  std::vector<char> on(m + 1, 0), next(m + 1, 0);
  // A star may match nothing: reaching it reaches what follows.
  auto close = [&](std::vector<char>& set) {
    for (size_t i = 0; i < m; ++i)
      if (set[i] && tokens[i].kind == Token::kStar) set[i + 1] = 1;
  };
  on[0] = 1;
  close(on);
  std::vector<size_t> ends;
  for (size_t pos = start;; ++pos) {
    if (on[m]) ends.push_back(pos);
    if (pos == text.size()) break;
    char32_t c = text[pos];
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    for (size_t i = 0; i < m; ++i) {
      if (!on[i]) continue;
      const Token& t = tokens[i];
      if (t.kind == Token::kStar) {
        if (c != U'\n') next[i] = any = true;
      } else if ((t.kind == Token::kAny && c != U'\n') || (t.kind == Token::kLiteral && c == t.ch)) {
        next[i + 1] = any = true;
      }
    }
    if (!any) break;
    close(next);
    std::swap(on, next);
  }
  return ends;
}

std::string ShellPattern::remove_prefix(const std::string& value, bool longest) const {
  std::u32string text = decode_code_points(value);
  auto ends = match_ends(tokens_, text, 0);
  if (ends.empty()) return value;
  return encode_code_points(std::u32string_view(text).substr(longest ? ends.back() : ends.front()));
}

std::string ShellPattern::remove_suffix(const std::string& value, bool longest) const {
  std::u32string text = decode_code_points(value);
  std::reverse(text.begin(), text.end());
  std::vector<Token> reversed(tokens_.rbegin(), tokens_.rend());
  auto ends = match_ends(reversed, text, 0);
  if (ends.empty()) return value;
  std::u32string rest = text.substr(longest ? ends.back() : ends.front());
  std::reverse(rest.begin(), rest.end());
  return encode_code_points(rest);
}

std::optional<size_t> ShellPattern::leftmost_start(const std::vector<Token>& tokens, const std::u32string& text,
                                                   size_t search) {
  // Each token position labelled with the earliest start that reaches it.
  constexpr size_t kNone = static_cast<size_t>(-1);
  const size_t m = tokens.size();
  std::vector<size_t> on(m + 1, kNone), next(m + 1, kNone);
  size_t best = kNone;
  for (size_t pos = search;; ++pos) {
    on[0] = std::min(on[0], pos);
    for (size_t i = 0; i < m; ++i)
      if (on[i] != kNone && tokens[i].kind == Token::kStar) on[i + 1] = std::min(on[i + 1], on[i]);
    best = std::min(best, on[m]);
    if (best != kNone && std::all_of(on.begin(), on.begin() + static_cast<long>(m), [&](size_t l) { return l >= best; }))
      break;  // nothing still running can start earlier
    if (pos == text.size()) break;
    char32_t c = text[pos];
    std::fill(next.begin(), next.end(), kNone);
    for (size_t i = 0; i < m; ++i) {
      if (on[i] == kNone) continue;
      const Token& t = tokens[i];
      if (t.kind == Token::kStar) {
        if (c != U'\n') next[i] = std::min(next[i], on[i]);
      } else if ((t.kind == Token::kAny && c != U'\n') || (t.kind == Token::kLiteral && c == t.ch)) {
        next[i + 1] = std::min(next[i + 1], on[i]);
      }
    }
    std::swap(on, next);
  }
  if (best == kNone) return std::nullopt;
  return best;
}

std::string ShellPattern::replace(const std::string& value, const std::string& replacement, bool all) const {
  std::u32string text = decode_code_points(value);
  std::u32string repl = decode_code_points(replacement);
  std::u32string out;
  size_t last_end = 0, search = 0;
  while (search <= text.size()) {
    // The leftmost match from search on, the longest from its start (Go's FindStringIndex).
    auto begin = leftmost_start(tokens_, text, search);
    if (!begin) break;
    size_t end = match_ends(tokens_, text, *begin).back();
    out += text.substr(last_end, *begin - last_end);
    if (end > last_end || *begin == 0) out += repl;  // not an empty match right after a match
    last_end = end;
    if (!all) break;
    search = end > search ? end : search + 1;  // always at least one character on
  }
  out += text.substr(std::min(last_end, text.size()));
  return encode_code_points(out);
}

}  // namespace minirun::dockerfile

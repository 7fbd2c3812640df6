// shell_pattern.h — the patterns of ${V#p} ${V##p} ${V%p} ${V%%p} ${V/p/r} ${V//p/r} in a
// Dockerfile, with BuildKit's meaning: * any text but a newline, ? one character but a newline,
// \* \? \\ the character itself, \} and \/ the character, anything else literal.
//
// Matched by a small automaton over the value's characters (linear in the value for each start),
// not a regular-expression engine, so that a long value cannot exhaust the stack.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::dockerfile {

class ShellPattern {
 public:
  // Throws minirun::Error "invalid escape '\x'" for a \ before any other character.
  explicit ShellPattern(std::string_view pattern);

  // The value without its shortest (longest) prefix the pattern matches; the value itself when
  // none matches.
  std::string remove_prefix(const std::string& value, bool longest) const;
  // The same at the end of the value.
  std::string remove_suffix(const std::string& value, bool longest) const;
  // The leftmost match (the longest one from there) replaced; with all, every match, as Go's
  // ReplaceAllString goes through them (an empty match right after a match is not replaced).
  std::string replace(const std::string& value, const std::string& replacement, bool all) const;

 private:
  struct Token {
    enum Kind { kLiteral, kAny, kStar } kind;
    char32_t ch;
  };
  // The ends (ascending) of the matches of tokens that start at text[start].
  static std::vector<size_t> match_ends(const std::vector<Token>& tokens, const std::u32string& text, size_t start);
  // The earliest start, from search on, of a match; one pass over the text.
  static std::optional<size_t> leftmost_start(const std::vector<Token>& tokens, const std::u32string& text,
                                              size_t search);

  std::vector<Token> tokens_;
};

}  // namespace minirun::dockerfile

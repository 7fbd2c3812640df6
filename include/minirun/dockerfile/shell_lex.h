// shell_lex.h — the Dockerfile's variable substitution and word splitting, as BuildKit's
// shell lexer (frontend/dockerfile/shell/lex.go) does them.
//
// It owns: $V and ${V}; the modifiers ${V:-w} ${V-w} ${V:+w} ${V+w} ${V:?m} ${V?m},
// ${V#p} ${V##p} ${V%p} ${V%%p} and ${V/p/r} ${V//p/r}; single and double quotes; the
// escape character of the Dockerfile (\ or `); and the split into words for the
// instructions that take several (EXPOSE, the heredoc names of a line). Which instruction
// expands which of its parts is the instructions module's table, not this file's.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace minirun::dockerfile {

// A variable by name: its value, or nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// A lookup over KEY=value pairs (the later of two equal keys wins, as in a build's env).
EnvLookup env_lookup(const std::vector<std::pair<std::string, std::string>>& env);

// A lookup where nothing is set.
EnvLookup empty_env();

struct LexOptions {
  bool raw_quotes = false;           // keep the quote characters in the result
  bool raw_escapes = false;          // keep the escape characters in the result
  bool skip_unset_env = false;       // leave $V / ${V...} as written when V is not set
  bool skip_process_quotes = false;  // quotes are ordinary characters
};

class ShellLex {
 public:
  explicit ShellLex(char escape = '\\', LexOptions options = {}) : escape_(escape), options_(options) {}

  // The word with its variables substituted and quotes removed. Throws minirun::Error
  // ("failed to process \"word\": ...") on a syntax error or a ${V?message}.
  std::string process_word(std::string_view word, const EnvLookup& env) const;

  // The same, split into words at unquoted white space (also white space that a variable's
  // value brings, unless quoted).
  std::vector<std::string> process_words(std::string_view word, const EnvLookup& env) const;

  char escape() const { return escape_; }
  LexOptions& options() { return options_; }

 private:
  char escape_;
  LexOptions options_;
};

}  // namespace minirun::dockerfile

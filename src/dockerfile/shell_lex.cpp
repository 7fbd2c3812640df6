// shell_lex.cpp — BuildKit's shell lexer: one pass over the word, a scanner with one character
// of look-ahead, the result text and its split into words built side by side.
#include "minirun/dockerfile/shell_lex.h"

#include <map>

#include "minirun/dockerfile/shell_pattern.h"
#include "minirun/util/error.h"

namespace minirun::dockerfile {

namespace {

constexpr int kEof = -1;

bool is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_digit(int c) { return c >= '0' && c <= '9'; }
// Letters as Go's unicode.IsLetter sees them, with every byte of a multi-byte character taken
// as a letter (names are ASCII in practice).
bool is_letter(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; }
bool is_special_param(int c) {
  switch (c) {
    case '@': case '*': case '#': case '?': case '-': case '$': case '!': case '0':
      return true;
    default:
      return false;
  }
}

// Go's %q for the messages that quote the word.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    if (c == '\t') { out += "\\t"; continue; }
    out += c;
  }
  return out + "\"";
}

class LexError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The words of a result: white space from the source or a variable's value ends a word, white
// space that came quoted or escaped does not.
struct Words {
  std::string buf;
  std::vector<std::string> words;
  bool in_word = false;

  void add_char(int ch) {
    if (is_space(ch) && in_word) {
      if (!buf.empty()) {
        words.push_back(buf);
        buf.clear();
        in_word = false;
      }
    } else if (!is_space(ch)) {
      add_raw_char(ch);
    }
  }
  void add_raw_char(int ch) {
    buf += static_cast<char>(ch);
    in_word = true;
  }
  void add_string(const std::string& s) {
    for (unsigned char c : s) add_char(c);
  }
  void add_raw_string(const std::string& s) {
    buf += s;
    in_word = true;
  }
  std::vector<std::string> take() {
    if (!buf.empty()) {
      words.push_back(buf);
      buf.clear();
      in_word = false;
    }
    return std::move(words);
  }
};

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  int peek() const { return pos_ < s_.size() ? static_cast<unsigned char>(s_[pos_]) : kEof; }
  int next() { return pos_ < s_.size() ? static_cast<unsigned char>(s_[pos_++]) : kEof; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

struct Processed {
  std::string result;
  std::vector<std::string> words;
};

class Word {
 public:
  Word(std::string_view source, char escape, const LexOptions& o, const EnvLookup& env)
      : sc_(source), escape_(static_cast<unsigned char>(escape)), o_(o), env_(env), raw_escapes_(o.raw_escapes) {}

  Processed process_stop_on(int stop, bool raw_escapes) {
    bool saved = raw_escapes_;
    raw_escapes_ = raw_escapes;
    Processed p = stop_on(stop);
    raw_escapes_ = saved;
    return p;
  }

 private:
  Processed stop_on(int stop) {
    std::string result;
    Words words;
    while (sc_.peek() != kEof) {
      int ch = sc_.peek();
      if (stop != kEof && ch == stop) {
        sc_.next();
        return {result, words.take()};
      }
      bool quote = !o_.skip_process_quotes && (ch == '\'' || ch == '"');
      if (ch == '$' || ch == '<' || quote) {
        std::string tmp = ch == '$' ? dollar() : ch == '<' ? possible_heredoc() : ch == '\'' ? single_quote() : double_quote();
        result += tmp;
        if (ch == '$')
          words.add_string(tmp);
        else
          words.add_raw_string(tmp);
        continue;
      }
      ch = sc_.next();
      if (ch == escape_) {
        if (raw_escapes_) {
          words.add_raw_char(ch);
          result += static_cast<char>(ch);
        }
        ch = sc_.next();
        if (ch == kEof) break;
        words.add_raw_char(ch);
      } else {
        words.add_char(ch);
      }
      result += static_cast<char>(ch);
    }
    if (stop != kEof)
      throw LexError("unexpected end of statement while looking for matching " + std::string(1, static_cast<char>(stop)));
    return {result, words.take()};
  }

  std::string single_quote() {
    std::string result;
    int ch = sc_.next();
    if (o_.raw_quotes) result += static_cast<char>(ch);
    for (;;) {
      ch = sc_.next();
      if (ch == kEof) throw LexError("unexpected end of statement while looking for matching single-quote");
      if (ch == '\'') {
        if (o_.raw_quotes) result += '\'';
        return result;
      }
      result += static_cast<char>(ch);
    }
  }

  std::string double_quote() {
    std::string result;
    int ch = sc_.next();
    if (o_.raw_quotes) result += static_cast<char>(ch);
    for (;;) {
      int p = sc_.peek();
      if (p == kEof) throw LexError("unexpected end of statement while looking for matching double-quote");
      if (p == '"') {
        sc_.next();
        if (o_.raw_quotes) result += '"';
        return result;
      }
      if (p == '$') {
        result += dollar();
        continue;
      }
      ch = sc_.next();
      if (ch == escape_) {
        if (raw_escapes_) result += static_cast<char>(ch);
        int q = sc_.peek();
        if (q == kEof) continue;
        if (q == '"' || q == '$' || q == escape_) ch = sc_.next();
      }
      result += static_cast<char>(ch);
    }
  }

  std::string name() {
    std::string n;
    while (sc_.peek() != kEof) {
      int ch = sc_.peek();
      if (n.empty() && is_digit(ch)) {
        while (is_digit(sc_.peek())) n += static_cast<char>(sc_.next());
        return n;
      }
      if (n.empty() && is_special_param(ch)) return std::string(1, static_cast<char>(sc_.next()));
      if (!is_letter(ch) && !is_digit(ch) && ch != '_') break;
      n += static_cast<char>(sc_.next());
    }
    return n;
  }

  std::optional<std::string> get(const std::string& n) const { return env_ ? env_(n) : std::nullopt; }

  // The word up to the closing character, its running out of input reported as a missing one.
  std::string up_to(int stop, bool raw, const char* missing) {
    try {
      return process_stop_on(stop, raw).result;
    } catch (const LexError&) {
      if (sc_.peek() == kEof) throw LexError(missing);
      throw;
    }
  }

  std::string dollar() {
    sc_.next();
    if (sc_.peek() != '{') {
      std::string n = name();
      if (n.empty()) return "$";
      auto v = get(n);
      if (!v && o_.skip_unset_env) return "$" + n;
      return v.value_or("");
    }
    sc_.next();
    int p = sc_.peek();
    if (p == kEof) throw LexError("syntax error: missing '}'");
    if (p == '{' || p == '}' || p == ':') throw LexError("syntax error: bad substitution");
    std::string n = name();
    int ch = sc_.next();
    std::string chs = ch == kEof ? "\xEF\xBF\xBD" : std::string(1, static_cast<char>(ch));
    bool null_is_unset = false;
    if (ch == '}') {
      auto v = get(n);
      if (!v && o_.skip_unset_env) return "${" + n + "}";
      return v.value_or("");
    }
    if (ch == '/') return replace(n);
    if (ch == ':') {
      null_is_unset = true;
      ch = sc_.next();
      chs += ch == kEof ? "\xEF\xBF\xBD" : std::string(1, static_cast<char>(ch));
    } else if (ch != '+' && ch != '-' && ch != '?' && ch != '#' && ch != '%') {
      throw LexError("unsupported modifier (" + chs + ") in substitution");
    }
    bool raw = ch == '#' || ch == '%';
    if (null_is_unset && raw) throw LexError("unsupported modifier (" + chs + ") in substitution");
    std::string word = up_to('}', raw, "syntax error: missing '}'");
    auto v = get(n);
    if (o_.skip_unset_env && !v) return "${" + n + chs + word + "}";
    bool unset = !v || (null_is_unset && v->empty());
    switch (ch) {
      case '-':
        return unset ? word : *v;
      case '+':
        return unset ? "" : word;
      case '?':
        if (!v) throw LexError(n + ": " + (word.empty() ? "is not allowed to be unset" : word));
        if (null_is_unset && v->empty()) throw LexError(n + ": " + (word.empty() ? "is not allowed to be empty" : word));
        return *v;
      case '%':
      case '#': {
        bool greedy = false;
        if (!word.empty() && word[0] == ch) {
          greedy = true;
          word.erase(0, 1);
        }
        ShellPattern pattern = compile(word);
        return ch == '%' ? pattern.remove_suffix(v.value_or(""), greedy) : pattern.remove_prefix(v.value_or(""), greedy);
      }
      default:
        throw LexError("unsupported modifier (" + chs + ") in substitution");
    }
  }

  // ${V/pattern/replacement} and ${V//pattern/replacement}.
  std::string replace(const std::string& n) {
    bool all = sc_.peek() == '/';
    if (all) sc_.next();
    std::string pattern = up_to('/', true, "syntax error: missing '/' in ${}");
    std::string replacement = up_to('}', true, "syntax error: missing '}'");
    auto v = get(n);
    if (o_.skip_unset_env && !v) return "${" + n + "/" + pattern + "/" + replacement + "}";
    std::string value = v.value_or("");
    return compile(pattern).replace(value, replacement, all);
  }

  static ShellPattern compile(const std::string& pattern) {
    try {
      return ShellPattern(pattern);
    } catch (const Error& e) {
      throw LexError("invalid pattern (" + pattern + ") in substitution: " + e.what());
    }
  }

  std::string possible_heredoc() {
    sc_.next();
    if (sc_.peek() != '<') return "<";
    sc_.next();
    std::string result = "<<";
    while (sc_.peek() == '\t' || sc_.peek() == '\r' || sc_.peek() == ' ') result += static_cast<char>(sc_.next());
    return result;
  }

  Scanner sc_;
  int escape_;
  const LexOptions& o_;
  const EnvLookup& env_;
  bool raw_escapes_;
};

Processed run(std::string_view source, char escape, const LexOptions& o, const EnvLookup& env) {
  Word w(source, escape, o, env);
  try {
    return w.process_stop_on(kEof, o.raw_escapes);
  } catch (const LexError& e) {
    throw Error("failed to process " + go_quote(source) + ": " + e.what());
  }
}

}  // namespace

EnvLookup env_lookup(const std::vector<std::pair<std::string, std::string>>& env) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : env) m[k] = v;
  return [m = std::move(m)](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

EnvLookup empty_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

std::string ShellLex::process_word(std::string_view word, const EnvLookup& env) const {
  return run(word, escape_, options_, env).result;
}

std::vector<std::string> ShellLex::process_words(std::string_view word, const EnvLookup& env) const {
  return run(word, escape_, options_, env).words;
}

}  // namespace minirun::dockerfile

// dockerfile_parser.cpp — BuildKit's line reader: physical lines → logical lines (directives,
// comments, continuations) → one Node each (command word, flags, arguments by the command's
// own rule) → heredoc bodies read from the lines that follow.
#include "minirun/dockerfile/dockerfile_parser.h"

#include <nlohmann/json.hpp>
#include <set>

#include "minirun/dockerfile/shell_lex.h"
#include "minirun/util/error.h"

namespace minirun::dockerfile {

namespace {

// A parse failure before the line is known; the caller adds "dockerfile parse error on line N".
struct ParseFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
// reWhitespace: [\t\v\f\r ]
bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_space(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}
std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && is_space(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}
std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}
bool is_comment(std::string_view line) {
  line = trim_left(line);
  return !line.empty() && line[0] == '#';
}
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// reWhitespace.Split(s, n) (n < 0: all).
std::vector<std::string> split_ws(std::string_view s, int n) {
  std::vector<std::string> out;
  size_t start = 0, i = 0;
  while (i < s.size()) {
    if (n > 0 && static_cast<int>(out.size()) == n - 1) break;
    if (is_ws(static_cast<unsigned char>(s[i]))) {
      size_t j = i;
      while (j < s.size() && is_ws(static_cast<unsigned char>(s[j]))) ++j;
      out.emplace_back(s.substr(start, i - start));
      start = i = j;
    } else {
      ++i;
    }
  }
  out.emplace_back(s.substr(start));
  return out;
}

// The parser directives at the top of the file.
class Directives {
 public:
  char escape = '\\';
  std::string syntax;

  // Whether the line (newline and leading white space removed) was a directive.
  bool possible_directive(std::string_view line) {
    if (done_) return false;
    if (line.empty() || line[0] != '#') {
      done_ = true;
      return false;
    }
    line.remove_prefix(1);
    line = trim_left(line);
    // ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
    size_t i = 0;
    if (line.empty() || !std::isalpha(static_cast<unsigned char>(line[0]))) return stop();
    while (i < line.size() && std::isalnum(static_cast<unsigned char>(line[i]))) ++i;
    std::string key = lower(line.substr(0, i));
    std::string_view rest = trim_left(line.substr(i));
    if (rest.empty() || rest[0] != '=') return stop();
    rest = trim(rest.substr(1));
    if (rest.empty()) return stop();
    if (key != "syntax" && key != "escape" && key != "check") return stop();
    if (!seen_.insert(key).second) throw ParseFailure("only one " + key + " parser directive can be used");
    std::string value(rest);
    if (key == "escape") {
      if (value != "`" && value != "\\")
        throw ParseFailure("invalid escape token '" + value + "' does not match ` or \\");
      escape = value[0];
    } else if (key == "syntax") {
      syntax = value;
    }
    return true;
  }

  // The line without its continuation escape (and the white space after it), and whether the
  // logical line ends here.
  std::pair<std::string, bool> trim_continuation(std::string_view line) const {
    std::string_view t = line;
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (!t.empty() && t.back() == escape && (t.size() == 1 || t[t.size() - 2] != escape))
      return {std::string(t.substr(0, t.size() - 1)), false};
    return {std::string(line), true};
  }

 private:
  bool stop() {
    done_ = true;
    return false;
  }
  bool done_ = false;
  std::set<std::string> seen_;
};

// The --flags in front of the arguments; the rest of the line after them.
std::string extract_flags(std::string_view line, char escape, std::vector<std::string>& words) {
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  std::string b;
  char quote = 0;
  bool blank_ok = false;
  char ch = 0;
  for (size_t pos = 0; pos <= line.size(); ++pos) {
    if (pos != line.size()) ch = line[pos];
    if (phase == kSpaces) {
      if (pos == line.size()) break;
      if (is_space(static_cast<unsigned char>(ch))) continue;
      if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') return std::string(line.substr(pos));
      phase = kWord;
    }
    if (pos == line.size()) {
      if (b != "--" && (blank_ok || !b.empty())) words.push_back(b);
      break;
    }
    if (phase == kWord) {
      if (is_space(static_cast<unsigned char>(ch))) {
        phase = kSpaces;
        if (b == "--") return std::string(line.substr(pos));
        if (blank_ok || !b.empty()) words.push_back(b);
        b.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
        continue;
      }
      if (ch == escape) {
        if (pos + 1 == line.size()) continue;
        ch = line[++pos];
      }
      b += ch;
      continue;
    }
    // kQuote
    if (ch == quote) {
      phase = kWord;
      continue;
    }
    if (ch == escape) {
      if (pos + 1 == line.size()) {
        phase = kWord;
        continue;
      }
      ch = line[++pos];
    }
    b += ch;
  }
  return "";
}

// Words split at white space, quotes and escapes kept (ENV, LABEL, ARG).
std::vector<std::string> parse_words(std::string_view rest, char escape) {
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  std::vector<std::string> words;
  std::string b;
  char quote = 0;
  bool blank_ok = false;
  char ch = 0;
  for (size_t pos = 0; pos <= rest.size(); ++pos) {
    if (pos != rest.size()) ch = rest[pos];
    if (phase == kSpaces) {
      if (pos == rest.size()) break;
      if (is_space(static_cast<unsigned char>(ch))) continue;
      phase = kWord;
    }
    if (pos == rest.size()) {
      if (blank_ok || !b.empty()) words.push_back(b);
      break;
    }
    if (phase == kWord) {
      if (is_space(static_cast<unsigned char>(ch))) {
        phase = kSpaces;
        if (blank_ok || !b.empty()) words.push_back(b);
        b.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
      }
      if (ch == escape) {
        if (pos + 1 == rest.size()) continue;
        b += ch;
        ch = rest[++pos];
      }
      b += ch;
      continue;
    }
    // kQuote
    if (ch == quote) phase = kWord;
    if (ch == escape && quote != '\'') {
      if (pos + 1 == rest.size()) {
        phase = kWord;
        continue;
      }
      b += ch;
      ch = rest[++pos];
    }
    b += ch;
  }
  return words;
}

struct Args {
  std::vector<std::string> values;
  bool json = false;
  std::unique_ptr<Node> inner;
};

// A JSON array of strings; nullopt when the text is not a JSON array (shell form then).
std::optional<std::vector<std::string>> parse_json(std::string_view rest) {
  rest = trim_left(rest);
  if (rest.empty() || rest[0] != '[') return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(rest);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  if (!j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : j) {
    if (!e.is_string()) throw ParseFailure("when using JSON array syntax, arrays must be comprised of strings only");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Args parse_maybe_json(std::string_view rest) {
  Args a;
  if (rest.empty()) return a;
  if (auto j = parse_json(rest)) {
    a.values = std::move(*j);
    a.json = true;
    return a;
  }
  a.values.emplace_back(rest);
  return a;
}

Args whitespace_delimited(std::string_view rest) {
  Args a;
  if (!rest.empty()) a.values = split_ws(rest, -1);
  return a;
}

Args parse_maybe_json_to_list(std::string_view rest) {
  if (auto j = parse_json(rest)) {
    Args a;
    a.values = std::move(*j);
    a.json = true;
    return a;
  }
  return whitespace_delimited(rest);
}

Args parse_name_val(std::string_view rest, const std::string& key, char escape) {
  Args a;
  auto words = parse_words(rest, escape);
  if (words.empty()) return a;
  if (words[0].find('=') == std::string::npos) {
    auto parts = split_ws(rest, 2);
    if (parts.size() < 2) throw ParseFailure(key + " must have two arguments");
    a.values = {parts[0], parts[1], ""};
    return a;
  }
  for (const auto& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos)
      throw ParseFailure("Syntax error - can't find = in \"" + w + "\". Must be of the form: name=value");
    a.values.push_back(w.substr(0, eq));
    a.values.push_back(w.substr(eq + 1));
    a.values.push_back("=");
  }
  return a;
}

Args parse_health(std::string_view rest) {
  Args a;
  size_t sep = 0;
  while (sep < rest.size() && !is_space(static_cast<unsigned char>(rest[sep]))) ++sep;
  size_t next = sep;
  while (next < rest.size() && is_space(static_cast<unsigned char>(rest[next]))) ++next;
  if (sep == 0) return a;
  Args cmd = parse_maybe_json(rest.substr(next));
  a.values.emplace_back(rest.substr(0, sep));
  for (auto& v : cmd.values) a.values.push_back(std::move(v));
  a.json = cmd.json;
  return a;
}

Node node_from_line(const std::string& line, char escape);

Args dispatch(const std::string& cmd, const std::string& rest, char escape) {
  if (cmd == "add" || cmd == "copy" || cmd == "volume") return parse_maybe_json_to_list(rest);
  if (cmd == "cmd" || cmd == "entrypoint" || cmd == "run" || cmd == "shell") return parse_maybe_json(rest);
  if (cmd == "env") return parse_name_val(rest, "ENV", escape);
  if (cmd == "label") return parse_name_val(rest, "LABEL", escape);
  if (cmd == "arg") {
    Args a;
    a.values = parse_words(rest, escape);
    return a;
  }
  if (cmd == "expose" || cmd == "from") return whitespace_delimited(rest);
  if (cmd == "healthcheck") return parse_health(rest);
  if (cmd == "maintainer" || cmd == "stopsignal" || cmd == "user" || cmd == "workdir") {
    Args a;
    if (!rest.empty()) a.values.push_back(rest);
    return a;
  }
  if (cmd == "onbuild") {
    Args a;
    if (rest.empty()) return a;
    a.inner = std::make_unique<Node>(node_from_line(rest, escape));
    a.values.push_back(a.inner->command);
    for (const auto& v : a.inner->args) a.values.push_back(v);
    return a;
  }
  // Unknown: the instructions module names it.
  Args a;
  a.values.emplace_back();
  return a;
}

Node node_from_line(const std::string& line, char escape) {
  Node n;
  auto cmdline = split_ws(trim(line), 2);
  std::string rest;
  if (cmdline.size() == 2) rest = std::string(trim(extract_flags(cmdline[1], escape, n.flags)));
  n.command = cmdline[0];
  Args a = dispatch(lower(n.command), rest, escape);
  n.args = std::move(a.values);
  n.json = a.json;
  n.inner = std::move(a.inner);
  n.original = line;
  return n;
}

bool can_contain_heredoc(const Node& n) {
  const Node* node = &n;
  if (lower(node->command) == "onbuild" && node->inner) node = node->inner.get();
  std::string c = lower(node->command);
  return (c == "add" || c == "copy" || c == "run") && !node->json;
}

std::vector<Heredoc> heredocs_from_line(const std::string& line) {
  LexOptions o;
  o.raw_quotes = true;
  o.raw_escapes = true;
  o.skip_unset_env = true;
  std::vector<std::string> words;
  try {
    words = ShellLex('\\', o).process_words(line, empty_env());
  } catch (const Error&) {
  }
  std::vector<Heredoc> docs;
  for (const auto& w : words) {
    std::unique_ptr<Heredoc> h;
    try {
      h = parse_heredoc_word(w);
    } catch (const Error& e) {
      throw ParseFailure(e.what());
    }
    if (h) docs.push_back(std::move(*h));
  }
  return docs;
}

size_t count_quotes(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\'' || c == '"';
  return n;
}

// Physical lines, each with its newline.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    size_t len = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(0, len));
    text.remove_prefix(len);
  }
  return lines;
}

}  // namespace

std::string parse_error_message(int line, std::string_view message) {
  return "dockerfile parse error on line " + std::to_string(line) + ": " + std::string(message);
}

std::unique_ptr<Heredoc> parse_heredoc_word(std::string_view src) {
  // ^(\d*)<<(-?)\s*([^<]*)$
  size_t i = 0;
  while (i < src.size() && std::isdigit(static_cast<unsigned char>(src[i]))) ++i;
  std::string_view digits = src.substr(0, i);
  if (src.substr(i, 2) != "<<") return nullptr;
  i += 2;
  bool chomp = i < src.size() && src[i] == '-';
  if (chomp) ++i;
  while (i < src.size() && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\f' || src[i] == '\r')) ++i;
  std::string_view rest = src.substr(i);
  if (rest.find('<') != std::string_view::npos || rest.empty()) return nullptr;
  LexOptions o;
  o.skip_unset_env = true;
  auto words = ShellLex('\\', o).process_words(rest, empty_env());
  if (words.size() != 1) return nullptr;
  o.raw_quotes = true;
  auto raw = ShellLex('\\', o).process_words(rest, empty_env());
  if (raw.size() != words.size())
    throw Error("internal lexing of heredoc produced inconsistent results: " + std::string(rest));
  auto h = std::make_unique<Heredoc>();
  h->name = words[0];
  h->expand = count_quotes(words[0]) == count_quotes(raw[0]);
  h->chomp = chomp;
  unsigned long fd = 0;
  for (char c : digits) fd = fd * 10 + static_cast<unsigned long>(c - '0');
  h->fd = static_cast<unsigned>(fd);
  return h;
}

std::string chomp_heredoc_content(std::string_view content) {
  std::string out;
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') continue;
    line_start = c == '\n';
    out += c;
  }
  return out;
}

ParseResult parse_dockerfile(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  auto lines = split_lines(text);
  Directives d;
  ParseResult result;
  int current = 0;
  size_t i = 0;
  auto fail = [](int line, const std::string& msg) { return Error(parse_error_message(line, msg)); };
  while (i < lines.size()) {
    std::string_view raw = lines[i++];
    std::string_view token = trim_left(trim_newline(raw));
    try {
      d.possible_directive(token);
    } catch (const ParseFailure& e) {
      throw fail(current + 1, e.what());
    }
    if (is_comment(token)) token = {};
    ++current;
    int start = current;
    auto [first, end_of_line] = d.trim_continuation(token);
    if (end_of_line && first.empty()) continue;
    std::string buf = first;
    bool empty_continuation = false;
    while (!end_of_line && i < lines.size()) {
      std::string_view next_raw = lines[i++];
      std::string_view t = trim_newline(next_raw);
      try {
        d.possible_directive(t);
      } catch (const ParseFailure& e) {
        throw fail(current + 1, e.what());
      }
      ++current;
      if (is_comment(next_raw)) continue;
      if (trim_left(t).empty()) {
        empty_continuation = true;
        continue;
      }
      auto [part, eol] = d.trim_continuation(t);
      end_of_line = eol;
      buf += part;
    }
    if (empty_continuation) result.warnings.push_back("Empty continuation line found in: " + buf);
    Node node;
    try {
      node = node_from_line(buf, d.escape);
    } catch (const ParseFailure& e) {
      throw fail(start, e.what());
    }
    if (can_contain_heredoc(node) && buf.find("<<") != std::string::npos) {
      std::vector<Heredoc> docs;
      try {
        docs = heredocs_from_line(buf);
      } catch (const ParseFailure& e) {
        throw fail(start, e.what());
      }
      for (auto& h : docs) {
        bool terminated = false;
        std::string content;
        while (i < lines.size()) {
          std::string_view l = lines[i++];
          ++current;
          std::string_view candidate = trim_newline(l);
          if (h.chomp)
            while (!candidate.empty() && candidate[0] == '\t') candidate.remove_prefix(1);
          if (candidate == h.name) {
            terminated = true;
            break;
          }
          content += l;
        }
        if (!terminated) throw fail(start, "unterminated heredoc");
        h.content = std::move(content);
        node.heredocs.push_back(std::move(h));
      }
    }
    node.start_line = start;
    node.end_line = current;
    result.instructions.push_back(std::move(node));
  }
  if (result.instructions.empty()) throw fail(current, "file with no instructions");
  result.escape = d.escape;
  result.syntax = d.syntax;
  return result;
}

}  // namespace minirun::dockerfile

// gotemplate_parse.cpp — the --format template's text to its tree (gotemplate_tree.h): actions
// between {{ and }} with Go's trim markers, comments, if/range/with blocks with else, else if and
// else with, pipelines, variables and parenthesized commands. What minirun does not run (define,
// template, block, break, continue, assignments, method calls, other printf verbs, unknown
// functions) is refused here, so a mistyped format fails before the verb prints anything.
#include <cctype>
#include <charconv>
#include <cstring>

#include "gotemplate_tree.h"

namespace minirun::cli::gotemplate {

namespace {

struct Token {
  enum Kind { field, var, ident, str, num, pipe, lparen, rparen, declare, assign, comma, end } kind;
  std::string text;
  std::vector<std::string> path;  // field/var
};

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The tokens of one action (the text between {{ and }}, trim markers removed).
std::vector<Token> lex_action(const std::string& a) {
  std::vector<Token> out;
  size_t i = 0;
  auto read_path = [&](std::vector<std::string>& path) {
    while (i < a.size() && a[i] == '.') {
      size_t s = ++i;
      while (i < a.size() && ident_char(a[i])) i++;
      if (i == s) {
        if (path.empty() && (i >= a.size() || !ident_char(a[i]))) return;  // the bare dot
        fail("bad field name in {{" + a + "}}");
      }
      path.push_back(a.substr(s, i - s));
    }
  };
  while (i < a.size()) {
    char c = a[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      i++;
    } else if (c == '.') {
      Token t{Token::field, ".", {}};
      read_path(t.path);
      out.push_back(t);
    } else if (c == '$') {
      size_t s = i++;
      while (i < a.size() && ident_char(a[i])) i++;
      Token t{Token::var, a.substr(s, i - s), {}};
      read_path(t.path);
      out.push_back(t);
    } else if (c == '"' || c == '`') {
      std::string s;
      size_t j = i + 1;
      for (; j < a.size() && a[j] != c; j++) {
        if (c == '"' && a[j] == '\\' && j + 1 < a.size()) {
          char e = a[++j];
          s += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          s += a[j];
        }
      }
      if (j >= a.size()) fail("unterminated string in {{" + a + "}}");
      out.push_back({Token::str, s, {}});
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < a.size() && std::isdigit(static_cast<unsigned char>(a[i + 1])))) {
      size_t s = i++;
      while (i < a.size() && (std::isdigit(static_cast<unsigned char>(a[i])) || a[i] == '.')) i++;
      out.push_back({Token::num, a.substr(s, i - s), {}});
    } else if (ident_char(c)) {
      size_t s = i;
      while (i < a.size() && ident_char(a[i])) i++;
      out.push_back({Token::ident, a.substr(s, i - s), {}});
      if (i < a.size() && a[i] == '.') fail("unsupported: a field of " + a.substr(s, i - s) + " in {{" + a + "}}");
    } else if (c == '|') {
      out.push_back({Token::pipe, "|", {}}), i++;
    } else if (c == '(') {
      out.push_back({Token::lparen, "(", {}}), i++;
    } else if (c == ')') {
      out.push_back({Token::rparen, ")", {}}), i++;
      if (i < a.size() && a[i] == '.') fail("unsupported: a field of a parenthesized value in {{" + a + "}}");
    } else if (c == ':' && i + 1 < a.size() && a[i + 1] == '=') {
      out.push_back({Token::declare, ":=", {}}), i += 2;
    } else if (c == '=') {
      out.push_back({Token::assign, "=", {}}), i++;
    } else if (c == ',') {
      out.push_back({Token::comma, ",", {}}), i++;
    } else {
      fail(std::string("unexpected \"") + c + "\" in {{" + a + "}}");
    }
  }
  out.push_back({Token::end, "", {}});
  return out;
}

class Parser {
 public:
  explicit Parser(const std::string& text) : s_(text) {}

  NodeList parse() {
    NodeList out;
    std::string stop = parse_list(out);
    if (!stop.empty()) fail("unexpected {{" + stop + "}}");
    return out;
  }

 private:
  // Parses nodes into `out` until {{end}}, {{else…}} or the end of the text; returns the keyword
  // that stopped it ("end", "else", "else if …" as the action text) or "" at the end.
  std::string parse_list(NodeList& out) {
    while (pos_ < s_.size()) {
      size_t open = s_.find("{{", pos_);
      std::string text = s_.substr(pos_, open == std::string::npos ? std::string::npos : open - pos_);
      if (open == std::string::npos) {
        pos_ = s_.size();
        add_text(out, text);
        break;
      }
      size_t inner = open + 2;
      bool trim_left = inner + 1 < s_.size() && s_[inner] == '-' && std::isspace(static_cast<unsigned char>(s_[inner + 1]));
      if (trim_left) {
        inner += 1;
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
      }
      add_text(out, text);
      size_t close = find_close(inner);
      size_t action_end = close;
      bool trim_right = close >= inner + 2 && s_[close - 1] == '-' && std::isspace(static_cast<unsigned char>(s_[close - 2]));
      if (trim_right) action_end = close - 1;
      std::string action = s_.substr(inner, action_end - inner);
      pos_ = close + 2;
      if (trim_right)
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) pos_++;
      std::string stop = parse_action(out, action);
      if (!stop.empty()) return stop;
    }
    return "";
  }

  size_t find_close(size_t from) {
    char quote = 0;
    for (size_t i = from; i < s_.size(); i++) {
      char c = s_[i];
      if (quote) {
        if (c == '\\' && quote == '"') i++;
        else if (c == quote) quote = 0;
      } else if (c == '"' || c == '`') {
        quote = c;
      } else if (c == '}' && i + 1 < s_.size() && s_[i + 1] == '}') {
        return i;
      }
    }
    fail("unclosed action: " + s_.substr(from - 2));
  }

  static void add_text(NodeList& out, const std::string& text) {
    if (text.empty()) return;
    auto n = std::make_unique<GoTemplate::Node>();
    n->kind = GoTemplate::Node::text;
    n->str = text;
    out.push_back(std::move(n));
  }

  static std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
  }

  // One {{…}}: a block keyword opens a nested list; returns the text of a closing keyword.
  std::string parse_action(NodeList& out, const std::string& raw) {
    std::string a = trim(raw);
    if (a.rfind("/*", 0) == 0) {
      if (a.size() < 4 || a.compare(a.size() - 2, 2, "*/") != 0) fail("unclosed comment: {{" + raw + "}}");
      return "";
    }
    if (a.empty()) fail("missing value for command: {{" + raw + "}}");
    auto toks = lex_action(a);
    std::string kw = toks[0].kind == Token::ident ? toks[0].text : "";
    if (kw == "end") {
      if (toks.size() != 2) fail("unexpected tokens after end: {{" + a + "}}");
      return "end";
    }
    if (kw == "else") return a;
    if (kw == "if" || kw == "range" || kw == "with") {
      auto n = std::make_unique<GoTemplate::Node>();
      n->kind = kw == "if" ? GoTemplate::Node::if_ : kw == "range" ? GoTemplate::Node::range : GoTemplate::Node::with;
      toks.erase(toks.begin());
      n->pipe = parse_pipeline(toks, a, n->kind == GoTemplate::Node::range);
      parse_block(*n, a);
      out.push_back(std::move(n));
      return "";
    }
    if (kw == "define" || kw == "template" || kw == "block" || kw == "break" || kw == "continue")
      fail("unsupported: {{" + a + "}} (minirun's --format has field paths, functions, if, range and with)");
    auto n = std::make_unique<GoTemplate::Node>();
    n->kind = GoTemplate::Node::action;
    n->pipe = parse_pipeline(toks, a, false);
    out.push_back(std::move(n));
    return "";
  }

  // The body of if/range/with up to {{end}}, with an {{else}} part; {{else if …}} and
  // {{else with …}} become a nested block in the else part that shares the {{end}}.
  void parse_block(GoTemplate::Node& n, const std::string& opener) {
    std::string stop = parse_list(n.body);
    if (stop.empty()) fail("missing {{end}} for {{" + opener + "}}");
    if (stop == "end") return;
    auto toks = lex_action(stop);  // "else…"
    if (toks.size() == 2) {
      std::string stop2 = parse_list(n.else_body);
      if (stop2 != "end") fail("missing {{end}} for {{" + opener + "}}");
      return;
    }
    std::string kw = toks[1].kind == Token::ident ? toks[1].text : "";
    if (kw != "if" && kw != "with") fail("unexpected {{" + stop + "}}");
    if (n.kind == GoTemplate::Node::range) fail("unsupported: {{" + stop + "}} in a range");
    auto inner = std::make_unique<GoTemplate::Node>();
    inner->kind = kw == "if" ? GoTemplate::Node::if_ : GoTemplate::Node::with;
    toks.erase(toks.begin(), toks.begin() + 2);
    inner->pipe = parse_pipeline(toks, stop, false);
    parse_block(*inner, stop);
    n.else_body.push_back(std::move(inner));
  }

  Pipeline parse_pipeline(const std::vector<Token>& toks, const std::string& text, bool range) {
    Pipeline p;
    p.text = text;
    size_t i = 0;
    // Declarations: $x := …, or in a range $i, $v := …
    size_t j = 0;
    std::vector<std::string> decl;
    while (j < toks.size() && toks[j].kind == Token::var && toks[j].path.empty()) {
      decl.push_back(toks[j].text);
      j++;
      if (toks[j].kind == Token::comma && range && decl.size() == 1) {
        j++;
        continue;
      }
      break;
    }
    if (!decl.empty() && toks[j].kind == Token::declare) {
      p.decl = decl;
      i = j + 1;
    } else if (!decl.empty() && toks[j].kind == Token::assign) {
      fail("unsupported: assignment in {{" + text + "}}");
    } else if (decl.size() > 1) {
      fail("bad range declaration in {{" + text + "}}");
    }
    p.cmds = parse_commands(toks, i, text, false);
    if (toks[i].kind != Token::end) fail("unexpected \"" + toks[i].text + "\" in {{" + text + "}}");
    return p;
  }

  std::vector<Command> parse_commands(const std::vector<Token>& toks, size_t& i, const std::string& text, bool in_paren) {
    std::vector<Command> cmds;
    for (;;) {
      Command c;
      while (toks[i].kind != Token::end && toks[i].kind != Token::pipe && toks[i].kind != Token::rparen) {
        c.args.push_back(parse_operand(toks, i, text));
      }
      if (c.args.empty()) fail("missing value for command in {{" + text + "}}");
      check_command(c, text, !cmds.empty());
      cmds.push_back(std::move(c));
      if (toks[i].kind == Token::pipe) {
        i++;
        continue;
      }
      if (toks[i].kind == Token::rparen && !in_paren) fail("unexpected \")\" in {{" + text + "}}");
      return cmds;
    }
  }

  Operand parse_operand(const std::vector<Token>& toks, size_t& i, const std::string& text) {
    const Token& t = toks[i++];
    Operand o;
    switch (t.kind) {
      case Token::field:
        o.kind = Operand::field, o.path = t.path;
        return o;
      case Token::var:
        o.kind = Operand::var, o.name = t.text, o.path = t.path;
        return o;
      case Token::str:
        o.value = t.text;
        return o;
      case Token::num: {
        if (t.text.find('.') != std::string::npos) {
          o.value = std::stod(t.text);
        } else {
          long long v = 0;
          auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
          if (r.ec != std::errc() || r.ptr != t.text.data() + t.text.size()) fail("bad number " + t.text);
          o.value = v;
        }
        return o;
      }
      case Token::ident:
        if (t.text == "true" || t.text == "false") {
          o.value = t.text == "true";
          return o;
        }
        if (t.text == "nil") {
          o.value = nullptr;
          return o;
        }
        if (!is_function(t.text))
          fail("function \"" + t.text + "\" not defined (minirun's --format has " + kFunctionList + ")");
        o.kind = Operand::func, o.name = t.text;
        return o;
      case Token::lparen: {
        o.kind = Operand::sub;
        o.pipe = std::make_shared<Pipeline>();
        o.pipe->text = text;
        o.pipe->cmds = parse_commands(toks, i, text, true);
        if (toks[i].kind != Token::rparen) fail("unclosed \"(\" in {{" + text + "}}");
        i++;
        return o;
      }
      default:
        fail("unexpected \"" + t.text + "\" in {{" + text + "}}");
    }
  }

  static void check_command(const Command& c, const std::string& text, bool piped) {
    const Operand& first = c.args[0];
    if (first.kind != Operand::func) {
      if (c.args.size() > 1) {
        if (first.kind == Operand::field && !first.path.empty())
          fail("unsupported: method call ." + first.path.back() + " with arguments in {{" + text + "}}");
        fail("can't give argument to non-function in {{" + text + "}}");
      }
      if (piped) fail("can't pipe into a non-function in {{" + text + "}}");
    }
    if (first.kind == Operand::func && first.name == "printf" && c.args.size() >= 2 &&
        c.args[1].kind == Operand::literal && c.args[1].value.is_string()) {
      const std::string f = c.args[1].value.get<std::string>();
      for (size_t k = 0; k < f.size(); k++) {
        if (f[k] != '%') continue;
        if (++k >= f.size()) fail("printf: format ends with %: {{" + text + "}}");
        if (!std::strchr("svdq%", f[k]))
          fail(std::string("unsupported: printf verb %") + f[k] + " (minirun's printf has %s %v %d %q %%)");
      }
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

NodeList parse(const std::string& text) { return Parser(text).parse(); }

}  // namespace minirun::cli::gotemplate

// gotemplate.cpp — a small Go text/template over JSON values (see gotemplate.h for the subset).
//
// Design: the template is parsed once into a tree (text, actions, if/range/with blocks; an
// action is a pipeline of commands, a command a list of operands) and every unsupported
// construct is refused while parsing, so a mistyped format fails before the verb prints
// anything. Execution walks the tree with `.` and the variables in scope; values are
// nlohmann::ordered_json, so objects keep the key order the verb built (what `json` prints).
#include "gotemplate.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "minirun/util/error.h"

namespace minirun::cli {

using ojson = nlohmann::ordered_json;

namespace {

[[noreturn]] void fail(const std::string& msg) { throw Error("template: " + msg, kExitFailed); }

const std::set<std::string>& known_functions() {
  static const std::set<std::string> f = {"json",  "join", "split", "upper", "lower", "title", "truncate",
                                          "pad",   "index", "len",  "slice", "printf", "print", "println",
                                          "eq",    "ne",   "lt",    "le",    "gt",    "ge",    "and",
                                          "or",    "not"};
  return f;
}

const char* kFunctionList =
    "json, join, split, upper, lower, title, truncate, pad, index, len, slice, printf, print, println, "
    "eq, ne, lt, le, gt, ge, and, or, not";

}  // namespace

// ---- the tree ----

struct Pipeline;

struct Operand {
  enum Kind { field, var, literal, func, sub } kind = literal;
  std::string name;               // func name; var name ("$" or "$x")
  std::vector<std::string> path;  // .A.B after the dot or the variable
  ojson value;                    // literal
  std::shared_ptr<Pipeline> pipe;  // sub
};

struct Command {
  std::vector<Operand> args;
};

struct Pipeline {
  std::vector<std::string> decl;  // variables declared: {"$x"} or {"$i", "$v"} (range)
  std::vector<Command> cmds;
  std::string text;  // the action as typed, for error messages
};

struct GoTemplate::Node {
  enum Kind { text, action, if_, range, with } kind = text;
  std::string str;
  Pipeline pipe;
  std::vector<std::unique_ptr<Node>> body, else_body;
};

using NodeList = std::vector<std::unique_ptr<GoTemplate::Node>>;

namespace {

// ---- lexing and parsing ----

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
        if (!known_functions().count(t.text))
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

// ---- values ----

std::string number_text(const ojson& v) {
  if (v.is_number_integer()) return v.dump();
  double d = v.get<double>();
  if (d == static_cast<double>(static_cast<long long>(d)) && std::abs(d) < 1e21) return std::to_string(static_cast<long long>(d));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

// Go's %v of the JSON-decoded value; `top` is false inside arrays and maps, where nil is <nil>.
std::string print_value(const ojson& v, bool top = true) {
  switch (v.type()) {
    case ojson::value_t::null:
      return top ? "<no value>" : "<nil>";
    case ojson::value_t::string:
      return v.get<std::string>();
    case ojson::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case ojson::value_t::number_integer:
    case ojson::value_t::number_unsigned:
    case ojson::value_t::number_float:
      return number_text(v);
    case ojson::value_t::array: {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); i++) s += (i ? " " : "") + print_value(v[i], false);
      return s + "]";
    }
    case ojson::value_t::object: {
      std::map<std::string, const ojson*> sorted;
      for (auto it = v.begin(); it != v.end(); ++it) sorted[it.key()] = &it.value();
      std::string s = "map[";
      bool first = true;
      for (const auto& [k, val] : sorted) {
        s += (first ? "" : " ") + k + ":" + print_value(*val, false);
        first = false;
      }
      return s + "]";
    }
    default:
      return v.dump();
  }
}

bool truthy(const ojson& v) {
  switch (v.type()) {
    case ojson::value_t::null:
      return false;
    case ojson::value_t::boolean:
      return v.get<bool>();
    case ojson::value_t::string:
    case ojson::value_t::array:
    case ojson::value_t::object:
      return !v.empty();
    case ojson::value_t::number_integer:
    case ojson::value_t::number_unsigned:
    case ojson::value_t::number_float:
      return v.get<double>() != 0;
    default:
      return true;
  }
}

std::string kind_name(const ojson& v) {
  switch (v.type()) {
    case ojson::value_t::null: return "nil";
    case ojson::value_t::string: return "string";
    case ojson::value_t::boolean: return "bool";
    case ojson::value_t::array: return "list";
    case ojson::value_t::object: return "map";
    default: return "number";
  }
}

size_t runes(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) n++;
  return n;
}

long long int_arg(const ojson& v, const std::string& fn) {
  if (!v.is_number()) fail(fn + ": expected a number, got " + kind_name(v));
  return v.is_number_integer() ? v.get<long long>() : static_cast<long long>(v.get<double>());
}

int compare(const ojson& a, const ojson& b, const std::string& fn) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) return a.get<std::string>().compare(b.get<std::string>());
  fail(fn + ": incompatible types for comparison (" + kind_name(a) + " and " + kind_name(b) + ")");
}

ojson call(const std::string& fn, const std::vector<ojson>& a) {
  auto want = [&](size_t lo, size_t hi) {
    if (a.size() < lo || a.size() > hi)
      fail("wrong number of args for " + fn + ": want " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + "+") +
           " got " + std::to_string(a.size()));
  };
  auto str = [&](const ojson& v) { return print_value(v); };
  if (fn == "json") {
    want(1, 1);
    return a[0].dump();
  }
  if (fn == "join") {
    want(2, 2);
    if (a[0].is_null()) return "";
    if (!a[0].is_array()) fail("join: expected a list, got " + kind_name(a[0]));
    std::string s;
    for (size_t i = 0; i < a[0].size(); i++) s += (i ? str(a[1]) : "") + print_value(a[0][i], false);
    return s;
  }
  if (fn == "split") {
    want(2, 2);
    std::string s = str(a[0]), sep = str(a[1]);
    ojson out = ojson::array();
    if (sep.empty()) {
      for (char c : s) out.push_back(std::string(1, c));
      return out;
    }
    size_t b = 0;
    for (size_t e; (e = s.find(sep, b)) != std::string::npos; b = e + sep.size()) out.push_back(s.substr(b, e - b));
    out.push_back(s.substr(b));
    return out;
  }
  if (fn == "upper" || fn == "lower" || fn == "title") {
    want(1, 1);
    std::string s = str(a[0]);
    bool start = true;
    for (char& c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      if (fn == "upper") c = static_cast<char>(std::toupper(u));
      else if (fn == "lower") c = static_cast<char>(std::tolower(u));
      else {
        if (start && std::isalpha(u)) c = static_cast<char>(std::toupper(u));
        start = !std::isalnum(u) && u < 0x80 && c != '_' && c != '\'';
      }
    }
    return s;
  }
  if (fn == "truncate") {
    want(2, 2);
    std::string s = str(a[0]);
    long long n = int_arg(a[1], fn);
    return n < 0 || static_cast<size_t>(n) >= s.size() ? s : s.substr(0, static_cast<size_t>(n));
  }
  if (fn == "pad") {
    want(3, 3);
    long long l = int_arg(a[1], fn), r = int_arg(a[2], fn);
    return std::string(static_cast<size_t>(std::max(0LL, l)), ' ') + str(a[0]) +
           std::string(static_cast<size_t>(std::max(0LL, r)), ' ');
  }
  if (fn == "index") {
    want(1, 99);
    ojson v = a[0];
    for (size_t i = 1; i < a.size(); i++) {
      if (v.is_object()) {
        if (!a[i].is_string()) fail("index: a map's key must be a string, got " + kind_name(a[i]));
        auto it = v.find(a[i].get<std::string>());
        v = it == v.end() ? ojson(nullptr) : *it;
      } else if (v.is_array()) {
        long long k = int_arg(a[i], fn);
        if (k < 0 || static_cast<size_t>(k) >= v.size())
          fail("index: index out of range: " + std::to_string(k));
        v = v[static_cast<size_t>(k)];
      } else if (v.is_null()) {
        fail("index of untyped nil");
      } else {
        fail("index: can't index item of type " + kind_name(v));
      }
    }
    return v;
  }
  if (fn == "len") {
    want(1, 1);
    if (a[0].is_string()) return a[0].get<std::string>().size();
    if (a[0].is_array() || a[0].is_object()) return a[0].size();
    fail("len of " + kind_name(a[0]));
  }
  if (fn == "slice") {
    want(1, 3);
    const ojson& v = a[0];
    size_t n = v.is_string() ? v.get<std::string>().size() : v.is_array() ? v.size() : 0;
    if (!v.is_string() && !v.is_array()) fail("slice: can't slice item of type " + kind_name(v));
    long long lo = a.size() > 1 ? int_arg(a[1], fn) : 0, hi = a.size() > 2 ? int_arg(a[2], fn) : static_cast<long long>(n);
    if (lo < 0 || hi < lo || static_cast<size_t>(hi) > n) fail("slice: index out of range");
    if (v.is_string()) return v.get<std::string>().substr(static_cast<size_t>(lo), static_cast<size_t>(hi - lo));
    ojson out = ojson::array();
    for (long long i = lo; i < hi; i++) out.push_back(v[static_cast<size_t>(i)]);
    return out;
  }
  if (fn == "print" || fn == "println") {
    std::string s;
    for (size_t i = 0; i < a.size(); i++) {
      // Sprint adds a space between operands when neither is a string; Sprintln always does.
      if (i && (fn == "println" || (!a[i - 1].is_string() && !a[i].is_string()))) s += " ";
      s += str(a[i]);
    }
    return fn == "println" ? s + "\n" : s;
  }
  if (fn == "printf") {
    want(1, 99);
    if (!a[0].is_string()) fail("printf: the format must be a string");
    const std::string f = a[0].get<std::string>();
    std::string s;
    size_t arg = 1;
    for (size_t i = 0; i < f.size(); i++) {
      if (f[i] != '%') {
        s += f[i];
        continue;
      }
      if (++i >= f.size()) fail("printf: format ends with %");
      char verb = f[i];
      if (verb == '%') {
        s += '%';
        continue;
      }
      if (!std::strchr("svdq", verb))
        fail(std::string("unsupported: printf verb %") + verb + " (minirun's printf has %s %v %d %q %%)");
      if (arg >= a.size()) {
        s += std::string("%!") + verb + "(MISSING)";
        continue;
      }
      const ojson& v = a[arg++];
      if (verb == 'q') s += ojson(str(v)).dump();
      else if (verb == 'd' && !v.is_number()) s += std::string("%!d(") + kind_name(v) + "=" + str(v) + ")";
      else s += str(v);
    }
    return s;
  }
  if (fn == "not") {
    want(1, 1);
    return !truthy(a[0]);
  }
  if (fn == "and" || fn == "or") {
    want(1, 99);
    for (size_t i = 0; i + 1 < a.size(); i++)
      if (truthy(a[i]) != (fn == "and")) return a[i];
    return a.back();
  }
  if (fn == "eq") {
    want(2, 99);
    for (size_t i = 1; i < a.size(); i++)
      if (a[0] == a[i]) return true;
    return false;
  }
  want(2, 2);
  if (fn == "ne") return a[0] != a[1];
  int c = compare(a[0], a[1], fn);
  if (fn == "lt") return c < 0;
  if (fn == "le") return c <= 0;
  if (fn == "gt") return c > 0;
  if (fn == "ge") return c >= 0;
  fail("function \"" + fn + "\" not defined");
}

// ---- execution ----

class Exec {
 public:
  Exec(const ojson& root, bool lenient) : lenient_(lenient) { vars_.push_back({"$", root}); }

  void run(const NodeList& nodes, const ojson& dot, std::string& out) {
    size_t mark = vars_.size();
    for (const auto& n : nodes) node(*n, dot, out);
    vars_.resize(mark);
  }

 private:
  void node(const GoTemplate::Node& n, const ojson& dot, std::string& out) {
    using N = GoTemplate::Node;
    switch (n.kind) {
      case N::text:
        out += n.str;
        return;
      case N::action: {
        ojson v = pipeline(n.pipe, dot);
        if (!n.pipe.decl.empty()) vars_.push_back({n.pipe.decl[0], v});
        else out += print_value(v);
        return;
      }
      case N::if_:
      case N::with: {
        ojson v = pipeline(n.pipe, dot);
        size_t mark = vars_.size();
        if (!n.pipe.decl.empty()) vars_.push_back({n.pipe.decl[0], v});
        if (truthy(v)) run(n.body, n.kind == N::with ? v : dot, out);
        else run(n.else_body, dot, out);
        vars_.resize(mark);
        return;
      }
      case N::range: {
        ojson v = pipeline(n.pipe, dot);
        if (!truthy(v)) {
          run(n.else_body, dot, out);
          return;
        }
        auto each = [&](const ojson& key, const ojson& elem) {
          size_t mark = vars_.size();
          if (n.pipe.decl.size() == 1) vars_.push_back({n.pipe.decl[0], elem});
          if (n.pipe.decl.size() == 2) vars_.push_back({n.pipe.decl[0], key}), vars_.push_back({n.pipe.decl[1], elem});
          run(n.body, elem, out);
          vars_.resize(mark);
        };
        if (v.is_array()) {
          for (size_t i = 0; i < v.size(); i++) each(ojson(i), v[i]);
        } else if (v.is_object()) {
          std::map<std::string, const ojson*> sorted;
          for (auto it = v.begin(); it != v.end(); ++it) sorted[it.key()] = &it.value();
          for (const auto& [k, e] : sorted) each(ojson(k), *e);
        } else if (v.is_number_integer() && v.get<long long>() > 0) {
          for (long long i = 0; i < v.get<long long>(); i++) each(ojson(i), ojson(i));
        } else {
          fail("range can't iterate over " + print_value(v) + " in {{" + n.pipe.text + "}}");
        }
        return;
      }
    }
  }

  ojson pipeline(const Pipeline& p, const ojson& dot) {
    ojson v;
    bool have = false;
    for (const auto& c : p.cmds) {
      v = command(c, dot, have ? &v : nullptr, p.text);
      have = true;
    }
    return v;
  }

  ojson command(const Command& c, const ojson& dot, const ojson* piped, const std::string& text) {
    const Operand& first = c.args[0];
    if (first.kind != Operand::func) return operand(first, dot, text);
    std::vector<ojson> args;
    for (size_t i = 1; i < c.args.size(); i++) args.push_back(operand(c.args[i], dot, text));
    if (piped) args.push_back(*piped);
    try {
      return call(first.name, args);
    } catch (const Error& e) {
      if (lenient_) return "";
      throw Error(std::string(e.what()) + " in {{" + text + "}}", kExitFailed);
    }
  }

  ojson operand(const Operand& o, const ojson& dot, const std::string& text) {
    switch (o.kind) {
      case Operand::literal:
        return o.value;
      case Operand::field:
        return walk(dot, o.path, text);
      case Operand::var:
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == o.name) return walk(it->second, o.path, text);
        fail("undefined variable " + o.name + " in {{" + text + "}}");
      case Operand::sub:
        return pipeline(*o.pipe, dot);
      case Operand::func:
        return call(o.name, {});
    }
    return nullptr;
  }

  ojson walk(const ojson& base, const std::vector<std::string>& path, const std::string& text) {
    const ojson* v = &base;
    std::string at;
    for (const auto& f : path) {
      at += "." + f;
      if (v->is_null()) return nullptr;
      if (!v->is_object()) {
        if (lenient_) return "";
        fail("can't evaluate field " + f + " in " + kind_name(*v) + " " + at.substr(0, at.size() - f.size() - 1) +
             " in {{" + text + "}}");
      }
      auto it = v->find(f);
      if (it == v->end()) {
        if (lenient_) return "";
        std::string fields;
        for (auto k = v->begin(); k != v->end(); ++k) fields += (fields.empty() ? "" : ", ") + k.key();
        fail("no field \"" + f + "\" at <" + at + "> in {{" + text + "}} (there: " + fields + ")");
      }
      v = &*it;
    }
    return *v;
  }

  bool lenient_;
  std::vector<std::pair<std::string, ojson>> vars_;
};

}  // namespace

GoTemplate::GoTemplate(const std::string& text) : text_(text) { nodes_ = Parser(text_).parse(); }
GoTemplate::~GoTemplate() = default;
GoTemplate::GoTemplate(GoTemplate&&) noexcept = default;
GoTemplate& GoTemplate::operator=(GoTemplate&&) noexcept = default;

std::string GoTemplate::execute(const ojson& dot) const {
  std::string out;
  Exec(dot, false).run(nodes_, dot, out);
  return out;
}

std::string GoTemplate::execute_lenient(const ojson& dot) const {
  std::string out;
  Exec(dot, true).run(nodes_, dot, out);
  return out;
}

namespace {

std::string unescape_format(const std::string& f) {
  std::string out;
  for (size_t i = 0; i < f.size(); i++) {
    if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      out += f[++i] == 't' ? '\t' : '\n';
    } else {
      out += f[i];
    }
  }
  return out;
}

}  // namespace

bool format_rows(const std::string& format, const ojson& headers, const std::vector<ojson>& rows, std::string& out) {
  if (format.empty() || format == "table") return false;
  out.clear();
  if (format == "json") {
    for (const auto& r : rows) out += r.dump() + "\n";
    return true;
  }
  bool table = format.rfind("table", 0) == 0;
  std::string f = table ? format.substr(5) : format;
  size_t b = f.find_first_not_of(' '), e = f.find_last_not_of(' ');
  f = b == std::string::npos ? "" : f.substr(b, e - b + 1);
  GoTemplate t(unescape_format(f));
  std::string text;
  // The header row is the template run over the column names; a field or function that has no
  // header prints as empty (Docker prints whatever its header context gives).
  if (table) text += t.execute_lenient(headers) + "\n";
  for (const auto& r : rows) text += t.execute(r) + "\n";
  out = table ? tabwrite(text) : text;
  return true;
}

std::string tabwrite(const std::string& text) {
  constexpr size_t minwidth = 10, padding = 3;
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> tails;
  size_t b = 0;
  while (b < text.size()) {
    size_t e = text.find('\n', b);
    std::string line = text.substr(b, e == std::string::npos ? std::string::npos : e - b);
    b = e == std::string::npos ? text.size() : e + 1;
    std::vector<std::string> c;
    size_t s = 0;
    for (size_t t; (t = line.find('\t', s)) != std::string::npos; s = t + 1) c.push_back(line.substr(s, t - s));
    cells.push_back(std::move(c));
    tails.push_back(line.substr(s));
  }
  std::vector<std::vector<size_t>> width(cells.size());
  for (size_t i = 0; i < cells.size(); i++) width[i].resize(cells[i].size());
  // Go's column blocks: a column's width is taken over consecutive lines that have that cell.
  std::function<void(size_t, size_t, size_t)> block = [&](size_t l0, size_t l1, size_t col) {
    for (size_t i = l0; i < l1;) {
      if (cells[i].size() <= col) {
        i++;
        continue;
      }
      size_t j = i, w = minwidth;
      for (; j < l1 && cells[j].size() > col; j++) w = std::max(w, runes(cells[j][col]) + padding);
      for (size_t k = i; k < j; k++) width[k][col] = w;
      block(i, j, col + 1);
      i = j;
    }
  };
  block(0, cells.size(), 0);
  std::string out;
  for (size_t i = 0; i < cells.size(); i++) {
    for (size_t c = 0; c < cells[i].size(); c++) out += cells[i][c] + std::string(width[i][c] - runes(cells[i][c]), ' ');
    out += tails[i];
    if (i + 1 < cells.size() || (!text.empty() && text.back() == '\n')) out += "\n";
  }
  return out;
}

}  // namespace minirun::cli

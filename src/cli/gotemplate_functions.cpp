// gotemplate_functions.cpp — the values of a --format template as Go's text/template sees
// JSON-decoded data (how each prints, what is true, kind names in errors) and its functions:
// Docker's json, join, split, upper, lower, title, truncate, pad and Go's builtins.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "gotemplate_tree.h"
#include "minirun/util/error.h"

namespace minirun::cli::gotemplate {

void fail(const std::string& msg) { throw Error("template: " + msg, kExitFailed); }

bool is_function(const std::string& name) {
  static const std::set<std::string> f = {"json",  "join", "split", "upper", "lower", "title", "truncate",
                                          "pad",   "index", "len",  "slice", "printf", "print", "println",
                                          "eq",    "ne",   "lt",    "le",    "gt",    "ge",    "and",
                                          "or",    "not"};
  return f.count(name) > 0;
}

const char* const kFunctionList =
    "json, join, split, upper, lower, title, truncate, pad, index, len, slice, printf, print, println, "
    "eq, ne, lt, le, gt, ge, and, or, not";

namespace {

std::string number_text(const ojson& v) {
  if (v.is_number_integer()) return v.dump();
  double d = v.get<double>();
  if (d == static_cast<double>(static_cast<long long>(d)) && std::abs(d) < 1e21) return std::to_string(static_cast<long long>(d));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

}  // namespace

// Go's %v of the JSON-decoded value; `top` is false inside arrays and maps, where nil is <nil>.
std::string print_value(const ojson& v, bool top) {
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

namespace {

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

}  // namespace

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

}  // namespace minirun::cli::gotemplate

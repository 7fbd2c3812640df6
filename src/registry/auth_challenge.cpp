// auth_challenge.cpp — see auth_challenge.h. A hand parser of RFC 7235's grammar:
//   challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
// A token after a comma that is not followed by '=' starts the next challenge.
#include "minirun/registry/auth_challenge.h"

#include <algorithm>
#include <cctype>

namespace minirun::registry {

namespace {

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  void spaces() {
    while (!done() && (s[i] == ' ' || s[i] == '\t')) i++;
  }
  std::string token() {
    size_t b = i;
    while (!done() && is_tchar(s[i])) i++;
    return std::string(s.substr(b, i - b));
  }
  std::string quoted() {  // at the opening quote
    std::string out;
    i++;
    while (!done() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) i++;
      out += s[i++];
    }
    if (!done()) i++;  // the closing quote
    return out;
  }
};

}  // namespace

std::vector<Challenge> parse_challenges(std::string_view header) {
  std::vector<Challenge> out;
  Cursor c{header};
  while (!c.done()) {
    c.spaces();
    if (c.peek() == ',') {
      c.i++;
      continue;
    }
    std::string scheme = c.token();
    if (scheme.empty()) {  // not a token: skip a character and look again
      c.i++;
      continue;
    }
    Challenge ch;
    ch.scheme = lower(scheme);
    // Parameters until a token that is not followed by '='.
    while (!c.done()) {
      c.spaces();
      if (c.peek() == ',') {
        c.i++;
        continue;
      }
      size_t start = c.i;
      std::string name = c.token();
      if (name.empty()) {
        c.i++;
        continue;
      }
      c.spaces();
      if (c.peek() != '=') {  // the next challenge's scheme
        c.i = start;
        break;
      }
      c.i++;
      c.spaces();
      // token68 ends in '=' padding: "abc==" is taken as a name with an empty value; harmless.
      std::string value = c.peek() == '"' ? c.quoted() : c.token();
      ch.params[lower(name)] = value;
    }
    out.push_back(std::move(ch));
  }
  return out;
}

}  // namespace minirun::registry

// url.cpp — see url.h.
#include "minirun/registry/url.h"

#include <algorithm>
#include <cctype>

#include "minirun/util/error.h"

namespace minirun::registry {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// host[:port] with the scheme's default port made explicit, in lower case.
std::string with_port(const std::string& scheme, const std::string& host) {
  std::string h = lower(host);
  size_t bracket = h.rfind(']');
  size_t colon = h.rfind(':');
  bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  if (has_port) return h;
  return h + (scheme == "https" ? ":443" : ":80");
}

}  // namespace

bool Url::same_origin(const Url& o) const {
  return scheme == o.scheme && with_port(scheme, host) == with_port(o.scheme, o.host);
}

std::optional<Url> parse_url(std::string_view s) {
  size_t sep = s.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  Url u;
  u.scheme = lower(std::string(s.substr(0, sep)));
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  std::string_view rest = s.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  u.host = std::string(rest.substr(0, end));
  if (u.host.empty() || u.host.find('@') != std::string::npos) return std::nullopt;
  std::string_view target = end == std::string_view::npos ? "" : rest.substr(end);
  if (size_t hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  u.target = target.empty() || target[0] != '/' ? "/" + std::string(target) : std::string(target);
  return u;
}

Url resolve_location(const Url& base, std::string_view loc) {
  if (loc.find("://") != std::string_view::npos) {
    auto u = parse_url(loc);
    if (!u) throw Error("redirect to \"" + std::string(loc) + "\": not an http(s) URL");
    return *u;
  }
  if (loc.rfind("//", 0) == 0) {
    auto u = parse_url(base.scheme + ":" + std::string(loc));
    if (!u) throw Error("redirect to \"" + std::string(loc) + "\": not a URL");
    return *u;
  }
  Url u = base;
  if (!loc.empty() && loc[0] == '/') {
    u.target = std::string(loc);
  } else {
    std::string dir = base.target.substr(0, base.target.find('?'));
    dir = dir.substr(0, dir.rfind('/') + 1);
    u.target = dir + std::string(loc);
  }
  return u;
}

std::string query_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string api_url(std::string_view scheme, std::string_view host, std::string_view rest) {
  return std::string(scheme) + "://" + std::string(host) + "/v2/" + std::string(rest);
}

std::string token_url(std::string_view realm, std::string_view service, std::string_view scope) {
  std::string u(realm);
  char sep = u.find('?') == std::string::npos ? '?' : '&';
  if (!service.empty()) {
    u += sep + std::string("service=") + query_escape(service);
    sep = '&';
  }
  if (!scope.empty()) u += sep + std::string("scope=") + query_escape(scope);
  return u;
}

}  // namespace minirun::registry

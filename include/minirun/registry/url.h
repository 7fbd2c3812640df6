// url.h — the URLs a pull asks for: the distribution API's (/v2/, manifests, blobs) on a
// registry's API host, the token endpoint's (realm with service and scope), and where a
// redirect's Location leads, so that the client can tell when a request leaves the registry
// (and must not carry its Authorization).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace minirun::registry {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // host[:port] as written ("[::1]:5000" keeps its brackets)
  std::string target;  // path and query, starting with '/'
  std::string str() const { return scheme + "://" + host + target; }
  // Same scheme and host[:port] (the default port spelled out or not counts as the same).
  bool same_origin(const Url& o) const;
};

// An absolute http(s) URL; nullopt for anything else (another scheme, no host).
std::optional<Url> parse_url(std::string_view s);

// Where a Location header leads from the URL that answered it: absolute, scheme-relative
// ("//host/p"), absolute path ("/p"), or relative to the answering path. Throws Error when it
// is not http(s).
Url resolve_location(const Url& base, std::string_view location);

// application/x-www-form-urlencoded's escaping of a query value (unreserved characters kept).
std::string query_escape(std::string_view s);

// "SCHEME://HOST/v2/" + rest: rest is "" (the ping), "PATH/manifests/REF", "PATH/blobs/DIGEST".
std::string api_url(std::string_view scheme, std::string_view host, std::string_view rest = "");

// The token request: realm + "?service=…&scope=…" (or "&…" when the realm has a query
// already); service and scope left out when empty.
std::string token_url(std::string_view realm, std::string_view service, std::string_view scope);

}  // namespace minirun::registry

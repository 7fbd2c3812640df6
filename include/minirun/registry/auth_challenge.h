// auth_challenge.h — the WWW-Authenticate header of a registry's 401 (RFC 7235): its challenges,
// each a scheme ("bearer", "basic") and its parameters (realm, service, scope, error), as
// distribution's token authentication specification describes them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace minirun::registry {

struct Challenge {
  std::string scheme;                         // lower case
  std::map<std::string, std::string> params;  // names in lower case; values unquoted
  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

// Every challenge of the header, in order: `Bearer realm="https://auth/token",service="reg"`,
// `Basic realm="x"`, several separated by commas. Quoted values may hold commas and
// backslash escapes. What cannot be parsed is skipped; never throws.
std::vector<Challenge> parse_challenges(std::string_view header);

}  // namespace minirun::registry

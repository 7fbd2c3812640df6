// auth_challenge_fuzz.cpp — libFuzzer target over the WWW-Authenticate parser
// (registry/auth_challenge.h), which reads what a registry or anything between it and minirun
// sends: it must never throw nor read out of bounds, and what it returns must hold together
// (schemes and parameter names in lower case, no empty scheme). The parameters a pull uses
// (realm, service, scope) are looked up as the client does.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "minirun/registry/auth_challenge.h"

namespace {

bool lower(const std::string& s) {
  for (char c : s)
    if (std::isupper(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto challenges = minirun::registry::parse_challenges(in);
  for (const auto& ch : challenges) {
    if (ch.scheme.empty() || !lower(ch.scheme)) std::abort();
    for (const auto& [name, value] : ch.params) {
      if (name.empty() || !lower(name)) std::abort();
      if (value.size() > size) std::abort();
    }
    for (const char* p : {"realm", "service", "scope", "error"}) (void)ch.param(p);
  }
  return 0;
}

// registries_conf_fuzz.cpp — libFuzzer target over containers-registries.conf (toml++ and the
// checks after it) and the references it works with: a configuration that parses is asked which
// entry applies to, where to pull and how to resolve a few references, and the input is also read
// as a reference (Docker's grammar, normalised). minirun::Error is the expected answer to bad
// input; anything else is a finding.
#include <cstdint>
#include <string>

#include "minirun/image/reference.h"
#include "minirun/registry/registries_conf.h"
#include "minirun/util/error.h"

namespace {

void use(const minirun::registry::RegistriesConf& c) {
  for (const char* ref : {"busybox", "docker.io/library/busybox:1", "example.com/ns/app@sha256:"
                                                                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                          "a.b.example.com:5000/x/y:t", "localhost/z"}) {
    try {
      (void)c.find(ref);
      for (const auto& r : c.resolve(ref)) (void)c.pull_sources(minirun::with_default_tag(r));
    } catch (const minirun::Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  try {
    use(minirun::registry::parse_registries_conf(in, "fuzz.conf"));
  } catch (const minirun::Error&) {
  }
  if (size < 512) {
    try {
      auto r = minirun::parse_reference(in);
      (void)r.familiar_string();
    } catch (const minirun::Error&) {
    }
    try {
      auto r = minirun::with_default_tag(minirun::parse_normalized_reference(in));
      (void)r.familiar_string();
      (void)r.manifest_reference();
      (void)minirun::registry_api_host(r.domain);
    } catch (const minirun::Error&) {
    }
  }
  return 0;
}

// registries_conf.h — containers-registries.conf(5), version 2 (and the old v1 lists), as Podman,
// Buildah and skopeo read it: which registry entry applies to a reference (the longest matching
// prefix, "*.example.com" wildcards), where its pulls go (mirrors in order, the origin last,
// `location` rewriting), insecure and blocked registries, short-name aliases and the
// unqualified-search registries; and how a short name becomes the references to try.
//
// The file: $CONTAINERS_REGISTRIES_CONF when set (that file alone, which must exist), else
// /etc/containers/registries.conf (absent: an empty configuration) followed by the *.conf files
// of /etc/containers/registries.conf.d in name order, each overriding what came before
// (the same prefix replaces a [[registry]], aliases with "" are removed).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "minirun/image/reference.h"

namespace minirun::registry {

// A mirror (or the origin): host[:port][/namespace…].
struct Endpoint {
  std::string location;
  bool insecure = false;            // plain HTTP, or TLS without verification
  std::string pull_from_mirror;     // mirrors only: "" or "all", "digest-only", "tag-only"
};

struct RegistryEntry {
  std::string prefix;    // "example.com", "example.com/ns/repo", "*.example.com"
  std::string location;  // where the prefix's images are; "" with a wildcard prefix: unchanged
  bool insecure = false;
  bool blocked = false;
  bool mirror_by_digest_only = false;
  std::vector<Endpoint> mirrors;
  std::string origin;  // "FILE:LINE" of its [[registry]] table, for messages
};

// One place a pull may take the image from, in the order to try them.
struct PullSource {
  Reference reference;  // the reference at that endpoint ("mirror.local/library/busybox:latest")
  bool insecure = false;
  bool mirror = false;  // false for the origin (the entry's location, or the reference itself)
};

struct RegistriesConf {
  std::vector<RegistryEntry> registries;
  std::vector<std::string> unqualified_search;  // host[:port], in order
  bool unqualified_search_set = false;          // the key is there (a drop-in's [] clears the list)
  std::map<std::string, std::string> aliases;   // short name → fully qualified name, no tag
  std::string short_name_mode;                  // as written; minirun never prompts (see resolve)
  std::vector<std::string> files;               // the files read, in order

  // The entry whose prefix is the longest match of `ref` (a domain, a name or a whole
  // reference as Reference::string() spells it: "docker.io/library/busybox:latest"): a prefix
  // matches when the reference starts with it followed by its end, '/', ':' or '@'; a
  // "*.example.com" prefix matches any subdomain of example.com (not example.com itself). On a
  // tie, the first entry. nullptr when none matches.
  const RegistryEntry* find(std::string_view ref) const;

  // Where to pull `ref` (a normalised reference) from: the entry's mirrors in order (those its
  // mirror-by-digest-only / pull-from-mirror allow for a tag or a digest), then the origin;
  // just the reference itself when no entry matches. Throws Error when the entry is blocked,
  // naming the file and line that blocks it.
  std::vector<PullSource> pull_sources(const Reference& ref) const;

  // Whether `domain` (host[:port]) is marked insecure (the entry find(domain) gives).
  bool insecure(std::string_view domain) const;

  // The normalised references to try, in order, for what the user typed:
  //  - a name with a registry ("quay.io/x", "localhost:5000/y") is itself;
  //  - a short name with an alias ("fedora" → registry.fedoraproject.org/fedora) is the alias,
  //    with the tag or digest typed;
  //  - otherwise each unqualified-search registry in turn, when the configuration lists some;
  //  - otherwise Docker Hub, as Docker does ("busybox" → docker.io/library/busybox).
  // The tag is not defaulted (with_default_tag). Throws Error on an invalid reference.
  std::vector<Reference> resolve(std::string_view input) const;
};

// One file's text; `file` names it in errors ("FILE:LINE: …"). Throws Error on a TOML syntax
// error, a value of the wrong type, a location with a URI scheme, a wildcard prefix that is
// not "*.host", an entry with neither prefix nor location, conflicting insecure/blocked settings
// for one location, an invalid search registry or alias, v1 and v2 settings mixed.
RegistriesConf parse_registries_conf(std::string_view text, const std::string& file);

// Applies a drop-in over `base`: its search registries and short-name mode replace the base's
// when it sets them, a [[registry]] with the same prefix replaces the base's, new ones are
// added, aliases override one by one ("" removes one).
void merge_registries_conf(RegistriesConf& base, RegistriesConf dropin);

// Reads `path` (an error when missing only if `must_exist`), then, when `dropin_dir` is not
// empty, the *.conf files in it in name order.
RegistriesConf load_registries_conf(const std::string& path, bool must_exist, const std::string& dropin_dir);

// The configuration minirun uses: $CONTAINERS_REGISTRIES_CONF, else the system's (see above).
RegistriesConf load_registries_conf();

}  // namespace minirun::registry

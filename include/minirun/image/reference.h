// reference.h — image references: Docker's grammar (distribution/reference), its normalisation
// ("busybox" → docker.io/library/busybox) and the familiar form Docker shows ("busybox:latest").
//
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [ domain "/" ] component ( "/" component )*        (255 characters at most)
//   domain    := host [ ":" port ]      host: DNS labels joined by '.', or "[" IPv6 "]"
//   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest    := algorithm ":" hex      sha256 (64), sha384 (96) or sha512 (128) lowercase hex
//
// The grammar alone cannot tell "test.com:5000" (a name and a tag) from a registry; Docker's
// normalisation decides: the first component is a registry when the name has a '/' after it and
// it holds a '.' or ':', is "localhost", or has an uppercase letter; otherwise the registry is
// docker.io, and a single component there lives under "library/".
#pragma once

#include <string>
#include <string_view>

namespace minirun {

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000", "[::1]:5000"; "" only from parse_reference
  std::string path;    // "library/busybox", "x/y"
  std::string tag;     // "" when none was given
  std::string digest;  // "sha256:<hex>" (or sha384/sha512), "" when none was given

  // domain + "/" + path ("docker.io/library/busybox"), or path alone when there is no domain.
  std::string name() const;
  // The whole reference: name[:tag][@digest].
  std::string string() const;
  // As Docker shows it: "busybox", "x/y", "localhost:5000/x" (docker.io and library/ dropped).
  std::string familiar_name() const;
  // familiar_name()[:tag][@digest].
  std::string familiar_string() const;
  // What the registry is asked for: the digest when there is one, else the tag, else "latest".
  std::string manifest_reference() const;
  bool operator==(const Reference&) const = default;
};

inline constexpr std::string_view kDockerHubDomain = "docker.io";
inline constexpr std::string_view kDockerHubApiHost = "registry-1.docker.io";

// Docker's reference.Parse: the grammar above, no normalisation. domain is set only when the
// name has a '/' and its first component is a valid host[:port] (so "foo/bar" gives domain
// "foo"). Throws Error ("invalid reference format…") naming the reference and what is wrong.
Reference parse_reference(std::string_view ref);

// Docker's ParseNormalizedNamed, as `docker pull` reads its argument: the domain is always set
// (docker.io when none is given; index.docker.io becomes docker.io), Docker Hub's single
// component names get "library/". The tag stays empty when none was given (see
// with_default_tag). A 64-hex-character name is refused (it would look like an image ID).
Reference parse_normalized_reference(std::string_view ref);

// The tag "latest" when the reference has neither tag nor digest (Docker's TagNameOnly).
Reference with_default_tag(Reference ref);

// The host a registry's API answers on: registry-1.docker.io for Docker Hub, else the domain.
std::string registry_api_host(std::string_view domain);

// The familiar form with the default tag, as the store's tags and `docker images` show it:
// "busybox" → "busybox:latest", "docker.io/x/y:t" → "x/y:t", "localhost:5000/x" →
// "localhost:5000/x:latest"; "name@sha256:…" keeps its digest and gets no tag.
// Throws Error on an invalid reference.
std::string normalize_reference(std::string_view ref);

}  // namespace minirun

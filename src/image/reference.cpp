// reference.cpp — Docker's reference grammar, matched by hand in the order its regular
// expression resolves (distribution/reference's regexp.go):
//  - the digest is everything after the first '@' (neither names nor tags hold one);
//  - the tag is what follows the last ':' when no '/' comes after it (a port is always followed
//    by the path's '/');
//  - the first component is the domain when a '/' follows it and it is a valid host[:port]; a
//    regular expression that failed to match it as a domain would fail as a path too, so there
//    is no backtracking to do.
// On a failed match, the lowercase form is tried to tell "must be lowercase" from other errors,
// as Docker does.
#include "minirun/image/reference.h"

#include <algorithm>

#include "minirun/util/error.h"

namespace minirun {

namespace {

constexpr size_t kNameMax = 255;
constexpr size_t kTagMax = 128;

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool hex_digit(char c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool word(char c) { return alnum(c) || c == '_'; }

// [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
bool valid_component(std::string_view c) {
  if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    if (c[i] == '_') {
      if (j < c.size() && c[j] == '_') ++j;
    } else if (c[i] == '-') {
      while (j < c.size() && c[j] == '-') ++j;
    } else if (c[i] != '.') {
      return false;
    }
    if (j >= c.size() || !lower_alnum(c[j])) return false;
    i = j;
  }
  return true;
}

// One DNS label: [A-Za-z0-9] or [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9].
bool valid_label(std::string_view l) {
  if (l.empty() || !alnum(l.front()) || !alnum(l.back())) return false;
  return std::all_of(l.begin(), l.end(), [](char c) { return alnum(c) || c == '-'; });
}

// host [":" port]; host: labels joined by '.', or "[" hex digits and ':' "]".
bool valid_domain(std::string_view d) {
  std::string_view rest;
  if (!d.empty() && d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view inner = d.substr(1, close - 1);
    if (!std::all_of(inner.begin(), inner.end(), [](char c) { return hex_digit(c) || c == ':'; })) return false;
    rest = d.substr(close + 1);
  } else {
    size_t colon = d.find(':');
    std::string_view host = d.substr(0, colon);
    if (colon != std::string_view::npos) rest = d.substr(colon);
    size_t start = 0;
    while (true) {
      size_t dot = host.find('.', start);
      if (!valid_label(host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
        return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  if (rest.empty()) return true;
  return rest.size() > 1 && rest[0] == ':' && std::all_of(rest.begin() + 1, rest.end(), digit);
}

// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > kTagMax || !word(t[0])) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return word(c) || c == '.' || c == '-'; });
}

// The grammar's digest: [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ":" [0-9A-Fa-f]{32,}
bool digest_syntax(std::string_view d) {
  size_t colon = d.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view alg = d.substr(0, colon), hex = d.substr(colon + 1);
  if (hex.size() < 32 || !std::all_of(hex.begin(), hex.end(), hex_digit)) return false;
  bool at_start = true;  // of the algorithm or of a part after a separator
  for (char c : alg) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (at_start) {
      if (!letter) return false;
      at_start = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      at_start = true;
    } else if (!alnum(c)) {
      return false;
    }
  }
  return !at_start;
}

// What go-digest checks of a digest the grammar accepted; "" when it is valid.
std::string digest_problem(std::string_view d) {
  size_t colon = d.find(':');
  std::string_view alg = d.substr(0, colon), hex = d.substr(colon + 1);
  size_t want = alg == "sha256" ? 64 : alg == "sha384" ? 96 : alg == "sha512" ? 128 : 0;
  if (want == 0) return "unsupported digest algorithm " + std::string(alg);
  if (hex.size() != want) return "invalid checksum digest length";
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return digit(c) || (c >= 'a' && c <= 'f'); }))
    return "invalid checksum digest format";
  return "";
}

// The regular expression's match; false with a hint in `why` when there is none.
bool match(std::string_view s, Reference& out, std::string& why) {
  out = Reference{};
  size_t at = s.find('@');
  std::string_view name_tag = s.substr(0, at);
  if (at != std::string_view::npos) {
    std::string_view d = s.substr(at + 1);
    if (!digest_syntax(d)) {
      why = "invalid digest";
      return false;
    }
    out.digest = d;
  }
  std::string_view name = name_tag;
  size_t colon = name_tag.rfind(':'), slash = name_tag.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = name_tag.substr(colon + 1);
    if (!valid_tag(tag)) {
      why = "invalid tag";
      return false;
    }
    out.tag = tag;
    name = name_tag.substr(0, colon);
  }
  std::string_view path = name;
  if (size_t first = name.find('/'); first != std::string_view::npos && valid_domain(name.substr(0, first))) {
    out.domain = name.substr(0, first);
    path = name.substr(first + 1);
  }
  size_t start = 0;
  while (true) {
    size_t next = path.find('/', start);
    if (!valid_component(path.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start))) {
      why = name.empty() ? "no repository name" : "invalid repository name";
      return false;
    }
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  out.path = path;
  return true;
}

std::string lowercase(std::string_view s) {
  std::string l(s);
  for (char& c : l)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return l;
}

// Docker's Parse; false with the reason in `why`.
bool parse(std::string_view s, Reference& out, std::string& why) {
  if (s.empty()) {
    why = "repository name must have at least one component";
    return false;
  }
  if (!match(s, out, why)) {
    Reference lower;
    std::string ignored;
    if (match(lowercase(s), lower, ignored)) why = "repository name must be lowercase";
    return false;
  }
  if (out.name().size() > kNameMax) {
    why = "repository name must not be more than 255 characters";
    return false;
  }
  if (!out.digest.empty()) {
    why = digest_problem(out.digest);
    if (!why.empty()) return false;
  }
  return true;
}

Error invalid(std::string_view ref, const std::string& why) {
  return Error("invalid reference format \"" + std::string(ref) + "\": " + why);
}

bool is_image_id(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return digit(c) || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::string Reference::name() const { return domain.empty() ? path : domain + "/" + path; }

std::string Reference::string() const {
  return name() + (tag.empty() ? "" : ":" + tag) + (digest.empty() ? "" : "@" + digest);
}

std::string Reference::familiar_name() const {
  if (domain != kDockerHubDomain) return name();
  if (path.rfind("library/", 0) == 0 && path.find('/', 8) == std::string::npos) return path.substr(8);
  return path;
}

std::string Reference::familiar_string() const {
  return familiar_name() + (tag.empty() ? "" : ":" + tag) + (digest.empty() ? "" : "@" + digest);
}

std::string Reference::manifest_reference() const {
  if (!digest.empty()) return digest;
  return tag.empty() ? "latest" : tag;
}

Reference parse_reference(std::string_view ref) {
  Reference r;
  std::string why;
  if (!parse(ref, r, why)) throw invalid(ref, why);
  return r;
}

Reference parse_normalized_reference(std::string_view ref) {
  if (ref.empty()) throw invalid(ref, "repository name must have at least one component");
  if (is_image_id(ref))
    throw invalid(ref, "cannot specify 64-byte hexadecimal strings as a repository name");
  // Docker's splitDockerDomain.
  std::string domain, remainder;
  size_t slash = ref.find('/');
  std::string_view first = ref.substr(0, slash);
  if (slash == std::string_view::npos) {
    domain = kDockerHubDomain;
    remainder = "library/" + std::string(ref);
  } else if (first == "localhost" || first.find_first_of(".:") != std::string_view::npos ||
             lowercase(first) != first) {
    domain = first == "index.docker.io" ? std::string(kDockerHubDomain) : std::string(first);
    remainder = ref.substr(slash + 1);
  } else {
    domain = kDockerHubDomain;
    remainder = ref;
  }
  if (domain == kDockerHubDomain && remainder.find('/') == std::string::npos) remainder = "library/" + remainder;
  std::string_view remote = std::string_view(remainder).substr(0, remainder.find(':'));
  if (lowercase(remote) != remote) throw invalid(ref, "repository name must be lowercase");
  Reference r;
  std::string why;
  if (!parse(domain + "/" + remainder, r, why)) throw invalid(ref, why);
  return r;
}

Reference with_default_tag(Reference ref) {
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string registry_api_host(std::string_view domain) {
  if (domain == kDockerHubDomain || domain == "index.docker.io") return std::string(kDockerHubApiHost);
  return std::string(domain);
}

std::string normalize_reference(std::string_view ref) {
  return with_default_tag(parse_normalized_reference(ref)).familiar_string();
}

}  // namespace minirun

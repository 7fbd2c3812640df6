// registries_conf.cpp — containers-registries.conf read with toml++, following containers/image's
// sysregistriesv2: the same validation (locations without URI schemes, trailing '/' dropped,
// prefix defaulting to location, an empty location only under a "*.host" prefix, one location
// never both secure and insecure, nor both blocked and not), the same prefix matching
// (refMatchingPrefix: the reference continues with '/', ':' or '@'; a wildcard matches a
// subdomain before the first '/') and the same rewriting (location + what follows the match).
// Unknown keys are ignored, as there: files written for Podman carry settings minirun has no use
// for (credential-helpers, additional-layer-store-auth-helper…).
#include "minirun/registry/registries_conf.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#define TOML_ENABLE_FORMATTERS 0
// toml++'s own assertions are off in every build, as NDEBUG has them in a release: its parser
// asserts that a key starts with a key character before it checks (a non-ASCII character after
// "[" fails it), then rejects the input. toml_guard_check (tests/sanitized) parses as this does.
#define TOML_ASSERT(expr) static_cast<void>(0)

#include <toml++/toml.h>

#include "minirun/registry/toml_guard.h"
#include "minirun/util/error.h"
#include "minirun/util/file_ops.h"
#include "minirun/util/fsutil.h"

namespace minirun::registry {

namespace {

constexpr const char* kSystemConf = "/etc/containers/registries.conf";
constexpr const char* kSystemDropins = "/etc/containers/registries.conf.d";

// Reads typed values from one file's tables; errors say "FILE:LINE: …".
struct Reader {
  const std::string& file;

  std::string where(const toml::node& n) const {
    auto line = n.source().begin.line;
    return line ? file + ":" + std::to_string(line) : file;
  }
  Error error(const toml::node& n, const std::string& msg) const { return Error(where(n) + ": " + msg); }

  std::optional<std::string> str(const toml::table& t, std::string_view key, std::string_view what) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) throw error(*n, std::string(what) + std::string(key) + " must be a string");
    return n->as_string()->get();
  }
  bool boolean(const toml::table& t, std::string_view key, std::string_view what) const {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (!n->is_boolean()) throw error(*n, std::string(what) + std::string(key) + " must be true or false");
    return n->as_boolean()->get();
  }
  std::optional<std::vector<std::string>> strings(const toml::table& t, std::string_view key,
                                                  std::string_view what) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    const toml::array* a = n->as_array();
    if (!a) throw error(*n, std::string(what) + std::string(key) + " must be an array of strings");
    std::vector<std::string> out;
    for (const auto& v : *a) {
      if (!v.is_string()) throw error(v, std::string(what) + std::string(key) + " must be an array of strings");
      out.push_back(v.as_string()->get());
    }
    return out;
  }
};

bool wildcard(std::string_view prefix) { return prefix.rfind("*.", 0) == 0; }

// containers/image's parseLocation: no URI scheme, no trailing '/'. "" stays "".
std::string location_of(std::string s, const Reader& rd, const toml::node& at) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  if (s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0)
    throw rd.error(at, "invalid location \"" + s + "\": URI schemes are not supported");
  return s;
}

// A prefix or location must read as a reference ("host[:port][/path][:tag|@digest]").
void check_name(const std::string& s, std::string_view what, const Reader& rd, const toml::node& at) {
  if (wildcard(s)) {
    std::string_view host = std::string_view(s).substr(2);
    bool ok = !host.empty() && host.find_first_of("/:*@") == std::string_view::npos;
    if (ok) {
      try {
        parse_reference(host);
      } catch (const Error&) {
        ok = false;
      }
    }
    if (!ok) throw rd.error(at, "invalid " + std::string(what) + " \"" + s + "\": a wildcard is written *.example.com");
    return;
  }
  if (s.find('*') != std::string::npos)
    throw rd.error(at, "invalid " + std::string(what) + " \"" + s + "\": a wildcard is written *.example.com");
  try {
    parse_reference(s);
  } catch (const Error& e) {
    throw rd.error(at, "invalid " + std::string(what) + " \"" + s + "\": " + e.what());
  }
}

// The first component holds a registry as containers/image sees one ('.', ':' or localhost).
bool has_registry(const Reference& unnormalised) {
  const std::string& d = unnormalised.domain;
  return !d.empty() && (d == "localhost" || d.find_first_of(".:") != std::string::npos);
}

// The node of `key` in `t` when there is one (errors point at its line), else `t`.
const toml::node& at_key(const toml::table& t, std::string_view key) {
  const toml::node* n = t.get(key);
  return n ? *n : static_cast<const toml::node&>(t);
}

RegistryEntry read_registry(const toml::table& t, const Reader& rd) {
  RegistryEntry e;
  e.origin = rd.where(t);
  const toml::node& loc_at = at_key(t, "location");
  const toml::node& prefix_at = at_key(t, "prefix");
  e.location = location_of(rd.str(t, "location", "registry.").value_or(""), rd, loc_at);
  e.prefix = location_of(rd.str(t, "prefix", "registry.").value_or(""), rd, prefix_at);
  e.insecure = rd.boolean(t, "insecure", "registry.");
  e.blocked = rd.boolean(t, "blocked", "registry.");
  e.mirror_by_digest_only = rd.boolean(t, "mirror-by-digest-only", "registry.");
  if (!e.location.empty()) {
    if (wildcard(e.location)) throw rd.error(loc_at, "invalid location \"" + e.location + "\": a location has no wildcard");
    check_name(e.location, "location", rd, loc_at);
  }
  if (e.prefix.empty()) {
    if (e.location.empty()) throw rd.error(t, "[[registry]] has neither prefix nor location");
    e.prefix = e.location;
  } else {
    if (!wildcard(e.prefix) && e.location.empty())
      throw rd.error(t, "[[registry]] has no location and its prefix \"" + e.prefix + "\" is not a wildcard (*.example.com)");
    check_name(e.prefix, "prefix", rd, prefix_at);
  }
  if (t.contains("pull-from-mirror"))
    throw rd.error(*t.get("pull-from-mirror"), "pull-from-mirror is set on the mirrors, not on a [[registry]]");
  if (const toml::node* m = t.get("mirror")) {
    const toml::array* a = m->as_array();
    if (!a) throw rd.error(*m, "registry.mirror must be an array of tables ([[registry.mirror]])");
    for (const auto& mn : *a) {
      const toml::table* mt = mn.as_table();
      if (!mt) throw rd.error(mn, "registry.mirror must be an array of tables ([[registry.mirror]])");
      Endpoint ep;
      const toml::node& mloc_at = at_key(*mt, "location");
      ep.location = location_of(rd.str(*mt, "location", "registry.mirror.").value_or(""), rd, mloc_at);
      if (ep.location.empty()) throw rd.error(mn, "[[registry.mirror]] has no location");
      if (wildcard(ep.location))
        throw rd.error(mloc_at, "invalid mirror location \"" + ep.location + "\": a location has no wildcard");
      check_name(ep.location, "mirror location", rd, mloc_at);
      ep.insecure = rd.boolean(*mt, "insecure", "registry.mirror.");
      ep.pull_from_mirror = rd.str(*mt, "pull-from-mirror", "registry.mirror.").value_or("");
      const std::string& p = ep.pull_from_mirror;
      if (!p.empty() && p != "all" && p != "digest-only" && p != "tag-only")
        throw rd.error(at_key(*mt, "pull-from-mirror"), "unsupported pull-from-mirror value \"" + p + "\" (all, digest-only or tag-only)");
      if (!p.empty() && e.mirror_by_digest_only)
        throw rd.error(at_key(*mt, "pull-from-mirror"), "mirror-by-digest-only on the registry and pull-from-mirror on a mirror cannot be set together");
      e.mirrors.push_back(ep);
    }
  }
  return e;
}

std::string search_registry(const std::string& s, const Reader& rd, const toml::node& at) {
  std::string r = location_of(s, rd, at);
  bool ok = !r.empty();
  if (ok) {
    try {
      ok = parse_reference(r + "/x").domain == r;
    } catch (const Error&) {
      ok = false;
    }
  }
  if (!ok) throw rd.error(at, "invalid unqualified-search-registries entry \"" + s + "\": not a host[:port]");
  return r;
}

void read_aliases(const toml::table& t, const Reader& rd, RegistriesConf& c) {
  for (const auto& [k, v] : t) {
    std::string name(k.str());
    if (!v.is_string()) throw rd.error(v, "alias \"" + name + "\" must be a string");
    std::string value = v.as_string()->get();
    Reference n;
    try {
      n = parse_reference(name);
    } catch (const Error& e) {
      throw rd.error(v, "invalid short name \"" + name + "\": " + e.what());
    }
    if (!n.tag.empty() || !n.digest.empty()) throw rd.error(v, "short name \"" + name + "\" has a tag or digest");
    if (has_registry(n)) throw rd.error(v, "short name \"" + name + "\" names a registry: an alias is for a short name");
    if (!value.empty()) {
      Reference r;
      try {
        r = parse_reference(value);
        parse_normalized_reference(value);
      } catch (const Error& e) {
        throw rd.error(v, "alias \"" + name + "\": " + e.what());
      }
      if (!r.tag.empty() || !r.digest.empty())
        throw rd.error(v, "alias \"" + name + "\" = \"" + value + "\" has a tag or digest");
      if (!has_registry(r)) throw rd.error(v, "alias \"" + name + "\" = \"" + value + "\" names no registry");
    }
    c.aliases[name] = value;
  }
}

// The v1 format: [registries.search], [registries.insecure], [registries.block] lists.
void read_v1(const toml::table& v1, const Reader& rd, RegistriesConf& c) {
  auto list = [&](std::string_view key) -> std::vector<std::string> {
    const toml::node* n = v1.get(key);
    if (!n) return {};
    const toml::table* t = n->as_table();
    if (!t) throw rd.error(*n, "registries." + std::string(key) + " must be a table");
    auto out = rd.strings(*t, "registries", "registries." + std::string(key) + ".").value_or(std::vector<std::string>{});
    for (auto& s : out) s = location_of(s, rd, *n);
    return out;
  };
  for (const auto& s : list("search")) c.unqualified_search.push_back(s);
  auto entry = [&](const std::string& loc) -> RegistryEntry& {
    for (auto& e : c.registries)
      if (e.location == loc) return e;
    RegistryEntry e;
    e.prefix = e.location = loc;
    e.origin = rd.where(v1);
    c.registries.push_back(e);
    return c.registries.back();
  };
  for (const auto& s : list("block")) entry(s).blocked = true;
  for (const auto& s : list("insecure")) entry(s).insecure = true;
}

// One location is never both insecure and not, nor both blocked and not (containers/image).
void check_conflicts(const RegistriesConf& c) {
  for (size_t i = 0; i < c.registries.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const RegistryEntry& a = c.registries[i];
      const RegistryEntry& b = c.registries[j];
      const std::string& ka = a.location.empty() ? a.prefix : a.location;
      const std::string& kb = b.location.empty() ? b.prefix : b.location;
      if (ka != kb) continue;
      const char* what = a.insecure != b.insecure ? "insecure" : a.blocked != b.blocked ? "blocked" : nullptr;
      if (what)
        throw Error(a.origin + ": registry \"" + ka + "\" is defined again with a conflicting '" + what +
                    "' setting (first at " + b.origin + ")");
    }
}

// Where `prefix` matches `ref`, the length of ref it covers; npos when it does not match.
size_t match_end(std::string_view ref, std::string_view prefix) {
  auto boundary = [&](size_t end) {
    return end == ref.size() || ref[end] == '/' || ref[end] == ':' || ref[end] == '@';
  };
  if (wildcard(prefix)) {
    std::string_view suffix = prefix.substr(1);  // ".example.com"
    size_t domain_end = ref.find('/');
    for (size_t at = ref.find(suffix); at != std::string_view::npos; at = ref.find(suffix, at + 1)) {
      if (domain_end != std::string_view::npos && at > domain_end) break;
      size_t end = at + suffix.size();
      if (at > 0 && boundary(end)) return end;
    }
    return std::string_view::npos;
  }
  if (ref.size() < prefix.size() || ref.compare(0, prefix.size(), prefix) != 0) return std::string_view::npos;
  return boundary(prefix.size()) ? prefix.size() : std::string_view::npos;
}

// The reference `ref` at `location`: the location replaces what the prefix matched.
Reference rewrite(const Reference& ref, const RegistryEntry& e, const std::string& location) {
  if (location.empty()) return ref;
  std::string s = ref.string();
  std::string moved = location + s.substr(match_end(s, e.prefix));
  try {
    return parse_normalized_reference(moved);
  } catch (const Error& err) {
    throw with_context(e.origin + ": " + s + " at \"" + location + "\"", err);
  }
}

}  // namespace

RegistriesConf parse_registries_conf(std::string_view text, const std::string& file) {
  Reader rd{file};
  refuse_toml_unsafe_characters(text, file);  // toml_guard.h
  toml::table doc;
  try {
    doc = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    auto line = e.source().begin.line;
    throw Error(file + (line ? ":" + std::to_string(line) : "") + ": " + std::string(e.description()));
  }
  RegistriesConf c;
  c.files.push_back(file);
  bool v2 = doc.contains("registry") || doc.contains("unqualified-search-registries");
  if (auto search = rd.strings(doc, "unqualified-search-registries", "")) {
    c.unqualified_search_set = true;
    for (const auto& s : *search) c.unqualified_search.push_back(search_registry(s, rd, *doc.get("unqualified-search-registries")));
  }
  c.short_name_mode = rd.str(doc, "short-name-mode", "").value_or("");
  if (!c.short_name_mode.empty() && c.short_name_mode != "enforcing" && c.short_name_mode != "permissive" &&
      c.short_name_mode != "disabled")
    throw rd.error(*doc.get("short-name-mode"), "invalid short-name-mode \"" + c.short_name_mode +
                                                    "\" (enforcing, permissive or disabled)");
  if (const toml::node* n = doc.get("registry")) {
    const toml::array* a = n->as_array();
    if (!a) throw rd.error(*n, "registry must be an array of tables ([[registry]])");
    for (const auto& rn : *a) {
      const toml::table* t = rn.as_table();
      if (!t) throw rd.error(rn, "registry must be an array of tables ([[registry]])");
      c.registries.push_back(read_registry(*t, rd));
    }
  }
  if (const toml::node* n = doc.get("aliases")) {
    const toml::table* t = n->as_table();
    if (!t) throw rd.error(*n, "aliases must be a table ([aliases])");
    read_aliases(*t, rd, c);
  }
  if (const toml::node* n = doc.get("registries")) {
    const toml::table* t = n->as_table();
    if (!t) throw rd.error(*n, "registries must be a table (the v1 format's [registries.search] …)");
    if (v2) throw rd.error(*n, "the v1 [registries.*] tables and v2 settings are mixed in one file");
    read_v1(*t, rd, c);
  }
  check_conflicts(c);
  return c;
}

void merge_registries_conf(RegistriesConf& base, RegistriesConf dropin) {
  if (dropin.unqualified_search_set) {
    base.unqualified_search = std::move(dropin.unqualified_search);
    base.unqualified_search_set = true;
  }
  if (!dropin.short_name_mode.empty()) base.short_name_mode = dropin.short_name_mode;
  for (auto& e : dropin.registries) {
    bool replaced = false;
    for (auto& b : base.registries)
      if (b.prefix == e.prefix) {
        b = e;
        replaced = true;
        break;
      }
    if (!replaced) base.registries.push_back(std::move(e));
  }
  for (auto& [k, v] : dropin.aliases) {
    if (v.empty()) base.aliases.erase(k);
    else base.aliases[k] = v;
  }
  for (auto& f : dropin.files) base.files.push_back(std::move(f));
  check_conflicts(base);
}

RegistriesConf load_registries_conf(const std::string& path, bool must_exist, const std::string& dropin_dir) {
  RegistriesConf c;
  auto text = read_file_if_exists(path, 1u << 20);
  if (text) c = parse_registries_conf(*text, path);
  else if (must_exist) throw Error(path + ": no such file (named by CONTAINERS_REGISTRIES_CONF)");
  if (!dropin_dir.empty())
    for (const auto& name : list_dir_names(dropin_dir)) {
      if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".conf") != 0) continue;
      std::string file = dropin_dir + "/" + name;
      auto t = read_file_if_exists(file, 1u << 20);
      if (t) merge_registries_conf(c, parse_registries_conf(*t, file));
    }
  // An alias set to "" only removes an earlier one: none stays in the result.
  for (auto it = c.aliases.begin(); it != c.aliases.end();) it = it->second.empty() ? c.aliases.erase(it) : std::next(it);
  return c;
}

RegistriesConf load_registries_conf() {
  const char* env = std::getenv("CONTAINERS_REGISTRIES_CONF");
  if (env && *env) return load_registries_conf(env, true, "");
  return load_registries_conf(kSystemConf, false, kSystemDropins);
}

const RegistryEntry* RegistriesConf::find(std::string_view ref) const {
  const RegistryEntry* best = nullptr;
  for (const auto& e : registries)
    if (match_end(ref, e.prefix) != std::string_view::npos && (!best || e.prefix.size() > best->prefix.size())) best = &e;
  return best;
}

std::vector<PullSource> RegistriesConf::pull_sources(const Reference& ref) const {
  const RegistryEntry* e = find(ref.string());
  if (!e) return {PullSource{ref, false, false}};
  if (e->blocked)
    throw Error("registry " + ref.domain + " is blocked: " + ref.string() + " matches the [[registry]] with prefix \"" +
                e->prefix + "\" at " + e->origin);
  std::vector<PullSource> out;
  bool by_digest = !ref.digest.empty();
  for (const auto& m : e->mirrors) {
    bool use = e->mirror_by_digest_only    ? by_digest
               : m.pull_from_mirror == "digest-only" ? by_digest
               : m.pull_from_mirror == "tag-only"    ? !by_digest
                                                     : true;
    if (use) out.push_back(PullSource{rewrite(ref, *e, m.location), m.insecure, true});
  }
  out.push_back(PullSource{rewrite(ref, *e, e->location), e->insecure, false});
  return out;
}

bool RegistriesConf::insecure(std::string_view domain) const {
  const RegistryEntry* e = find(domain);
  return e && e->insecure;
}

std::vector<Reference> RegistriesConf::resolve(std::string_view input) const {
  Reference normalised = parse_normalized_reference(input);  // Docker's errors for bad input
  size_t slash = input.find('/');
  if (slash != std::string_view::npos) {
    std::string_view first = input.substr(0, slash);
    bool lower = std::none_of(first.begin(), first.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (first == "localhost" || first.find_first_of(".:") != std::string_view::npos || !lower) return {normalised};
  }
  Reference typed = parse_reference(input);
  std::string name = typed.name();
  std::string suffix(input.substr(name.size()));  // ":tag", "@digest" or both
  if (auto it = aliases.find(name); it != aliases.end() && !it->second.empty())
    return {parse_normalized_reference(it->second + suffix)};
  if (unqualified_search.empty()) return {normalised};
  std::vector<Reference> out;
  for (const auto& r : unqualified_search) out.push_back(parse_normalized_reference(r + "/" + std::string(input)));
  return out;
}

}  // namespace minirun::registry

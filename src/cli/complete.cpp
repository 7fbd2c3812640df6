// complete.cpp — candidates for the word being completed: global flags and verbs, a verb's flags
// (from its CLI11 options), the values of a few flags with a fixed set, and image or container
// names where the verb's arguments take them (the table below; anything else completes nothing,
// and the shell scripts then fall back to file names).
#include "complete.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "minirun/store/store.h"

namespace minirun::cli {

namespace {

enum Names { none = 0, images = 1, containers = 2, both = 3 };

// What the positional arguments of each verb name: the first, and every later one.
struct ArgKinds {
  Names first, rest;
};

const std::map<std::string, ArgKinds>& arg_kinds() {
  static const std::map<std::string, ArgKinds> m = {
      {"run", {images, none}},          {"inspect", {both, both}},       {"history", {images, none}},
      {"tag", {images, none}},          {"rmi", {images, images}},       {"save", {images, images}},
      {"export", {both, none}},         {"mount", {images, none}},       {"umount", {images, none}},
      {"rm", {containers, containers}}, {"diff", {containers, none}},    {"commit", {containers, none}},
      {"logs", {containers, none}},     {"stats", {containers, containers}},
  };
  return m;
}

// Values of flags whose choices are a fixed set.
const std::map<std::string, std::vector<std::string>>& flag_values() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"--log-level", {"debug", "info", "warn", "error"}},
      {"--type", {"image", "container"}},
      {"--network", {"host", "none"}},
      {"--net", {"host", "none"}},
      {"--security-opt", {"no-new-privileges"}},
      {"--format", {"json", "table"}},
      {"--driver", {"bridge"}},
      {"--pull", {"always", "missing", "never"}},
      {"--compression-format", {"gzip", "zstd"}},
  };
  return m;
}

bool is_visible(const CLI::App* a) { return !a->get_group().empty() && !a->get_name().empty(); }

const CLI::Option* find_flag(const CLI::App& app, const std::string& word) {
  for (const auto* o : app.get_options()) {
    if (o->get_positional()) continue;
    for (const auto& n : o->get_lnames())
      if (word == "--" + n) return o;
    for (const auto& n : o->get_snames())
      if (word == "-" + n) return o;
  }
  return nullptr;
}

std::vector<std::string> flags_of(const CLI::App& app) {
  std::vector<std::string> out;
  for (const auto* o : app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); })) {
    for (const auto& n : o->get_lnames()) out.push_back("--" + n);
    if (o->get_lnames().empty())
      for (const auto& n : o->get_snames()) out.push_back("-" + n);
  }
  return out;
}

std::vector<std::string> with_prefix(std::vector<std::string> v, const std::string& prefix) {
  std::vector<std::string> out;
  for (auto& s : v)
    if (s.compare(0, prefix.size(), prefix) == 0) out.push_back(std::move(s));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::vector<std::string> complete(const CLI::App& app, const std::vector<std::string>& words,
                                  const std::function<CompletionNames(const std::string& root)>& names) {
  if (words.empty()) return {};
  const std::string& cur = words.back();
  std::string root;
  const CLI::App* scope = &app;  // the innermost verb named so far
  std::string verb;
  size_t positionals = 0;
  bool after_dashdash = false;
  for (size_t i = 0; i + 1 < words.size(); i++) {
    const std::string& w = words[i];
    if (!after_dashdash && w == "--") {
      after_dashdash = true;
      continue;
    }
    if (!after_dashdash && w.size() > 1 && w[0] == '-') {
      std::string name = w.substr(0, w.find('='));
      const CLI::Option* o = find_flag(*scope, name);
      if (o && o->get_items_expected_max() > 0 && w.find('=') == std::string::npos) {
        if (i + 2 == words.size()) {  // completing this flag's value
          auto it = flag_values().find(name);
          return it == flag_values().end() ? std::vector<std::string>{} : with_prefix(it->second, cur);
        }
        if (scope == &app && name == "--root") root = words[i + 1];
        i++;
      }
      continue;
    }
    if (positionals == 0) {
      auto subs = scope->get_subcommands([&](const CLI::App* a) { return is_visible(a) && a->get_name() == w; });
      if (!subs.empty()) {
        scope = subs[0];
        verb = verb.empty() ? w : verb;
        continue;
      }
    }
    if (scope == &app) return {};  // not a verb: nothing sensible to offer
    positionals++;
    if (verb == "run") break;  // the image, then the container's own command line
  }
  if (verb == "run" && positionals > 0) return {};
  if (!after_dashdash && !cur.empty() && cur[0] == '-') {
    return with_prefix(flags_of(*scope), cur);
  }
  if (positionals == 0) {
    auto subs = scope->get_subcommands([](const CLI::App* a) { return is_visible(a); });
    if (!subs.empty() || scope == &app) {
      std::vector<std::string> v;
      for (const auto* s : subs) v.push_back(s->get_name());
      return with_prefix(v, cur);
    }
  }
  auto it = arg_kinds().find(verb);
  if (it == arg_kinds().end()) return {};
  Names want = positionals == 0 ? it->second.first : it->second.rest;
  if (want == none) return {};
  CompletionNames n = names(root);
  std::vector<std::string> v;
  if (want & images) v.insert(v.end(), n.images.begin(), n.images.end());
  if (want & containers) v.insert(v.end(), n.containers.begin(), n.containers.end());
  return with_prefix(v, cur);
}

CompletionNames store_names(const std::string& flag_root) {
  CompletionNames out;
  std::string root = Store::default_root(flag_root);
  struct stat st;
  if (::stat((root + "/overlay2").c_str(), &st) != 0) return out;  // no store there: do not make one
  try {
    Store store(root);
    for (const auto& hex : store.image_ids())
      for (auto& t : store.tags_of(hex)) out.images.push_back(std::move(t));
    for (const auto& cid : store.container_ids())
      if (auto rec = store.container(cid); rec && !rec->name.empty()) out.containers.push_back(rec->name);
  } catch (const std::exception&) {
    // unreadable store (not root): complete nothing rather than print an error into the prompt
  }
  return out;
}

}  // namespace minirun::cli

#include "minirun/image/reference.h"

#include "minirun/util/error.h"

namespace minirun {

namespace {

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; };
  if (!word(t[0])) return false;
  for (char c : t)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

// Path components: lowercase alphanumerics separated by '.', '_', '__', '-'; the first component
// may be a registry host (with dots, a port, or "localhost") and may then have uppercase.
bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 255) return false;
  size_t start = 0;
  bool first = true;
  while (start <= n.size()) {
    size_t slash = n.find('/', start);
    std::string_view comp = n.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (comp.empty()) return false;
    bool host = first && slash != std::string_view::npos &&
                (comp.find('.') != std::string_view::npos || comp.find(':') != std::string_view::npos || comp == "localhost");
    for (char c : comp) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
                (host && ((c >= 'A' && c <= 'Z') || c == ':'));
      if (!ok) return false;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
    first = false;
  }
  return true;
}

}  // namespace

std::string normalize_reference(std::string_view ref) {
  std::string r(ref);
  auto bad = [&](const std::string& why) { return Error("invalid reference format \"" + r + "\": " + why); };
  if (r.empty()) throw bad("empty");
  std::string digest;
  if (auto at = r.find('@'); at != std::string::npos) {
    digest = r.substr(at);
    r = r.substr(0, at);
  }
  std::string name = r, tag;
  auto colon = r.rfind(':');
  auto slash = r.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    name = r.substr(0, colon);
    tag = r.substr(colon + 1);
    if (!valid_tag(tag)) throw bad("invalid tag");
  }
  if (name.rfind("docker.io/library/", 0) == 0) name = name.substr(18);
  else if (name.rfind("docker.io/", 0) == 0) name = name.substr(10);
  else if (name.rfind("index.docker.io/", 0) == 0) name = name.substr(16);
  if (!valid_name(name)) throw bad("repository name must be lowercase");
  if (!digest.empty()) {
    if (digest.size() != 72 || digest.compare(0, 8, "@sha256:") != 0) throw bad("invalid digest");
    return name + (tag.empty() ? "" : ":" + tag) + digest;
  }
  return name + ":" + (tag.empty() ? "latest" : tag);
}

}  // namespace minirun

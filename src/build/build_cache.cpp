#include "minirun/build/build_cache.h"

#include <map>

#include "minirun/engine/images.h"
#include "minirun/util/digest.h"

namespace minirun::build {

std::string step_cache_key(const std::string& parent_hex, const nlohmann::ordered_json& step) {
  return digest_hex(sha256_digest("minirun build cache v1\n" + parent_hex + "\n" + step.dump()));
}

std::optional<std::string> cached_step_image(const Store& store, const std::string& key) {
  auto e = store.build_cache_entry(key);
  if (!e || !store.has_image(e->image)) return std::nullopt;
  return e->image;
}

void record_cached_step(Store& store, const std::string& key, const std::string& parent_hex,
                        const std::string& image_hex) {
  auto lock = store.lock();
  store.put_build_cache_entry({key, parent_hex, image_hex});
}

std::set<std::string> intermediate_images(const Store& store) {
  std::set<std::string> tagged;
  for (const auto& [name, id] : store.tags()) tagged.insert(id.substr(7));
  std::set<std::string> out;
  for (const auto& e : store.build_cache_entries())
    if (e.parent != e.image && !tagged.count(e.parent) && store.has_image(e.image)) out.insert(e.parent);
  return out;
}

BuilderPruneResult prune_build_cache(Store& store) {
  auto lock = store.lock();
  BuilderPruneResult res;
  std::set<std::string> keep;
  for (const auto& [name, id] : store.tags()) keep.insert(id.substr(7));
  for (const auto& cid : store.container_ids())
    if (auto rec = store.container(cid)) keep.insert(rec->image_id);
  std::set<std::string> held;
  for (const auto& e : store.build_cache_entries()) {
    store.remove_build_cache_entry(e.key);
    res.entries.push_back(e.key);
    held.insert(e.image);
  }
  for (const auto& hex : held) {
    if (keep.count(hex) || !store.has_image(hex)) continue;
    store.remove_image_record(hex);
    res.deleted.push_back("sha256:" + hex);
  }
  std::map<std::string, uint64_t> sizes;
  for (const auto& id : store.layer_ids())
    if (auto l = store.layer(id)) sizes[id] = l->size;
  for (const auto& l : collect_layers(store)) {
    auto it = sizes.find(l.substr(7));
    if (it != sizes.end()) res.reclaimed += it->second;
  }
  return res;
}

}  // namespace minirun::build

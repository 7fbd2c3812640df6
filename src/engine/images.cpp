// images.cpp — load, import, rmi and layer collection.
//
// A load runs in three phases so that a failure anywhere leaves the store as it was:
//  1. read the archive's manifests and configs (no layer bytes), compute each layer's ChainID
//     and keep only the layers the store lacks (deduplicated across the archive's images);
//  2. extract those layers into staging directories under tmp/, in parallel, hashing while
//     extracting; verify every DiffID and blob digest;
//  3. under the store lock: rename the layers into overlay2/ bottom-up, then write the image
//     configs, then move the tags. A concurrent loader that committed a layer first wins; ours
//     is discarded. A crash leaves only tmp/ leftovers (removed at the next start) or complete
//     layers that no image names yet (reused by the next load, collected by rmi/prune).
#include "minirun/engine/images.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "minirun/image/archive.h"
#include "minirun/image/config_change.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/image/extract.h"
#include "minirun/image/flatten.h"
#include "minirun/util/fsutil.h"
#include "minirun/image/reference.h"
#include <spdlog/spdlog.h>

namespace minirun {

namespace {

struct PendingLayer {
  std::string id;      // ChainID hex
  std::string parent;  // parent ChainID hex or ""
  std::string diff_id;
  LayerSource source;
  std::string staged;  // tmp dir holding diff/
  ExtractResult result;
  std::string error;
  size_t depth = 0;  // index in its image
};

std::string short_digest(const std::string& d) { return d.substr(0, 19) + "…"; }

// Extracts the pending layers with up to nproc workers. A layer that fails while one of its
// lowers was still being extracted is retried once the others are done (a hard link into a
// lower layer needs that lower complete).
void extract_all(Store& store, std::vector<PendingLayer>& todo, const LoadOptions& opts,
                 const std::map<std::string, std::string>& staged_of) {
  LoadProgress prog;
  prog.layers_total = todo.size();
  for (const auto& p : todo) prog.bytes_total += p.source.size;
  std::mutex mu;
  std::atomic<size_t> next{0};
  auto lowers_of = [&](const PendingLayer& p) {
    std::vector<std::string> out;
    for (std::string cur = p.parent; !cur.empty();) {
      auto it = staged_of.find(cur);
      if (it != staged_of.end()) {
        out.push_back(it->second + "/diff");
        // parent of a staged layer
        auto pl = std::find_if(todo.begin(), todo.end(), [&](const PendingLayer& q) { return q.id == cur; });
        cur = pl->parent;
      } else {
        out.push_back(store.diff_dir(cur));
        for (const auto& d : store.lower_diffs(cur)) out.push_back(d);
        break;
      }
    }
    return out;
  };
  auto run_one = [&](PendingLayer& p) {
    ExtractOptions eo;
    eo.lower_diffs = lowers_of(p);
    eo.max_size = opts.max_layer_size;
    eo.tar_split_path = p.staged + "/tar-split";
    std::string diff = p.staged + "/diff";
    try {
      remove_tree(diff);
      if (::mkdir(diff.c_str(), 0755) != 0) throw sys_error(diff + ": mkdir");
      p.result = extract_layer(p.source.file, p.source.offset, p.source.size, diff, eo);
      p.error.clear();
    } catch (const Error& e) {
      p.error = e.what();
    }
    std::lock_guard<std::mutex> g(mu);
    prog.layers_done++;
    prog.bytes_done += p.source.size;
    if (opts.progress) opts.progress(prog);
  };
  // Up to four layers at a time, whatever the number of CPUs: with fewer workers than layers
  // the last layer runs alone while the other CPU idles (3 layers on 2 CPUs); each large layer
  // also hashes on threads of its own (extract.cpp).
  size_t workers = std::min<size_t>(4, todo.size());
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; w++)
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < todo.size();) run_one(todo[i]);
    });
  for (size_t i; (i = next++) < todo.size();) run_one(todo[i]);
  for (auto& t : threads) t.join();
  if (workers > 1)
    for (auto& p : todo)
      if (!p.error.empty()) run_one(p);
}

void verify(const PendingLayer& p) {
  std::string ctx = "layer " + short_digest(p.diff_id);
  if (!p.error.empty()) throw Error(ctx + ": " + p.error);
  if (p.result.diff_id != p.diff_id)
    throw Error(ctx + ": content digest " + p.result.diff_id + " does not match the image config's diff_id");
  if (!p.source.blob_digest.empty() && p.result.blob_digest != p.source.blob_digest)
    throw Error(ctx + ": blob digest " + p.result.blob_digest + " does not match its descriptor " +
                p.source.blob_digest);
}

std::map<std::string, std::string> move_tags(std::map<std::string, std::string> tags,
                                             const std::vector<std::string>& names, const std::string& id) {
  for (const auto& t : names) tags[t] = id;
  return tags;
}

}  // namespace

std::vector<std::string> image_layer_ids(const ImageConfig& cfg) {
  std::vector<std::string> out;
  for (const auto& c : chain_ids(cfg.diff_ids)) out.push_back(digest_hex(c));
  return out;
}

uint64_t image_size(const Store& store, const ImageConfig& cfg) {
  uint64_t total = 0;
  for (const auto& id : image_layer_ids(cfg))
    if (auto l = store.layer(id)) total += l->size;
  return total;
}

std::vector<LoadedImage> load_archive(Store& store, const std::string& path, const LoadOptions& opts) {
  RemoveOnExit spool(store.new_temp_dir());
  auto archive = ImageArchive::open(path, spool.path());
  const auto& images = archive->images();
  if (images.empty()) throw Error("archive " + path + ": no image found");

  // Phase 1: what is missing?
  std::vector<PendingLayer> todo;
  std::map<std::string, std::string> staged_of;  // ChainID hex -> staging dir
  for (const auto& img : images) {
    auto chains = chain_ids(img.diff_ids);
    for (size_t i = 0; i < chains.size(); i++) {
      std::string id = digest_hex(chains[i]);
      if (staged_of.count(id) || store.has_layer(id)) continue;
      PendingLayer p;
      p.id = id;
      p.parent = i ? digest_hex(chains[i - 1]) : "";
      p.diff_id = img.diff_ids[i];
      p.source = img.layers[i];
      p.staged = store.new_temp_dir();
      p.depth = i;
      staged_of[id] = p.staged;
      todo.push_back(std::move(p));
    }
  }
  struct StagedCleanup {
    std::vector<PendingLayer>& t;
    ~StagedCleanup() {
      for (auto& p : t) try {
          remove_tree(p.staged);
        } catch (...) {
        }
    }
  } staged_cleanup{todo};

  // Phase 2: extract and verify.
  extract_all(store, todo, opts, staged_of);
  for (const auto& p : todo) verify(p);
  if (!todo.empty()) {
    // One sync of the store's file system (no per-file fsync), before anything becomes visible.
    int fd = ::open(store.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::syncfs(fd);
      ::close(fd);
    }
  }

  // Phase 3: commit.
  std::vector<LoadedImage> out;
  std::vector<std::vector<std::string>> layer_ids_of;
  {
    auto lock = store.lock();
    std::sort(todo.begin(), todo.end(), [](const auto& a, const auto& b) { return a.depth < b.depth; });
    for (auto& p : todo) {
      LayerRecord rec{p.id, p.diff_id, p.parent, p.result.content_size};
      store.commit_layer(p.staged, rec);
    }
    auto tags = store.tags();
    for (const auto& img : images) {
      layer_ids_of.push_back(image_layer_ids(parse_image_config(img.config)));
      for (const auto& id : layer_ids_of.back())
        if (!store.has_layer(id)) throw Error("image " + img.id + ": layer " + id + " vanished during the load");
      std::string hex = digest_hex(img.id);
      if (!store.has_image(hex)) store.put_image(hex, img.config);
      tags = move_tags(std::move(tags), img.repo_tags, img.id);
      out.push_back({img.id, img.repo_tags});
    }
    store.set_tags(tags);
  }
  // The images are stored; deep ones also get their flat layer (outside the lock: it is a copy).
  for (const auto& ids : layer_ids_of) flatten_image(store, ids);
  return out;
}

void flatten_image(Store& store, const std::vector<std::string>& ids) {
  if (ids.size() < kFlattenFrom || store.has_flat(ids.back())) return;
  try {
    RemoveOnExit staged(store.new_temp_dir());
    std::string diff = staged.path() + "/diff";
    if (::mkdir(diff.c_str(), 0755) != 0) throw sys_error(diff + ": mkdir");
    std::vector<std::string> diffs;
    for (const auto& id : ids) diffs.push_back(store.diff_dir(id));
    flatten_layers(diffs, diff);
    // As for layers: one sync of the file system before the flat layer becomes visible.
    int fd = ::open(store.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::syncfs(fd);
      ::close(fd);
    }
    auto lock = store.lock();
    store.commit_flat(staged.path(), ids.back());
  } catch (const Error& e) {
    spdlog::warn("image with top layer {}: not flattened, it runs on its {} layers: {}", ids.back().substr(0, 12),
                 ids.size(), e.what());
  }
}

std::string put_image_locked(Store& store, const std::string& config, const std::vector<std::string>& names) {
  auto cfg = parse_image_config(config);
  for (const auto& id : image_layer_ids(cfg))
    if (!store.has_layer(id)) throw Error("layer " + id + " is not in the store");
  std::string id = sha256_digest(config);
  std::string hex = digest_hex(id);
  if (!store.has_image(hex)) store.put_image(hex, config);
  store.set_tags(move_tags(store.tags(), names, id));
  return hex;
}

std::string import_rootfs(Store& store, const std::string& path, const std::string& ref,
                          const std::vector<std::string>& changes, const std::string& message) {
  std::string tag = ref.empty() ? "" : normalize_reference(ref);
  RemoveOnExit cleanup(store.new_temp_dir());
  const std::string& staged = cleanup.path();
  std::string file = path;
  if (path == "-") {
    // Spool standard input so the extractor can pread it.
    file = staged + "/input";
    std::string data;
    char buf[1 << 16];
    ssize_t n;
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw sys_error(file);
    while ((n = ::read(0, buf, sizeof buf)) > 0)
      write_all(fd, buf, static_cast<size_t>(n), file);
    ::close(fd);
  }
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) throw sys_error(path);
  std::string diff = staged + "/layer/diff";
  ::mkdir((staged + "/layer").c_str(), 0700);
  if (::mkdir(diff.c_str(), 0755) != 0) throw sys_error(diff);
  ExtractOptions eo;
  eo.tar_split_path = staged + "/layer/tar-split";
  ExtractResult r = extract_layer(file, 0, static_cast<uint64_t>(st.st_size), diff, eo);
  std::string created = now_rfc3339();
  nlohmann::ordered_json cfg = {
      {"architecture", "amd64"},
      {"config", nlohmann::json::object()},
      {"created", created},
      {"history", {{{"created", created}, {"created_by", "minirun import " + path}, {"comment", message.empty() ? "Imported from " + path : message}}}},
      {"os", "linux"},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {r.diff_id}}}}};
#if defined(__aarch64__)
  cfg["architecture"] = "arm64";
#endif
  for (const auto& c : changes) apply_config_change(cfg, c);
  std::string config = cfg.dump();
  auto lock = store.lock();
  std::string id = r.diff_id.substr(7);  // ChainID of a base layer = its DiffID
  store.commit_layer(staged + "/layer", {id, r.diff_id, "", r.content_size});
  return "sha256:" + put_image_locked(store, config, tag.empty() ? std::vector<std::string>{} : std::vector{tag});
}

std::vector<std::string> collect_layers(Store& store) {
  std::set<std::string> used, tops;
  for (const auto& hex : store.image_ids()) {
    try {
      auto ids = image_layer_ids(parse_image_config(store.image_config(hex)));
      used.insert(ids.begin(), ids.end());
      if (!ids.empty()) tops.insert(ids.back());
    } catch (const Error&) {
      // A corrupt image record keeps nothing alive.
    }
  }
  // A flat layer serves the images its layer tops; one that tops none any more (its image was
  // removed, a longer image on the same layers stays) goes now. A container's image is an image
  // record still, so the flat layer it runs on stays.
  for (const auto& top : store.flat_tops())
    if (!tops.count(top)) store.remove_flat(top);
  for (const auto& cid : store.container_ids()) {
    // A container holds its image's layers through its lower chain.
    used.insert(cid);  // never its own layer (layer_ids() lists image layers only, but be sure)
    auto rec = store.container(cid);
    if (!rec || !store.has_image(rec->image_id)) continue;
    for (const auto& id : image_layer_ids(parse_image_config(store.image_config(rec->image_id)))) used.insert(id);
  }
  std::vector<std::string> removed;
  for (const auto& id : store.layer_ids()) {
    if (used.count(id)) continue;
    store.remove_layer(id);
    removed.push_back("sha256:" + id);
  }
  store.repair_links();
  return removed;
}

namespace {
std::vector<std::string> containers_using(const Store& store, const std::string& hex) {
  std::vector<std::string> out;
  for (const auto& cid : store.container_ids()) {
    auto rec = store.container(cid);
    if (rec && rec->image_id == hex) out.push_back(cid);
  }
  return out;
}
}  // namespace

RemoveResult remove_image(Store& store, const std::string& ref, bool force) {
  auto lock = store.lock();
  std::string hex = store.resolve_image(ref);
  RemoveResult res;
  auto tags = store.tags();
  auto own = store.tags_of(hex);
  std::string name;
  try {
    name = normalize_reference(ref);
  } catch (const Error&) {
  }
  bool by_tag = !name.empty() && tags.count(name) && tags[name] == "sha256:" + hex;
  if (by_tag && own.size() > 1) {
    tags.erase(name);
    store.set_tags(tags);
    res.untagged.push_back(name);
    return res;
  }
  if (!by_tag && own.size() > 1 && !force)
    throw Error("conflict: unable to delete " + hex.substr(0, 12) +
                " (must be forced) - image is referenced in multiple repositories", 1);
  auto users = containers_using(store, hex);
  if (!users.empty() && !force)
    throw Error("conflict: unable to remove repository reference \"" + ref + "\" (must force) - container " +
                users[0].substr(0, 12) + " is using its referenced image " + hex.substr(0, 12), 1);
  for (const auto& t : own) {
    tags.erase(t);
    res.untagged.push_back(t);
  }
  store.set_tags(tags);
  if (users.empty()) {
    store.remove_image_record(hex);
    res.deleted.push_back("sha256:" + hex);
    for (auto& l : collect_layers(store)) res.deleted.push_back(l);
  }
  return res;
}

RemoveResult prune_images(Store& store) {
  auto lock = store.lock();
  RemoveResult res;
  std::set<std::string> tagged;
  for (const auto& [k, v] : store.tags()) tagged.insert(v.substr(7));
  for (const auto& hex : store.image_ids()) {
    if (tagged.count(hex) || !containers_using(store, hex).empty()) continue;
    store.remove_image_record(hex);
    res.deleted.push_back("sha256:" + hex);
  }
  // The build cache entries of the images removed would only be misses now.
  for (const auto& e : store.build_cache_entries())
    if (!store.has_image(e.image)) store.remove_build_cache_entry(e.key);
  for (auto& l : collect_layers(store)) res.deleted.push_back(l);
  return res;
}

}  // namespace minirun

// push.cpp — a push: layers (blob, then HEAD / mount / upload), config, manifest.
//
// Design:
// - A layer's blob is the one the store keeps for it (Store::layer_blobs: what a pull fetched
//   or an earlier push made) of the asked compression; without one, it is made now from the
//   layer's tar stream (image/layer_blob.h: DiffID checked) into the store's tmp/ and recorded
//   under the lock, so that it is compressed once and every later push has the same digest.
// - Workers (max_concurrent) take the layers bottom first: blob, then HEAD (skip), then a mount
//   from a repository of the same registry the store knows holds it, then an upload.
// - The first failure stops the workers before their next step; the manifest is PUT only when
//   every layer and the config are at the registry. Then, under the lock, each blob records the
//   repository (the next push to another repository mounts from it) and the image its RepoDigest.
// - The manifest is the one a pull kept for the image when it names the same config and blobs
//   (the registry's bytes: the digest the image was pulled by), else one written here.
#include "minirun/engine/push.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "minirun/engine/images.h"
#include "minirun/image/image_config.h"
#include "minirun/image/layer_blob.h"
#include "minirun/image/reference.h"
#include "minirun/registry/manifest.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

namespace {

// "HOST[:PORT]" of "HOST[:PORT]/PATH".
std::string domain_of(const std::string& where) { return where.substr(0, where.find('/')); }
std::string path_of(const std::string& where) {
  size_t slash = where.find('/');
  return slash == std::string::npos ? "" : where.substr(slash + 1);
}

struct Layer {
  size_t index = 0;
  std::string id, diff_id;
  LayerBlob blob;
  std::optional<Error> error;
};

class Pusher {
 public:
  // oci: a kept zstd blob may be used when no compression is asked for (a Docker manifest
  // cannot name one).
  Pusher(Store& store, registry::Destination& dest, const PushOptions& opts, bool oci)
      : store_(store), dest_(dest), opts_(opts), oci_(oci) {}

  void run(std::vector<Layer>& layers) {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; !stop_ && (i = next++) < layers.size();) {
        try {
          push_layer(layers[i]);
        } catch (const Error& e) {
          layers[i].error = with_context("layer " + layers[i].diff_id.substr(7, 12), e);
          stop_ = true;
        } catch (const std::exception& e) {
          layers[i].error = Error("layer " + layers[i].diff_id.substr(7, 12) + ": " + e.what());
          stop_ = true;
        }
      }
    };
    size_t workers = std::min(std::max<size_t>(1, opts_.max_concurrent), layers.size());
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; w++) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    for (const auto& l : layers)
      if (l.error) throw *l.error;
  }

 private:
  void report(const Layer& l, PushState s, const std::string& from = "") {
    if (!opts_.progress) return;
    std::lock_guard lock(progress_mu_);
    opts_.progress({l.index, l.diff_id.substr(7, 12), s, from});
  }

  // The kept blob of the asked compression, else one made now (and kept).
  LayerBlob blob_for(const Layer& l) {
    for (const auto& b : store_.layer_blobs(l.id))
      if (opts_.compression.empty() ? (b.compression == "gzip" || (oci_ && b.compression == "zstd"))
                                    : b.compression == opts_.compression)
        return b;
    const std::string comp = opts_.compression.empty() ? "gzip" : opts_.compression;
    TempTree tmp(store_.new_temp_dir());
    const std::string file = tmp.path() + "/blob";
    CompressedBlob c = compress_layer(store_.tar_split_path(l.id), store_.diff_dir(l.id), l.diff_id, comp, file);
    LayerBlob b{c.digest, c.size, comp, {}};
    auto lock = store_.lock();
    if (!store_.has_layer(l.id)) throw Error("the layer was removed from the store meanwhile");
    store_.add_layer_blob(l.id, b, file);
    return b;
  }

  void push_layer(Layer& l) {
    report(l, PushState::kPreparing);
    l.blob = blob_for(l);
    if (stop_) return;
    if (dest_.has_blob(l.blob.digest)) {
      report(l, PushState::kExists);
      return;
    }
    const std::string here = dest_.where();
    for (const auto& r : l.blob.repos) {
      if (r == here || domain_of(r) != domain_of(here) || path_of(r).empty()) continue;
      if (dest_.mount_blob(l.blob.digest, path_of(r))) {
        report(l, PushState::kMounted, path_of(r));
        return;
      }
    }
    if (stop_) return;
    report(l, PushState::kPushing);
    dest_.upload_blob(l.blob.digest, {store_.blob_path(l.blob.digest), "", l.blob.size});
    report(l, PushState::kPushed);
  }

  // A temporary directory of the store's tmp/, removed with this.
  struct TempTree {
    explicit TempTree(std::string p) : p_(std::move(p)) {}
    ~TempTree() {
      try {
        remove_tree(p_);
      } catch (...) {
      }
    }
    const std::string& path() const { return p_; }
    std::string p_;
  };

  Store& store_;
  registry::Destination& dest_;
  const PushOptions& opts_;
  const bool oci_;
  std::mutex progress_mu_;
  std::atomic<bool> stop_{false};
};

// The manifest a pull kept for the image, when it names exactly the config and blobs of `m`
// (same type): its bytes, the registry's own layout, keep the digest it was pulled by.
std::optional<std::string> kept_if_same(const Store& store, const std::string& hex, const registry::Manifest& m) {
  auto kept = store.kept_manifest(hex, m.media_type);
  if (!kept) return std::nullopt;
  try {
    registry::Document d = registry::parse_document(*kept, m.media_type);
    if (d.is_index || d.manifest.config.digest != m.config.digest || d.manifest.config.size != m.config.size ||
        d.manifest.layers.size() != m.layers.size())
      return std::nullopt;
    for (size_t i = 0; i < m.layers.size(); i++)
      if (d.manifest.layers[i].digest != m.layers[i].digest || d.manifest.layers[i].size != m.layers[i].size ||
          d.manifest.layers[i].media_type != m.layers[i].media_type)
        return std::nullopt;
    return kept;
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

PushResult push_image(Store& store, registry::Destination& dest, const std::string& hex, const PushOptions& opts) {
  if (opts.format != "docker" && opts.format != "oci")
    throw Error("unknown manifest format \"" + opts.format + "\" (docker or oci)", kExitFailed);
  if (!opts.compression.empty() && opts.compression != "gzip" && opts.compression != "zstd")
    throw Error("unknown compression format \"" + opts.compression + "\" (gzip or zstd)", kExitFailed);
  const bool oci = opts.format == "oci";
  const std::string mtype(oci ? registry::kOciManifest : registry::kDockerManifest);
  if (!oci && opts.compression == "zstd") registry::layer_media_type(mtype, "zstd");  // throws: Docker's has none
  const std::string config = store.image_config(hex);
  ImageConfig cfg = parse_image_config(config);
  std::vector<std::string> ids = image_layer_ids(cfg);
  std::vector<Layer> layers(ids.size());
  for (size_t i = 0; i < ids.size(); i++) {
    layers[i].index = i;
    layers[i].id = ids[i];
    layers[i].diff_id = cfg.diff_ids[i];
    if (!store.has_layer(ids[i])) throw Error("image " + hex.substr(0, 12) + ": layer " + ids[i] + " is not in the store");
  }
  Pusher p(store, dest, opts, oci);
  p.run(layers);

  registry::Manifest m;
  m.media_type = mtype;
  m.config = {std::string(oci ? registry::kOciConfig : registry::kDockerConfig), "sha256:" + hex, config.size()};
  for (const auto& l : layers)
    m.layers.push_back({registry::layer_media_type(mtype, l.blob.compression), l.blob.digest, l.blob.size});
  if (!dest.has_blob(m.config.digest)) dest.upload_blob(m.config.digest, {"", config, config.size()});
  PushResult res;
  res.manifest = kept_if_same(store, hex, m).value_or(registry::serialize_manifest(m));
  res.size = res.manifest.size();
  res.digest = dest.put_manifest(opts.tag, mtype, res.manifest);
  {
    auto lock = store.lock();
    const std::string here = dest.where();
    for (const auto& l : layers)
      if (store.has_layer(l.id)) store.add_layer_blob(l.id, {l.blob.digest, l.blob.size, l.blob.compression, {here}}, "");
    if (store.has_image(hex) && !opts.repo_name.empty()) store.add_repo_digest(hex, opts.repo_name + "@" + res.digest);
  }
  return res;
}

}  // namespace minirun

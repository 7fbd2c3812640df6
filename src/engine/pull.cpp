// pull.cpp — a pull: manifest → (index → this platform's manifest) → config → layers.
//
// Design:
// - Every document is checked against the digest that named it (the pinned reference, the
//   index entry, the manifest's config descriptor), recomputed here whatever the Source says;
//   the config's digest is the image ID. The config's diff_ids give each layer's ChainID, and a
//   layer the store has is never fetched.
// - The missing layers go to up to max_concurrent workers, bottom first. Each streams its blob
//   through a LayerStream into its own staging directory under the store's tmp/ (removed at the
//   next start if this process dies), the Source's bytes counted against the descriptor's size.
//   A blob cut after some bytes is asked again from where it stopped (the hash continues).
// - A layer commits into overlay2/ as soon as it is verified (blob digest and size, DiffID) and
//   the layers under it are in the store: an interrupted pull keeps its complete layers, and the
//   next one fetches only the others. The image config, its tag and RepoDigest are written only
//   once every layer is in.
// - Each blob's compressed bytes are kept too (Store::add_layer_blob, with the repository they
//   came from), and the image's manifest, so that a push of the image sends the same blobs and
//   the same manifest: the same digests.
// - The first failure stops the other downloads. A layer whose extraction failed while a layer
//   under it was still being extracted (a hard link into it) is fetched again once the others
//   are in, as load does.
#include "minirun/engine/pull.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "minirun/engine/images.h"
#include "minirun/image/image_config.h"
#include "minirun/image/layer_stream.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/fd.h"
#include "minirun/util/fsutil.h"

namespace minirun {

namespace {

using registry::Descriptor;

constexpr uint64_t kMaxConfig = 16u << 20;
constexpr int kResumes = 3;                   // a cut blob is asked again from where it stopped
constexpr uint64_t kProgressStep = 512u << 10;  // bytes between two progress reports of a layer

std::string short_digest(const std::string& d) { return d.substr(0, 19) + "…"; }

registry::FetchedManifest fetch_manifest(registry::Source& source, const std::string& ref, const std::string& expected,
                                         uint64_t expected_size) {
  registry::FetchedManifest m = source.manifest(ref);
  std::string actual = sha256_digest(m.bytes);
  if (!expected.empty() && actual != expected)
    throw Error("manifest " + ref + ": digest mismatch: expected " + expected + ", got " + actual);
  if (!m.digest.empty() && m.digest != actual)
    throw Error("manifest " + ref + ": digest mismatch: the registry says " + m.digest + ", the content is " + actual);
  if (expected_size && m.bytes.size() != expected_size)
    throw Error("manifest " + ref + ": " + std::to_string(m.bytes.size()) + " bytes, its descriptor says " +
                std::to_string(expected_size));
  m.digest = actual;
  return m;
}

std::string fetch_config(registry::Source& source, const Descriptor& d) {
  if (d.size > kMaxConfig) throw Error("image config " + d.digest + ": too large (" + std::to_string(d.size) + " bytes)");
  std::string bytes;
  source.blob(d.digest, 0, d.size, [&](const char* p, size_t n) {
    if (bytes.size() + n > d.size) throw Error("image config " + d.digest + ": more bytes than its descriptor's size");
    bytes.append(p, n);
  });
  if (bytes.size() != d.size)
    throw Error("image config " + d.digest + ": " + std::to_string(bytes.size()) + " of " + std::to_string(d.size) + " bytes");
  std::string actual = sha256_digest(bytes);
  if (actual != d.digest) throw Error("image config: digest mismatch: expected " + d.digest + ", got " + actual);
  return bytes;
}

struct Job {
  size_t index = 0;
  Descriptor desc;
  std::string diff_id, id, parent;  // ChainID hex of the layer and of its parent ("" for a base)
  std::string staged;               // tmp dir holding diff/ and tar-split, "" once committed
  std::string blob_tmp;             // tmp dir holding the compressed blob as fetched
  bool verified = false, committed = false;
  bool had_staged_lower = false;    // a lower was still being extracted when this one started
  bool extract_failed = false;
  bool stopped = false;             // given up because another layer failed
  std::optional<Error> error;
  uint64_t content_size = 0;
};

class Puller {
 public:
  Puller(Store& store, registry::Source& source, const PullOptions& opts) : store_(store), source_(source), opts_(opts) {}
  ~Puller() {
    for (auto& j : jobs_)
      for (const auto* d : {&j.staged, &j.blob_tmp})
        if (!d->empty()) try {
            remove_tree(*d);
          } catch (...) {
          }
  }

  void add(Job j) { jobs_.push_back(std::move(j)); }
  std::vector<Job>& jobs() { return jobs_; }

  void run() {
    run_all(std::max<size_t>(1, opts_.max_concurrent));
    // Layers that may have failed for their lower's sake (a hard link into a layer still being
    // extracted): again, one at a time, now that the others are in the store.
    auto retryable = [](const Job& j) { return j.extract_failed && j.had_staged_lower; };
    bool hard = std::any_of(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.error && !retryable(j); });
    bool soft = std::any_of(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.error && retryable(j); });
    if (soft && !hard) {
      for (auto& j : jobs_) j.error.reset(), j.extract_failed = false;
      stop_ = false;
      run_all(1);
    }
    for (const auto& j : jobs_)
      if (j.error) throw *j.error;
    for (const auto& j : jobs_)
      if (!j.committed) throw Error("layer " + short_digest(j.desc.digest) + ": not stored");
  }

 private:
  void run_all(size_t workers) {
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; !stop_ && (i = next++) < jobs_.size();)
        if (!jobs_[i].committed) run_one(jobs_[i]);
    };
    workers = std::min(workers, jobs_.size());
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; w++) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
  }

  void report(const Job& j, LayerState s, uint64_t done) {
    if (!opts_.progress) return;
    std::lock_guard<std::mutex> l(progress_mu_);
    opts_.progress({j.index, j.desc.digest.substr(7, 12), s, done, j.desc.size});
  }

  // The diff dirs under a job's layer, nearest first: staged ones of jobs not yet committed,
  // then the store's.
  std::vector<std::string> lowers_of(Job& job) {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> out;
    for (std::string cur = job.parent; !cur.empty();) {
      auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& q) { return q.id == cur; });
      if (it != jobs_.end() && !it->committed) {
        out.push_back(it->staged + "/diff");
        job.had_staged_lower = true;
        cur = it->parent;
        continue;
      }
      out.push_back(store_.diff_dir(cur));
      for (const auto& d : store_.lower_diffs(cur)) out.push_back(d);
      break;
    }
    return out;
  }

  void run_one(Job& job) {
    try {
      fetch(job);
      std::lock_guard<std::mutex> l(mu_);
      job.verified = true;
      commit_ready();
      report(job, LayerState::kComplete, job.desc.size);
    } catch (const std::exception& e) {
      const auto* err = dynamic_cast<const Error*>(&e);
      std::lock_guard<std::mutex> l(mu_);
      if (job.stopped) return;  // not this layer's failure: another's is reported
      job.error = with_context("layer " + short_digest(job.desc.digest), err ? *err : Error(e.what()));
      if (!(job.extract_failed && job.had_staged_lower)) stop_ = true;
    }
  }

  void fetch(Job& job) {
    if (!job.staged.empty()) remove_tree(job.staged);
    if (!job.blob_tmp.empty()) remove_tree(job.blob_tmp);
    job.staged = store_.new_temp_dir();
    job.blob_tmp = store_.new_temp_dir();
    const std::string blob_file = job.blob_tmp + "/blob";
    Fd blob_fd(::open(blob_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (blob_fd.get() < 0) throw sys_error(blob_file + ": create");
    std::string diff = job.staged + "/diff";
    if (::mkdir(diff.c_str(), 0755) != 0) throw sys_error(diff + ": mkdir");
    ExtractOptions eo;
    job.had_staged_lower = job.stopped = false;
    eo.lower_diffs = lowers_of(job);
    eo.tar_split_path = job.staged + "/tar-split";
    LayerStream stream(diff, eo);
    const uint64_t size = job.desc.size;
    uint64_t delivered = 0, reported = 0;
    bool sink_failed = false;
    report(job, LayerState::kDownloading, 0);
    for (int attempt = 0;; attempt++) {
      uint64_t from = delivered;
      try {
        source_.blob(job.desc.digest, delivered, size, [&](const char* p, size_t n) {
          if (stop_) {
            sink_failed = job.stopped = true;
            throw Error("stopped: another layer failed");
          }
          if (n > size - delivered) {
            sink_failed = true;
            throw Error("the registry sent more than the descriptor's " + std::to_string(size) + " bytes");
          }
          stream.write(p, n);
          write_all(blob_fd.get(), p, n, blob_file);
          delivered += n;
          if (delivered - reported >= kProgressStep || delivered == size) {
            reported = delivered;
            report(job, LayerState::kDownloading, delivered);
          }
        });
        break;
      } catch (const Error&) {
        if (sink_failed || delivered == from || attempt + 1 >= kResumes) throw;
      }
    }
    if (delivered != size)
      throw Error("blob ended after " + std::to_string(delivered) + " of its " + std::to_string(size) + " bytes");
    report(job, LayerState::kExtracting, delivered);
    ExtractResult r;
    try {
      r = stream.finish();
    } catch (const Error&) {
      // A damaged blob is named as such, whatever its extraction tripped on.
      if (stream.blob_digest() != job.desc.digest)
        throw Error("digest mismatch: expected " + job.desc.digest + ", got " + stream.blob_digest());
      job.extract_failed = true;
      throw;
    }
    if (r.blob_digest != job.desc.digest)
      throw Error("digest mismatch: expected " + job.desc.digest + ", got " + r.blob_digest);
    if (r.diff_id != job.diff_id)
      throw Error("content digest " + r.diff_id + " does not match the image config's diff_id " + job.diff_id);
    job.content_size = r.content_size;
  }

  static std::string compression_of(const std::string& media_type) {
    if (media_type.find("gzip") != std::string::npos) return "gzip";
    if (media_type.find("zstd") != std::string::npos) return "zstd";
    return "none";
  }

  // Commits, bottom first, the verified layers whose lowers are all in the store (mu_ held).
  void commit_ready() {
    std::vector<Job*> ready;
    for (auto& j : jobs_) {
      if (j.committed) continue;
      if (!j.verified) break;
      ready.push_back(&j);
    }
    if (ready.empty()) return;
    // One sync of the store's file system (no per-file fsync) before the layers become visible.
    int fd = ::open(store_.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::syncfs(fd);
      ::close(fd);
    }
    auto lock = store_.lock();
    for (Job* j : ready) {
      store_.commit_layer(j->staged, {j->id, j->diff_id, j->parent, j->content_size});
      j->staged.clear();
      if (!j->blob_tmp.empty()) {
        store_.add_layer_blob(j->id, {j->desc.digest, j->desc.size, compression_of(j->desc.media_type), {source_.where()}},
                              j->blob_tmp + "/blob");
        remove_tree(j->blob_tmp);
        j->blob_tmp.clear();
      }
      j->committed = true;
    }
  }

  Store& store_;
  registry::Source& source_;
  const PullOptions& opts_;
  std::vector<Job> jobs_;
  std::mutex mu_, progress_mu_;
  std::atomic<bool> stop_{false};
};

}  // namespace

PullResult pull_image(Store& store, registry::Source& source, const PullOptions& opts) {
  std::string pinned = opts.reference.rfind("sha256:", 0) == 0 ? opts.reference : "";
  if (!pinned.empty() && !is_valid_digest(pinned)) throw Error("invalid digest \"" + pinned + "\"");
  registry::FetchedManifest top = fetch_manifest(source, opts.reference, pinned, 0);
  PullResult res;
  res.digest = top.digest;
  registry::Document doc = registry::parse_document(top.bytes, top.media_type);
  std::string manifest_bytes = top.bytes;  // the image's manifest, as the registry has it
  if (doc.is_index) {
    const registry::IndexEntry& e = registry::select_platform(doc.index, opts.platform);
    const std::string& mt = e.desc.media_type;
    if (mt == registry::kOciIndex || mt == registry::kDockerList)
      throw Error("index " + short_digest(top.digest) + ": the entry for " + opts.platform.str() + " is an index itself");
    registry::FetchedManifest m = fetch_manifest(source, e.desc.digest, e.desc.digest, e.desc.size);
    doc = registry::parse_document(m.bytes, m.media_type.empty() ? mt : m.media_type);
    manifest_bytes = m.bytes;
    if (doc.is_index) throw Error("manifest " + short_digest(m.digest) + ": an index where a manifest was listed");
  }
  const registry::Manifest& man = doc.manifest;
  std::string config = fetch_config(source, man.config);
  ImageConfig cfg = parse_image_config(config);
  if (cfg.diff_ids.size() != man.layers.size())
    throw Error("manifest: " + std::to_string(man.layers.size()) + " layers but the image config lists " +
                std::to_string(cfg.diff_ids.size()) + " diff_ids");
  res.image_id = man.config.digest;
  const std::string hex = digest_hex(res.image_id);
  const bool had_image = store.has_image(hex);
  auto chains = chain_ids(cfg.diff_ids);

  Puller puller(store, source, opts);
  std::vector<LayerProgress> initial;
  for (size_t i = 0; i < chains.size(); i++) {
    std::string id = digest_hex(chains[i]);
    bool have = store.has_layer(id);
    initial.push_back({i, man.layers[i].digest.substr(7, 12), have ? LayerState::kExists : LayerState::kWaiting, 0,
                       man.layers[i].size});
    if (have) continue;
    Job j;
    j.index = i;
    j.desc = man.layers[i];
    j.diff_id = cfg.diff_ids[i];
    j.id = id;
    j.parent = i ? digest_hex(chains[i - 1]) : "";
    puller.add(std::move(j));
  }
  if (opts.layers) opts.layers(initial);
  puller.run();

  std::vector<std::string> ids = image_layer_ids(cfg);
  bool moved;
  {
    auto lock = store.lock();
    std::string old = opts.tag.empty() ? "" : [&] {
      auto t = store.tags();
      auto it = t.find(opts.tag);
      return it == t.end() ? std::string() : it->second;
    }();
    moved = !opts.tag.empty() && old != res.image_id;
    put_image_locked(store, config, opts.tag.empty() ? std::vector<std::string>{} : std::vector<std::string>{opts.tag});
    if (!opts.repo_name.empty()) store.add_repo_digest(hex, opts.repo_name + "@" + res.digest);
    store.keep_manifest(hex, man.media_type, manifest_bytes);
    // Layers the store had: a kept blob the manifest names is known in this repository too.
    for (size_t i = 0; i < chains.size(); i++) {
      std::string id = digest_hex(chains[i]);
      for (const auto& b : store.layer_blobs(id))
        if (b.digest == man.layers[i].digest) store.add_layer_blob(id, {b.digest, b.size, b.compression, {source.where()}}, "");
    }
  }
  res.downloaded = !had_image || !puller.jobs().empty() || moved;
  flatten_image(store, ids);
  return res;
}

}  // namespace minirun

// store.h — the minirun store: the ONE place that knows every path under the store root.
//
// Layout (see docs/store.md):
//   <root>/lock                         flock taken by every change of records
//   <root>/overlay2/<id>/diff|link|lower|layer.json|tar-split   image layers, <id> = ChainID hex
//   <root>/overlay2/<id>/blobs.json     the layer's compressed blobs (LayerBlob), as pulled or pushed
//   <root>/blobs/sha256/<hex>           a compressed layer blob, byte for byte as a registry has it;
//                                       removed with the last layer that lists it (docs/push.md)
//   <root>/overlay2/<cid>/diff|work|merged|link|lower  a container's read-write layer
//   <root>/overlay2/<id>-flat/diff      a deep image's layers up to <id> merged (flatten.h)
//   <root>/overlay2/<cid>-init/diff|link|lower         what minirun adds to a container
//   <root>/overlay2/l/<short> -> ../<id>/diff          26-character short links
//   <root>/images/<hex>.json            image config bytes, exactly; <hex> = image ID
//   <root>/images/<hex>.digests         its RepoDigests, ["name@sha256:<manifest hex>", …] (pull)
//   <root>/images/<hex>.manifests       the manifests a pull fetched for it, {"<media type>": "<bytes>"}
//   <root>/repositories.json            {"name:tag": "sha256:<hex>"}
//   <root>/build-cache/<key>.json       a build step's cache entry: {"parent": hex, "image": hex},
//                                       <key> = the step's cache key (build/build_cache.h)
//   <root>/containers/<cid>/            state.json, health.json, hostname, hosts, resolv.conf,
//                                       <cid>-json.log[.N] (the log), ctl (the monitor's fifo),
//                                       seccomp.json (the profile file it was created with)
//   <root>/containers/names/<name> -> <cid>   name reservations (symlink: atomic, unique)
//   <root>/mounts/<hex>/                `minirun mount` of an image (read-only merged view)
//   <root>/networks/<name>.json         a bridge network (network.h): subnet, gateway, bridge
//   <root>/networks/<name>/leases/<ip> -> <cid>.<pid>.<boot>   an address lease (symlink: atomic,
//                                       exclusive; the claiming process is part of the target)
//   <root>/networks/<name>/endpoints/<cid>.json   a container's attachment (veth, mac, ports)
//   <root>/tmp/<pid>-<boot>-<rand>/     work in progress; removed at start once <pid> is dead
//                                       or <boot> is not this boot
//   <root>/tmp/<pid>-<boot>-<rand>/exit-<cid>   a `wait` for an --rm container: its exit code,
//                                       written there before the container is removed
// Every change is write-temp → fsync → rename (directories are staged in tmp/ and renamed into
// overlay2/), under the lock, so neither a crash nor a concurrent process sees half a record.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "minirun/store/container_config.h"
#include "minirun/util/file_lock.h"

namespace minirun {

struct LayerRecord {
  std::string id;       // ChainID hex (also the directory name)
  std::string diff_id;  // "sha256:…"
  std::string parent;   // parent ChainID hex, "" for a base layer
  uint64_t size = 0;    // bytes of regular file content
};

// A compressed form of a layer a registry has or had: the blob a pull fetched, or the one a push
// made (compressed once, then reused: the same digest on every push).
struct LayerBlob {
  std::string digest;       // "sha256:…" of the compressed bytes (the file blob_path(digest))
  uint64_t size = 0;
  std::string compression;  // "gzip", "zstd", or "none" (an uncompressed tar)
  std::vector<std::string> repos;  // "HOST/PATH" of repositories known to hold it (mounts come from these)
};

// A container's state, Docker's State.Status; status_name() gives Docker's word for it.
enum class ContainerStatus { created, running, paused, restarting, exited };
std::string_view status_name(ContainerStatus s);
// Docker's word to the state; nullopt for any other word (ps -f status=… checks with it).
std::optional<ContainerStatus> parse_status(std::string_view name);

struct ContainerRecord {
  std::string id, name;
  std::string image_id;   // hex
  std::string image_ref;  // as the user named it
  std::vector<std::string> command;
  std::string created, started, finished;  // RFC 3339
  ContainerStatus status = ContainerStatus::created;
  int exit_code = 0;
  pid_t pid = 0;                          // minirun's own process while running
  pid_t container_pid = 0;                // the container's pid 1 as seen from the host
  bool auto_remove = false;
  bool oom_killed = false;                // the kernel's OOM killer killed a process of its cgroup
  int restart_count = 0;                  // restarts by the monitor's policy (inspect's RestartCount)
  bool manually_stopped = false;          // `stop` since the last start: no restart by the policy
  std::string error;                      // why it ended other than by its own exit ("" if it did)
  ContainerConfig config;                 // what it was created with (container_config.h)
};

class Store {
 public:
  // Opens (creating if needed) the store at root, and removes leftovers of dead processes in tmp/.
  explicit Store(std::string root);
  // --root, else $MINIRUN_ROOT, else /var/lib/minirun.
  static std::string default_root(const std::string& flag);

  const std::string& root() const { return root_; }

  // ---- paths ----
  std::string overlay_root() const { return root_ + "/overlay2"; }
  std::string layer_dir(std::string_view id) const;
  std::string diff_dir(std::string_view id) const { return layer_dir(id) + "/diff"; }
  // The same relative to overlay_root(), "<id>/diff": what overlay mounts name as a lower.
  std::string diff_name(std::string_view id) const { return std::string(id) + "/diff"; }
  // The layer's tar split (extract.h): how to rebuild its original tar for `save`.
  std::string tar_split_path(std::string_view id) const { return layer_dir(id) + "/tar-split"; }
  // "l/<short>" of a layer (read from its link file).
  std::string link_name(std::string_view id) const;
  // The layer's lower chain as "l/<short>" names, nearest first (empty for a base layer).
  std::vector<std::string> lower_links(std::string_view id) const;
  // Absolute diff dirs of a layer's lowers, nearest first (following the l/ links).
  std::vector<std::string> lower_diffs(std::string_view id) const;
  std::string image_config_path(std::string_view hex) const;
  std::string container_dir(std::string_view cid) const;
  // The container's json-file log, Docker's name; rotated files beside it end in .1, .2, …
  std::string container_log_path(std::string_view cid) const;
  // The control fifo of the container's monitor (monitor.h): there while a monitor runs.
  std::string container_ctl_path(std::string_view cid) const;
  // The text of the seccomp profile file the container was created with (--security-opt
  // seccomp=FILE), as it was read then: start, restart and exec apply it again. Absent for
  // Docker's default profile and for unconfined containers.
  std::string container_seccomp_path(std::string_view cid) const { return container_dir(cid) + "/seccomp.json"; }
  // Where `minirun mount` shows an image's read-only merged view.
  std::string mount_dir(std::string_view hex) const { return root_ + "/mounts/" + std::string(hex); }
  // Networks (network.h): the record, its leases and its endpoints.
  std::string networks_dir() const { return root_ + "/networks"; }
  std::string network_record_path(std::string_view name) const;
  std::string network_leases_dir(std::string_view name) const;
  std::string network_endpoints_dir(std::string_view name) const;
  // "<pid>.<boot>" of this process: the owner part of a lease or name reservation target.
  static std::string owner_tag();
  // Whether the owner named by "<pid>.<boot>" (as owner_tag() wrote it) is still running.
  static bool owner_alive(std::string_view tag);
  // A fresh directory tmp/<pid>-<boot>-<rand>, for staging.
  std::string new_temp_dir() const;

  // ---- lock ----
  // The store's lock: <root>/lock, held by every change to the records.
  using Lock = FileLock;
  Lock lock() const;

  // ---- layers ----
  bool has_layer(std::string_view id) const;
  std::optional<LayerRecord> layer(std::string_view id) const;
  std::vector<std::string> layer_ids() const;  // image layers only (not containers)
  // Moves staged_dir (which holds diff/) into overlay2/<rec.id> with link, lower and layer.json,
  // and creates its short link. Returns false (and removes staged_dir) when the layer already
  // exists. Caller holds the lock; the parent layer must exist.
  bool commit_layer(const std::string& staged_dir, const LayerRecord& rec);
  // Removes an image layer, and the flat layer it tops if there is one (caller holds the lock and
  // knows nothing uses it), and the blobs it lists that no other layer lists.
  void remove_layer(std::string_view id);

  // ---- compressed layer blobs ----
  std::string blob_path(std::string_view digest) const;  // validates the digest
  // The layer's blobs whose files are there (none for a layer never pulled nor pushed).
  std::vector<LayerBlob> layer_blobs(std::string_view id) const;
  // Records blob `b` for layer `id` (its repos joined to those known). `staged_file` ("" when the
  // blob is in the store already) is moved to blob_path(b.digest), fsynced, unless it is there
  // (then it is removed). Caller holds the lock, the layer exists, the caller verified the bytes.
  void add_layer_blob(std::string_view id, const LayerBlob& b, const std::string& staged_file);

  // ---- flat layers (flatten.h): the merged view of the layers up to `top`, one directory ----
  std::string flat_dir(std::string_view top) const { return layer_dir(std::string(top) + "-flat"); }
  // "<top>-flat/diff", relative to overlay_root(), as overlay mounts name a lower.
  std::string flat_diff_name(std::string_view top) const { return std::string(top) + "-flat/diff"; }
  bool has_flat(std::string_view top) const;
  // Moves staged_dir (which holds diff/) to flat_dir(top). Returns false (and removes staged_dir)
  // when the layer `top` is gone or its flat layer exists already. Caller holds the lock.
  bool commit_flat(const std::string& staged_dir, std::string_view top);
  // The layers that top a flat layer.
  std::vector<std::string> flat_tops() const;
  // Removes a flat layer (caller holds the lock and knows no image is topped by its layer).
  void remove_flat(std::string_view top);

  // ---- images ----
  std::vector<std::string> image_ids() const;  // hex, sorted
  bool has_image(std::string_view hex) const;
  std::string image_config(std::string_view hex) const;
  void put_image(const std::string& hex, const std::string& config_bytes);  // caller holds lock
  void remove_image_record(std::string_view hex);                           // caller holds lock
  // When the image record was written (RFC 3339), for `images`.
  std::string image_loaded_time(std::string_view hex) const;
  // The image's RepoDigests ("busybox@sha256:<hex>", as Docker shows them), sorted; a pull
  // records the digest of the manifest (or index) its reference named.
  std::vector<std::string> repo_digests(std::string_view hex) const;
  // Adds one (caller holds the lock; the image exists). remove_image_record removes them all.
  void add_repo_digest(const std::string& hex, const std::string& repo_digest);
  // The manifest of `media_type` a pull fetched for the image, exactly the registry's bytes (a
  // push of the image in that format PUTs them again: the same digest). nullopt when none.
  std::optional<std::string> kept_manifest(std::string_view hex, std::string_view media_type) const;
  // Keeps it (caller holds the lock; the image exists); one per media type, the last kept.
  // remove_image_record removes them.
  void keep_manifest(const std::string& hex, const std::string& media_type, const std::string& bytes);

  // ---- build cache (build/build_cache.h): a step's key → the image it made from its parent ----
  struct BuildCacheEntry {
    std::string key;     // 64 hex
    std::string parent;  // image ID hex the step ran on
    std::string image;   // image ID hex it made
  };
  std::optional<BuildCacheEntry> build_cache_entry(std::string_view key) const;
  std::vector<BuildCacheEntry> build_cache_entries() const;
  void put_build_cache_entry(const BuildCacheEntry& e);    // caller holds lock
  void remove_build_cache_entry(std::string_view key);     // caller holds lock

  // ---- tags ----
  std::map<std::string, std::string> tags() const;  // "name:tag" -> "sha256:<hex>"
  void set_tags(const std::map<std::string, std::string>& tags);  // caller holds lock
  std::vector<std::string> tags_of(std::string_view hex) const;

  // Resolves an image reference: NAME[:TAG], NAME@sha256:<hex> (a RepoDigest), "sha256:<hex>",
  // full hex, or a unique ID prefix of at least 4 characters. Throws Error("No such image: REF", 1).
  std::string resolve_image(std::string_view ref) const;

  // ---- containers ----
  std::vector<std::string> container_ids() const;
  std::optional<ContainerRecord> container(std::string_view cid) const;
  void put_container(const ContainerRecord& rec) const;
  // Reserves a name atomically; false if taken.
  bool reserve_name(const std::string& name, const std::string& cid) const;
  void release_name(const std::string& name) const;
  // Name, full id or unique id prefix. Throws Error("No such container: REF", 1).
  std::string resolve_container(std::string_view ref) const;
  // The same, without throwing when there is no such container.
  std::optional<std::string> find_container(std::string_view ref) const;
  // Creates overlay2/<cid>-init (holding init_diff_filler's content) and overlay2/<cid> with
  // diff, work, merged, link and lower, stacked on the image's top layer.
  void create_container_layers(const std::string& cid, const std::string& top_layer_id) const;
  void remove_container(const std::string& cid) const;
  // An --rm container's exit code outlives it for those waiting on it (`wait`): a waiter
  // registers under the lock while the record exists and gets a file, tmp/<pid>-<boot>-<rand>/
  // exit-<cid> (its directory is the caller's to remove; a dead waiter's goes as any temp dir);
  // whoever removes the container after its exit writes the code into every waiter's file first,
  // under the same lock (note_container_exit).
  std::string add_exit_waiter(const std::string& cid) const;
  void note_container_exit(const std::string& cid, int exit_code) const;
  std::string init_layer_id(std::string_view cid) const { return std::string(cid) + "-init"; }

  // Removes dangling short links and re-creates missing ones (cheap; used by load, rmi, prune).
  void repair_links() const;

 private:
  void clean_temp() const;
  // A name whose container does not exist and whose reserving process is gone; removes it
  // when `remove` (caller holds the lock).
  bool stale_name(const std::string& name, bool remove) const;
  std::string make_short_link(const std::string& id) const;
  std::string image_digests_path(std::string_view hex) const;
  std::string build_cache_path(std::string_view key) const;

  std::string root_;
};

}  // namespace minirun

#include "minirun/store/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <cctype>
#include <nlohmann/json.hpp>

#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/file_ops.h"
#include "minirun/util/fsutil.h"
#include "minirun/image/reference.h"
#include <spdlog/spdlog.h>

namespace minirun {

std::string_view status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::created: return "created";
    case ContainerStatus::running: return "running";
    case ContainerStatus::paused: return "paused";
    case ContainerStatus::restarting: return "restarting";
    case ContainerStatus::exited: return "exited";
  }
  return "created";
}

std::optional<ContainerStatus> parse_status(std::string_view name) {
  for (auto s : {ContainerStatus::created, ContainerStatus::running, ContainerStatus::paused, ContainerStatus::restarting,
                 ContainerStatus::exited})
    if (status_name(s) == name) return s;
  return std::nullopt;
}

using nlohmann::json;

namespace {

void make_dir(const std::string& p, mode_t mode = 0700) {
  if (::mkdir(p.c_str(), mode) != 0 && errno != EEXIST) throw sys_error(p + ": mkdir");
}

bool exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Ids used as directory names are checked before use (they may come from the command line).
void check_id(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 80 && id.find('/') == std::string_view::npos && id != "." &&
            id != ".." && id != "l";
  if (!ok) throw Error("invalid id \"" + std::string(id) + "\"");
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string rfc3339(time_t t) {
  char buf[64];
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

namespace {

// images/<hex>.manifests: the manifests a pull kept for the image, by media type.
std::string image_manifests_path(const Store& store, std::string_view hex) {
  std::string p = store.image_config_path(hex);  // validates hex
  return p.substr(0, p.size() - 5) + ".manifests";
}

}  // namespace

Store::Store(std::string root) : root_(std::move(root)) {
  if (root_.empty()) throw Error("store root is empty");
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  make_dir(root_, 0711);
  make_dir(overlay_root(), 0710);
  make_dir(overlay_root() + "/l", 0700);
  make_dir(root_ + "/images");
  make_dir(root_ + "/containers", 0710);
  make_dir(root_ + "/containers/names");
  make_dir(root_ + "/tmp");
  clean_temp();
}

std::string Store::default_root(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("MINIRUN_ROOT");
  if (env && *env) return env;
  return "/var/lib/minirun";
}

Store::Lock Store::lock() const { return FileLock(root_ + "/lock"); }

// This boot's id (8 hex characters): after a crash and reboot, a temp dir's pid may be reused.
static const std::string& boot_tag() {
  static const std::string tag = [] {
    auto id = read_file_if_exists("/proc/sys/kernel/random/boot_id", 256);
    std::string t;
    for (char c : id ? *id : std::string())
      if (std::isxdigit(static_cast<unsigned char>(c)) && t.size() < 8) t += c;
    return t.empty() ? std::string("00000000") : t;
  }();
  return tag;
}

std::string Store::owner_tag() { return std::to_string(::getpid()) + "." + boot_tag(); }

bool Store::owner_alive(std::string_view tag) {
  auto dot = tag.find('.');
  if (dot == std::string_view::npos) return false;
  pid_t pid = static_cast<pid_t>(std::atoi(std::string(tag.substr(0, dot)).c_str()));
  return pid > 0 && tag.substr(dot + 1) == boot_tag() && pid_alive(pid);
}

// Network names are checked like ids: they name files.
std::string Store::network_record_path(std::string_view name) const {
  check_id(name);
  return root_ + "/networks/" + std::string(name) + ".json";
}
std::string Store::network_leases_dir(std::string_view name) const {
  check_id(name);
  return root_ + "/networks/" + std::string(name) + "/leases";
}
std::string Store::network_endpoints_dir(std::string_view name) const {
  check_id(name);
  return root_ + "/networks/" + std::string(name) + "/endpoints";
}

// A temp dir is named <pid>-<boot>-<rand>; it is stale once that process is gone, or when it
// was made before the last reboot.
// An interrupted command always leaves its temp dir behind (staged layers, the trash of rmi and
// rm), so finding one is the signal to repair what it may have left half done: short links
// made for a layer that never arrived or left by one that went, and container names whose
// container does not exist.
void Store::clean_temp() const {
  bool interrupted = false;
  for (const auto& n : list_dir_names(root_ + "/tmp")) {
    pid_t pid = static_cast<pid_t>(std::atoi(n.c_str()));
    auto dash = n.find('-');
    bool this_boot = dash != std::string::npos && n.compare(dash + 1, 8, boot_tag()) == 0;
    if (this_boot && pid_alive(pid)) continue;
    spdlog::info("removing leftover {} of an interrupted command", root_ + "/tmp/" + n);
    remove_tree(root_ + "/tmp/" + n);
    interrupted = true;
  }
  if (!interrupted) return;
  auto l = lock();
  repair_links();
  for (const auto& n : list_dir_names(root_ + "/containers/names")) stale_name(n, true);
}

// "<cid>.<pid>.<boot>" -> cid; older stores wrote the bare cid.
static std::string name_target_cid(const std::string& target) { return target.substr(0, target.find('.')); }

bool Store::stale_name(const std::string& name, bool remove) const {
  std::string p = root_ + "/containers/names/" + name;
  char buf[256];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return false;
  std::string target(buf, static_cast<size_t>(n));
  std::string cid = name_target_cid(target);
  if (cid.size() == 64 && is_hex(cid) && exists(container_dir(cid) + "/state.json")) return false;
  // No container: stale unless the process that reserved it is still creating it.
  auto dot = target.find('.');
  if (dot != std::string::npos) {
    pid_t pid = static_cast<pid_t>(std::atoi(target.c_str() + dot + 1));
    auto dot2 = target.find('.', dot + 1);
    bool this_boot = dot2 != std::string::npos && target.compare(dot2 + 1, std::string::npos, boot_tag()) == 0;
    if (this_boot && pid_alive(pid)) return false;
  }
  if (remove) {
    spdlog::info("releasing the name {} of a container that was never created or half removed", name);
    ::unlink(p.c_str());
  }
  return true;
}

std::string Store::layer_dir(std::string_view id) const {
  check_id(id);
  return overlay_root() + "/" + std::string(id);
}

std::string Store::link_name(std::string_view id) const {
  return "l/" + trim(read_whole_file(layer_dir(id) + "/link", 4096));
}

std::vector<std::string> Store::lower_links(std::string_view id) const {
  std::vector<std::string> out;
  auto data = read_file_if_exists(layer_dir(id) + "/lower", 1 << 20);
  if (!data) return out;
  std::string s = trim(*data);
  size_t start = 0;
  while (start < s.size()) {
    size_t colon = s.find(':', start);
    if (colon == std::string::npos) colon = s.size();
    out.push_back(s.substr(start, colon - start));
    start = colon + 1;
  }
  return out;
}

std::vector<std::string> Store::lower_diffs(std::string_view id) const {
  std::vector<std::string> out;
  for (const auto& l : lower_links(id)) {
    char buf[4096];
    std::string p = overlay_root() + "/" + l;
    ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
    if (n < 0) throw sys_error("layer " + std::string(id) + ": short link " + l);
    buf[n] = 0;
    out.push_back(overlay_root() + "/l/" + buf);  // "../<id>/diff" relative to l/
  }
  return out;
}

std::string Store::image_config_path(std::string_view hex) const {
  if (hex.size() != 64 || !is_hex(hex)) throw Error("invalid image id \"" + std::string(hex) + "\"");
  return root_ + "/images/" + std::string(hex) + ".json";
}

std::string Store::container_dir(std::string_view cid) const {
  check_id(cid);
  return root_ + "/containers/" + std::string(cid);
}

std::string Store::container_log_path(std::string_view cid) const {
  return container_dir(cid) + "/" + std::string(cid) + "-json.log";
}

std::string Store::container_ctl_path(std::string_view cid) const { return container_dir(cid) + "/ctl"; }

std::string Store::new_temp_dir() const {
  std::string p = root_ + "/tmp/" + std::to_string(getpid()) + "-" + boot_tag() + "-" + random_hex(12);
  make_dir(p, 0700);
  return p;
}

// ---- layers ----

bool Store::has_layer(std::string_view id) const { return exists(layer_dir(id) + "/layer.json"); }

std::optional<LayerRecord> Store::layer(std::string_view id) const {
  auto data = read_file_if_exists(layer_dir(id) + "/layer.json", 1 << 20);
  if (!data) return std::nullopt;
  try {
    json j = json::parse(*data);
    LayerRecord r;
    r.id = std::string(id);
    r.diff_id = j.at("diff_id").get<std::string>();
    r.parent = j.value("parent", "");
    r.size = j.value("size", uint64_t{0});
    return r;
  } catch (const json::exception& e) {
    throw Error("layer " + std::string(id) + ": corrupt layer.json: " + e.what());
  }
}

std::vector<std::string> Store::layer_ids() const {
  std::vector<std::string> out;
  // Image layers only: a container's layer is 64 hex characters too, but has no layer.json.
  for (const auto& n : list_dir_names(overlay_root()))
    if (n.size() == 64 && is_hex(n) && exists(overlay_root() + "/" + n + "/layer.json")) out.push_back(n);
  return out;
}

std::string Store::make_short_link(const std::string& id) const {
  for (int attempt = 0; attempt < 8; attempt++) {
    std::string s = random_short_id();
    std::string p = overlay_root() + "/l/" + s;
    if (::symlink(("../" + id + "/diff").c_str(), p.c_str()) == 0) return s;
    if (errno != EEXIST) throw sys_error(p + ": symlink");
  }
  throw Error("cannot allocate a short link for " + id);
}

bool Store::commit_layer(const std::string& staged, const LayerRecord& rec) {
  std::string dst = layer_dir(rec.id);
  if (exists(dst)) {
    remove_tree(staged);
    return false;
  }
  std::string lower;
  if (!rec.parent.empty()) {
    lower = link_name(rec.parent);
    for (const auto& l : lower_links(rec.parent)) lower += ":" + l;
  }
  // The short link points at the final place; it dangles until the rename (repair_links removes
  // it should we crash in between).
  std::string shortid = make_short_link(rec.id);
  write_file_atomic(staged + "/link", shortid);
  if (!lower.empty()) write_file_atomic(staged + "/lower", lower);
  json j = {{"id", rec.id}, {"diff_id", rec.diff_id}, {"parent", rec.parent}, {"size", rec.size}};
  write_file_atomic(staged + "/layer.json", j.dump());
  fsync_path(staged);
  if (::rename(staged.c_str(), dst.c_str()) != 0) {
    int e = errno;
    ::unlink((overlay_root() + "/l/" + shortid).c_str());
    throw sys_error("layer " + rec.id + ": rename into the store", e);
  }
  fsync_path(overlay_root());
  return true;
}

std::string Store::blob_path(std::string_view digest) const {
  if (!is_valid_digest(std::string(digest))) throw Error("invalid blob digest \"" + std::string(digest) + "\"");
  return root_ + "/blobs/sha256/" + std::string(digest.substr(7));
}

namespace {
std::vector<LayerBlob> read_layer_blobs(const std::string& file) {
  std::vector<LayerBlob> out;
  auto data = read_file_if_exists(file, 1 << 20);
  if (!data) return out;
  try {
    for (const auto& b : json::parse(*data)) {
      LayerBlob lb;
      lb.digest = b.at("digest").get<std::string>();
      lb.size = b.at("size").get<uint64_t>();
      lb.compression = b.value("compression", "gzip");
      lb.repos = b.value("repos", std::vector<std::string>{});
      if (is_valid_digest(lb.digest)) out.push_back(std::move(lb));
    }
  } catch (const json::exception& e) {
    throw Error(file + ": corrupt: " + e.what());
  }
  return out;
}
}  // namespace

std::vector<LayerBlob> Store::layer_blobs(std::string_view id) const {
  std::vector<LayerBlob> out;
  for (auto& b : read_layer_blobs(layer_dir(id) + "/blobs.json"))
    if (exists(blob_path(b.digest))) out.push_back(std::move(b));
  return out;
}

void Store::add_layer_blob(std::string_view id, const LayerBlob& b, const std::string& staged_file) {
  std::string dst = blob_path(b.digest);
  if (!staged_file.empty()) {
    if (exists(dst)) {
      ::unlink(staged_file.c_str());
    } else {
      make_dir(root_ + "/blobs", 0700);
      make_dir(root_ + "/blobs/sha256", 0700);
      fsync_path(staged_file);
      if (::rename(staged_file.c_str(), dst.c_str()) != 0) throw sys_error("blob " + b.digest + ": rename into the store");
      fsync_path(root_ + "/blobs/sha256");
    }
  }
  if (!exists(dst)) throw Error("blob " + b.digest + ": not in the store");
  std::string file = layer_dir(id) + "/blobs.json";
  auto all = read_layer_blobs(file);
  auto it = std::find_if(all.begin(), all.end(), [&](const LayerBlob& x) { return x.digest == b.digest; });
  if (it == all.end()) {
    all.push_back(b);
    it = all.end() - 1;
    it->repos.clear();
  }
  for (const auto& r : b.repos)
    if (std::find(it->repos.begin(), it->repos.end(), r) == it->repos.end()) it->repos.push_back(r);
  json j = json::array();
  for (const auto& x : all)
    j.push_back({{"digest", x.digest}, {"size", x.size}, {"compression", x.compression}, {"repos", x.repos}});
  write_file_atomic(file, j.dump() + "\n");
}

void Store::remove_layer(std::string_view id) {
  std::string dir = layer_dir(id);
  const auto blobs = read_layer_blobs(dir + "/blobs.json");
  std::string trash = new_temp_dir();
  // The flat layer first: a crash in between leaves a layer without one (it runs on its layers),
  // never a flat layer without its top layer.
  if (::rename(flat_dir(id).c_str(), (trash + "/flat").c_str()) != 0 && errno != ENOENT)
    throw sys_error("layer " + std::string(id) + ": remove its flat layer");
  auto link = read_file_if_exists(dir + "/link", 4096);
  // Rename out of overlay2/ first: the layer disappears atomically, then is deleted at leisure.
  if (::rename(dir.c_str(), (trash + "/layer").c_str()) != 0) {
    int e = errno;
    remove_tree(trash);
    if (e == ENOENT) return;
    throw sys_error("layer " + std::string(id) + ": remove", e);
  }
  if (link) ::unlink((overlay_root() + "/l/" + trim(*link)).c_str());
  remove_tree(trash);
  // Its blobs, unless another layer lists them (the same content on another parent).
  if (blobs.empty()) return;
  std::vector<std::string> kept;
  for (const auto& other : layer_ids())
    for (const auto& b : read_layer_blobs(layer_dir(other) + "/blobs.json")) kept.push_back(b.digest);
  for (const auto& b : blobs)
    if (std::find(kept.begin(), kept.end(), b.digest) == kept.end()) ::unlink(blob_path(b.digest).c_str());
}

bool Store::has_flat(std::string_view top) const { return exists(flat_dir(top)); }

bool Store::commit_flat(const std::string& staged, std::string_view top) {
  if (!has_layer(top) || has_flat(top)) {
    remove_tree(staged);
    return false;
  }
  fsync_path(staged);
  if (::rename(staged.c_str(), flat_dir(top).c_str()) != 0)
    throw sys_error("layer " + std::string(top) + ": rename its flat layer into the store");
  fsync_path(overlay_root());
  return true;
}

std::vector<std::string> Store::flat_tops() const {
  std::vector<std::string> out;
  for (const auto& n : list_dir_names(overlay_root()))
    if (n.size() == 69 && n.compare(64, 5, "-flat") == 0 && is_hex(n.substr(0, 64))) out.push_back(n.substr(0, 64));
  return out;
}

void Store::remove_flat(std::string_view top) {
  std::string trash = new_temp_dir();
  if (::rename(flat_dir(top).c_str(), (trash + "/flat").c_str()) != 0 && errno != ENOENT) {
    int e = errno;
    remove_tree(trash);
    throw sys_error("layer " + std::string(top) + ": remove its flat layer", e);
  }
  remove_tree(trash);
}

void Store::repair_links() const {
  for (const auto& n : list_dir_names(overlay_root() + "/l")) {
    std::string p = overlay_root() + "/l/" + n;
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) {
      spdlog::info("removing the dangling short link {}", p);
      ::unlink(p.c_str());
    }
  }
  for (const auto& id : list_dir_names(overlay_root())) {
    if (id == "l") continue;
    auto link = read_file_if_exists(overlay_root() + "/" + id + "/link", 4096);
    if (!link) continue;
    std::string p = overlay_root() + "/l/" + trim(*link);
    if (!exists(p)) {
      spdlog::info("re-creating the short link {}", p);
      ::symlink(("../" + id + "/diff").c_str(), p.c_str());
    }
  }
}

// ---- images ----

std::vector<std::string> Store::image_ids() const {
  std::vector<std::string> out;
  for (const auto& n : list_dir_names(root_ + "/images")) {
    if (n.size() == 69 && n.compare(64, 5, ".json") == 0 && is_hex(n.substr(0, 64))) out.push_back(n.substr(0, 64));
  }
  return out;
}

bool Store::has_image(std::string_view hex) const { return exists(image_config_path(hex)); }

std::string Store::image_config(std::string_view hex) const {
  auto data = read_file_if_exists(image_config_path(hex));
  if (!data) throw Error("No such image: sha256:" + std::string(hex), 1);
  return *data;
}

void Store::put_image(const std::string& hex, const std::string& config) {
  write_file_atomic(image_config_path(hex), config);
}

void Store::remove_image_record(std::string_view hex) {
  if (::unlink(image_config_path(hex).c_str()) != 0 && errno != ENOENT)
    throw sys_error("image " + std::string(hex) + ": remove");
  if (::unlink(image_digests_path(hex).c_str()) != 0 && errno != ENOENT)
    throw sys_error("image " + std::string(hex) + ": remove its digests");
  if (::unlink(image_manifests_path(*this, hex).c_str()) != 0 && errno != ENOENT)
    throw sys_error("image " + std::string(hex) + ": remove its manifests");
}

std::string Store::image_digests_path(std::string_view hex) const {
  std::string p = image_config_path(hex);  // validates hex
  return p.substr(0, p.size() - 5) + ".digests";
}


std::vector<std::string> Store::repo_digests(std::string_view hex) const {
  std::vector<std::string> out;
  auto data = read_file_if_exists(image_digests_path(hex));
  if (!data) return out;
  try {
    json j = json::parse(*data);
    for (const auto& d : j) out.push_back(d.get<std::string>());
  } catch (const json::exception& e) {
    throw Error(image_digests_path(hex) + ": corrupt: " + e.what());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Store::add_repo_digest(const std::string& hex, const std::string& repo_digest) {
  auto all = repo_digests(hex);
  if (std::find(all.begin(), all.end(), repo_digest) != all.end()) return;
  all.push_back(repo_digest);
  std::sort(all.begin(), all.end());
  write_file_atomic(image_digests_path(hex), json(all).dump() + "\n");
}

namespace {
json read_manifests(const std::string& file) {
  auto data = read_file_if_exists(file, 16u << 20);
  if (!data) return json::object();
  try {
    json j = json::parse(*data);
    if (j.is_object()) return j;
  } catch (const json::exception&) {
  }
  spdlog::warn("{}: corrupt; its manifests are not used", file);
  return json::object();
}
}  // namespace

std::optional<std::string> Store::kept_manifest(std::string_view hex, std::string_view media_type) const {
  json j = read_manifests(image_manifests_path(*this, hex));
  auto it = j.find(std::string(media_type));
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

void Store::keep_manifest(const std::string& hex, const std::string& media_type, const std::string& bytes) {
  const std::string p = image_manifests_path(*this, hex);
  json j = read_manifests(p);
  j[media_type] = bytes;
  write_file_atomic(p, j.dump() + "\n");
}

std::string Store::image_loaded_time(std::string_view hex) const {
  struct stat st;
  if (::stat(image_config_path(hex).c_str(), &st) != 0) return "";
  return rfc3339(st.st_mtime);
}

// ---- build cache ----

std::string Store::build_cache_path(std::string_view key) const {
  if (key.size() != 64 || !is_hex(key)) throw Error("invalid build cache key \"" + std::string(key) + "\"");
  return root_ + "/build-cache/" + std::string(key) + ".json";
}

std::optional<Store::BuildCacheEntry> Store::build_cache_entry(std::string_view key) const {
  auto data = read_file_if_exists(build_cache_path(key));
  if (!data) return std::nullopt;
  try {
    json j = json::parse(*data);
    BuildCacheEntry e{std::string(key), j.at("parent").get<std::string>(), j.at("image").get<std::string>()};
    // Both are used as file names: a corrupt entry is a miss, never a path.
    if (e.image.size() != 64 || !is_hex(e.image) || e.parent.size() != 64 || !is_hex(e.parent)) return std::nullopt;
    return e;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::vector<Store::BuildCacheEntry> Store::build_cache_entries() const {
  std::vector<BuildCacheEntry> out;
  for (const auto& n : list_dir_names(root_ + "/build-cache")) {
    if (n.size() != 69 || n.compare(64, 5, ".json") != 0 || !is_hex(n.substr(0, 64))) continue;
    if (auto e = build_cache_entry(n.substr(0, 64))) out.push_back(*e);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

void Store::put_build_cache_entry(const BuildCacheEntry& e) {
  std::string path = build_cache_path(e.key);
  make_dir(root_ + "/build-cache");
  write_file_atomic(path, json{{"parent", e.parent}, {"image", e.image}}.dump() + "\n");
}

void Store::remove_build_cache_entry(std::string_view key) {
  if (::unlink(build_cache_path(key).c_str()) != 0 && errno != ENOENT)
    throw sys_error("build cache entry " + std::string(key) + ": remove");
}

// ---- tags ----

std::map<std::string, std::string> Store::tags() const {
  std::map<std::string, std::string> out;
  auto data = read_file_if_exists(root_ + "/repositories.json");
  if (!data) return out;
  try {
    json j = json::parse(*data);
    for (auto& [k, v] : j.items()) out[k] = v.get<std::string>();
  } catch (const json::exception& e) {
    throw Error(root_ + "/repositories.json: corrupt: " + e.what());
  }
  return out;
}

void Store::set_tags(const std::map<std::string, std::string>& t) {
  json j = json::object();
  for (const auto& [k, v] : t) j[k] = v;
  write_file_atomic(root_ + "/repositories.json", j.dump(2) + "\n");
}

std::vector<std::string> Store::tags_of(std::string_view hex) const {
  std::vector<std::string> out;
  std::string want = "sha256:" + std::string(hex);
  for (const auto& [k, v] : tags())
    if (v == want) out.push_back(k);
  return out;
}

std::string Store::resolve_image(std::string_view ref) const {
  std::string r(ref);
  if (r.rfind("sha256:", 0) == 0) r = r.substr(7);
  else if (r.find('@') != std::string::npos) {
    std::string want;
    try {
      want = normalize_reference(ref);
    } catch (const Error&) {
      throw Error("No such image: " + r, 1);
    }
    for (const auto& id : image_ids())
      for (const auto& d : repo_digests(id))
        if (d == want) return id;
    throw Error("No such image: " + r, 1);
  } else {
    try {
      auto t = tags();
      auto it = t.find(normalize_reference(ref));
      if (it != t.end() && has_image(it->second.substr(7))) return it->second.substr(7);
    } catch (const Error&) {
      // not a valid name: may still be an ID prefix
    }
  }
  if (r.size() >= 4 && r.size() <= 64 && is_hex(r)) {
    std::string found;
    for (const auto& id : image_ids()) {
      if (id.compare(0, r.size(), r) != 0) continue;
      if (!found.empty()) throw Error("image ID prefix \"" + r + "\" is ambiguous", 1);
      found = id;
    }
    if (!found.empty()) return found;
  }
  throw Error("No such image: " + std::string(ref), 1);
}

// ---- containers ----

std::vector<std::string> Store::container_ids() const {
  std::vector<std::string> out;
  for (const auto& n : list_dir_names(root_ + "/containers"))
    if (n.size() == 64 && is_hex(n) && exists(root_ + "/containers/" + n + "/state.json")) out.push_back(n);
  return out;
}

std::optional<ContainerRecord> Store::container(std::string_view cid) const {
  auto data = read_file_if_exists(container_dir(cid) + "/state.json", 16 << 20);
  if (!data) return std::nullopt;
  try {
    json j = json::parse(*data);
    ContainerRecord r;
    r.id = j.at("id");
    r.name = j.value("name", "");
    r.image_id = j.value("image_id", "");
    r.image_ref = j.value("image_ref", "");
    r.command = j.value("command", std::vector<std::string>{});
    r.created = j.value("created", "");
    r.started = j.value("started", "");
    r.finished = j.value("finished", "");
    const std::string status = j.value("status", "created");
    auto st = parse_status(status);
    if (!st) throw Error("container " + std::string(cid) + ": unknown status \"" + status + "\" in state.json");
    r.status = *st;
    r.exit_code = j.value("exit_code", 0);
    r.oom_killed = j.value("oom_killed", false);
    r.pid = j.value("pid", 0);
    r.container_pid = j.value("container_pid", 0);
    r.auto_remove = j.value("auto_remove", false);
    r.restart_count = j.value("restart_count", 0);
    r.manually_stopped = j.value("manually_stopped", false);
    r.error = j.value("error", "");
    r.config = ContainerConfig::parse(j.value("spec", ""));
    return r;
  } catch (const json::exception& e) {
    throw Error("container " + std::string(cid) + ": corrupt state.json: " + e.what());
  }
}

void Store::put_container(const ContainerRecord& r) const {
  json j = {{"id", r.id},           {"name", r.name},           {"image_id", r.image_id},
            {"image_ref", r.image_ref}, {"command", r.command}, {"created", r.created},
            {"started", r.started}, {"finished", r.finished},   {"status", status_name(r.status)},
            {"exit_code", r.exit_code}, {"oom_killed", r.oom_killed}, {"pid", r.pid},         {"container_pid", r.container_pid},
            {"auto_remove", r.auto_remove}, {"spec", r.config.to_json().dump()},
            {"restart_count", r.restart_count}, {"error", r.error}};
  if (r.manually_stopped) j["manually_stopped"] = true;
  make_dir(container_dir(r.id), 0710);
  write_file_atomic(container_dir(r.id) + "/state.json", j.dump());
}

std::string Store::add_exit_waiter(const std::string& cid) const {
  check_id(cid);
  std::string path = new_temp_dir() + "/exit-" + cid;
  write_file_atomic(path, "");
  return path;
}

void Store::note_container_exit(const std::string& cid, int exit_code) const {
  const std::string code = std::to_string(exit_code) + "\n";
  for (const auto& n : list_dir_names(root_ + "/tmp")) {
    // No O_CREAT: a waiter that already gave up (its directory going) gets nothing.
    std::string p = root_ + "/tmp/" + n + "/exit-" + cid;
    int fd = ::open(p.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    (void)!::write(fd, code.data(), code.size());
    ::close(fd);
  }
}

bool Store::reserve_name(const std::string& name, const std::string& cid) const {
  check_id(name);
  std::string p = root_ + "/containers/names/" + name;
  // The reserving process is part of the target, so a run killed before its container
  // existed does not hold the name forever.
  std::string target = cid + "." + std::to_string(::getpid()) + "." + boot_tag();
  for (int attempt = 0; attempt < 2; attempt++) {
    if (::symlink(target.c_str(), p.c_str()) == 0) return true;
    if (errno != EEXIST) throw sys_error(p + ": symlink");
    auto l = lock();  // re-checked under the lock: never unlink a reservation made meanwhile
    if (!stale_name(name, true)) return false;
  }
  return false;
}

void Store::release_name(const std::string& name) const {
  if (name.empty()) return;
  check_id(name);
  ::unlink((root_ + "/containers/names/" + name).c_str());
}

std::string Store::resolve_container(std::string_view ref) const {
  if (auto cid = find_container(ref)) return *cid;
  throw Error("No such container: " + std::string(ref), 1);
}

std::optional<std::string> Store::find_container(std::string_view ref) const {
  std::string r(ref);
  if (!r.empty() && r.find('/') == std::string::npos && r != "." && r != "..") {
    char buf[256];
    ssize_t n = ::readlink((root_ + "/containers/names/" + r).c_str(), buf, sizeof buf - 1);
    if (n > 0) {
      std::string cid = name_target_cid(std::string(buf, static_cast<size_t>(n)));
      if (cid.size() == 64 && is_hex(cid) && exists(root_ + "/containers/" + cid + "/state.json")) return cid;
    }
  }
  if (!r.empty() && r.size() <= 64 && is_hex(r)) {
    std::string found;
    for (const auto& id : container_ids()) {
      if (id.compare(0, r.size(), r) != 0) continue;
      if (!found.empty()) throw Error("container ID prefix \"" + r + "\" is ambiguous", 1);
      found = id;
    }
    if (!found.empty()) return found;
  }
  return std::nullopt;
}

void Store::create_container_layers(const std::string& cid, const std::string& top) const {
  std::string init = init_layer_id(cid);
  std::string lower = link_name(top);
  for (const auto& l : lower_links(top)) lower += ":" + l;
  // The -init layer: staged in tmp/, then renamed into place (its files need no rename each:
  // nothing sees them before the directory's).
  std::string staged = new_temp_dir();
  make_dir(staged + "/diff", 0755);
  std::string ishort = make_short_link(init);
  write_new_file_durable(staged + "/link", ishort);
  write_new_file_durable(staged + "/lower", lower);
  if (::rename(staged.c_str(), layer_dir(init).c_str()) != 0) throw sys_error("container " + cid + ": init layer");
  staged = new_temp_dir();
  for (const char* d : {"diff", "work", "merged"}) make_dir(staged + "/" + d, 0755);
  std::string cshort = make_short_link(cid);
  write_new_file_durable(staged + "/link", cshort);
  write_new_file_durable(staged + "/lower", "l/" + ishort + ":" + lower);
  if (::rename(staged.c_str(), layer_dir(cid).c_str()) != 0) throw sys_error("container " + cid + ": layer");
}

void Store::remove_container(const std::string& cid) const {
  auto rec = container(cid);
  std::string trash = new_temp_dir();
  for (const auto& id : {cid, init_layer_id(cid)}) {
    std::string dir = layer_dir(id);
    auto link = read_file_if_exists(dir + "/link", 4096);
    if (::rename(dir.c_str(), (trash + "/" + id).c_str()) != 0 && errno != ENOENT)
      throw sys_error("container " + cid + ": remove layer");
    if (link) ::unlink((overlay_root() + "/l/" + trim(*link)).c_str());
  }
  std::string cdir = container_dir(cid);
  if (::rename(cdir.c_str(), (trash + "/state").c_str()) != 0 && errno != ENOENT)
    throw sys_error("container " + cid + ": remove");
  if (rec) release_name(rec->name);
  remove_tree(trash);
}

}  // namespace minirun

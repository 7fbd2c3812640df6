#include "minirun/engine/image_edit.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <optional>

#include "minirun/image/config_change.h"
#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/image/extract.h"
#include "minirun/util/fsutil.h"
#include "minirun/image/image_config.h"
#include "minirun/engine/container_state.h"
#include "minirun/engine/images.h"
#include "minirun/image/reference.h"
#include "minirun/image/tarwrite.h"

namespace minirun {

using ojson = nlohmann::ordered_json;

namespace {

std::string make_tmp_file(const std::string& dir, const std::string& name, int& fd) {
  std::string p = dir + "/" + name;
  fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw sys_error(p);
  return p;
}

}  // namespace

std::string add_layer_to_image(Store& store, const std::string& base_hex, const std::string& diff,
                               const std::string& tag, const CommitOptions& o, const std::string& created_by,
                               std::vector<std::string>* layer_ids) {
  std::string config_bytes = store.image_config(base_hex);
  auto cfg = parse_image_config(config_bytes);
  auto ids = image_layer_ids(cfg);
  std::string top = ids.empty() ? "" : ids.back();

  RemoveOnExit tmp(store.new_temp_dir());
  int fd;
  std::string tar = make_tmp_file(tmp.path(), "layer.tar", fd);
  LayerTar lt;
  try {
    lt = write_layer_tar(diff, fd);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  std::string staged = tmp.path() + "/layer";
  if (::mkdir(staged.c_str(), 0700) != 0 || ::mkdir((staged + "/diff").c_str(), 0755) != 0)
    throw sys_error(staged);
  ExtractOptions eo;
  eo.tar_split_path = staged + "/tar-split";
  if (!top.empty()) {
    eo.lower_diffs.push_back(store.diff_dir(top));
    for (const auto& d : store.lower_diffs(top)) eo.lower_diffs.push_back(d);
  }
  ExtractResult r = extract_layer(tar, 0, lt.size, staged + "/diff", eo);
  if (r.diff_id != lt.diff_id) throw Error("commit: layer digest changed while re-reading it");

  ojson j = ojson::parse(config_bytes);
  std::string created = now_rfc3339();
  j["created"] = created;
  if (!o.author.empty()) j["author"] = o.author;
  for (const auto& c : o.changes) apply_config_change(j, c);
  j["rootfs"]["diff_ids"].push_back(r.diff_id);
  ojson h = {{"created", created}, {"created_by", o.created_by.empty() ? created_by : o.created_by}};
  if (!o.author.empty()) h["author"] = o.author;
  if (!o.message.empty()) h["comment"] = o.message;
  if (!j.contains("history") || !j["history"].is_array()) j["history"] = ojson::array();
  j["history"].push_back(h);
  std::string new_config = j.dump();

  std::string chain = top.empty() ? digest_hex(r.diff_id) : digest_hex(sha256_digest("sha256:" + top + " " + r.diff_id));
  std::string hex;
  {
    auto lock = store.lock();
    store.commit_layer(staged, {chain, r.diff_id, top, r.content_size});
    hex = put_image_locked(store, new_config, tag.empty() ? std::vector<std::string>{} : std::vector{tag});
  }
  ids.push_back(chain);
  if (layer_ids) *layer_ids = ids;
  return "sha256:" + hex;
}

std::string commit_container(Store& store, const std::string& cid, const std::string& ref, const CommitOptions& o) {
  auto rec = store.container(cid);
  if (!rec) throw Error("No such container: " + cid, 1);
  std::string tag = ref.empty() ? "" : normalize_reference(ref);
  // Frozen while its upper layer is read (a layer of one instant), thawed when this returns or
  // throws. Without it (--pause=false) files written meanwhile come as they were at each read.
  std::optional<ContainerPause> paused;
  if (o.pause) paused.emplace(store, cid);
  std::string command;
  for (const auto& a : rec->command) command += (command.empty() ? "" : " ") + a;
  std::vector<std::string> ids;
  std::string id = add_layer_to_image(store, rec->image_id, store.diff_dir(cid), tag, o, command, &ids);
  paused.reset();
  flatten_image(store, ids);
  return id;
}

namespace {

la_ssize_t fd_write_cb(struct archive*, void* client, const void* buf, size_t n) {
  int fd = *static_cast<int*>(client);
  size_t off = 0;
  while (off < n) {
    ssize_t w = ::write(fd, static_cast<const char*>(buf) + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    off += static_cast<size_t>(w);
  }
  return static_cast<la_ssize_t>(n);
}

class OuterTar {
 public:
  explicit OuterTar(int& fd) {
    a_ = archive_write_new();
    archive_write_set_format_pax_restricted(a_);
    archive_write_set_bytes_in_last_block(a_, 1);
    if (archive_write_open(a_, &fd, nullptr, fd_write_cb, nullptr) != ARCHIVE_OK)
      throw Error(std::string("save: ") + archive_error_string(a_));
  }
  ~OuterTar() { archive_write_free(a_); }
  void dir(const std::string& path) { header(path, AE_IFDIR, 0755, 0); }
  void data(const std::string& path, const std::string& bytes) {
    header(path, AE_IFREG, 0644, bytes.size());
    write(bytes.data(), bytes.size());
  }
  void file(const std::string& path, const std::string& src, uint64_t size) {
    header(path, AE_IFREG, 0644, size);
    int fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw sys_error(src);
    std::vector<char> buf(1 << 20);
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) write(buf.data(), static_cast<size_t>(n));
    ::close(fd);
  }
  void close() {
    if (archive_write_close(a_) != ARCHIVE_OK) throw Error(std::string("save: ") + archive_error_string(a_));
  }

 private:
  void header(const std::string& path, unsigned type, unsigned perm, uint64_t size) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    archive_entry_set_mtime(e, 0, 0);
    int rc = archive_write_header(a_, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK) throw Error("save: " + path + ": " + archive_error_string(a_));
  }
  void write(const char* p, size_t n) {
    if (archive_write_data(a_, p, n) < 0) throw Error(std::string("save: ") + archive_error_string(a_));
  }
  struct archive* a_;
};

}  // namespace

void save_images(const Store& store, const std::vector<std::pair<std::string, std::vector<std::string>>>& images,
                 int out_fd) {
  RemoveOnExit tmp(store.new_temp_dir());
  int fd = out_fd;
  OuterTar out(fd);
  ojson manifest = ojson::array();
  ojson repos = ojson::object();
  std::map<std::string, std::string> written;  // layer ChainID -> path in the archive
  for (const auto& [hex, tags] : images) {
    std::string config = store.image_config(hex);
    auto cfg = parse_image_config(config);
    auto ids = image_layer_ids(cfg);
    ojson layers = ojson::array();
    std::vector<std::string> diff_ids;
    for (size_t i = 0; i < ids.size(); i++) {
      std::string path;
      if (written.count(ids[i])) {
        path = written[ids[i]];
        diff_ids.push_back("sha256:" + path.substr(0, 64));
      } else {
        int lfd;
        std::string tar = make_tmp_file(tmp.path(), ids[i] + ".tar", lfd);
        LayerTar lt;
        try {
          // The original tar when its split was kept (same DiffID), else a regenerated one.
          std::string split = store.tar_split_path(ids[i]);
          if (::access(split.c_str(), R_OK) == 0) {
            lt = write_tar_from_split(split, store.diff_dir(ids[i]), lfd);
            if (lt.diff_id != cfg.diff_ids[i]) {
              spdlog::warn("layer {}: its tar split does not rebuild the original tar; regenerating it", ids[i].substr(0, 12));
              if (::ftruncate(lfd, 0) != 0 || ::lseek(lfd, 0, SEEK_SET) != 0) throw sys_error(tar);
              lt = write_layer_tar(store.diff_dir(ids[i]), lfd);
            }
          } else {
            lt = write_layer_tar(store.diff_dir(ids[i]), lfd);
          }
        } catch (...) {
          ::close(lfd);
          throw;
        }
        ::close(lfd);
        std::string dhex = digest_hex(lt.diff_id);
        path = dhex + "/layer.tar";
        out.dir(dhex);
        out.data(dhex + "/VERSION", "1.0");
        out.data(dhex + "/json", ojson({{"id", dhex}}).dump());
        out.file(path, tar, lt.size);
        ::unlink(tar.c_str());
        written[ids[i]] = path;
        diff_ids.push_back(lt.diff_id);
      }
      layers.push_back(path);
    }
    if (diff_ids != cfg.diff_ids) {
      ojson j = ojson::parse(config);
      j["rootfs"]["diff_ids"] = diff_ids;
      config = j.dump();
      spdlog::warn("image {}: its layers could not be reproduced byte for byte; saved with new layer digests as {}",
                   hex.substr(0, 12), digest_hex(sha256_digest(config)).substr(0, 12));
    }
    std::string chex = digest_hex(sha256_digest(config));
    out.data(chex + ".json", config);
    manifest.push_back({{"Config", chex + ".json"}, {"RepoTags", tags.empty() ? ojson(nullptr) : ojson(tags)},
                        {"Layers", layers}});
    for (const auto& t : tags) {
      auto colon = t.rfind(':');
      repos[t.substr(0, colon)][t.substr(colon + 1)] = chex;
    }
  }
  out.data("manifest.json", manifest.dump());
  out.data("repositories", repos.dump());
  out.close();
}

}  // namespace minirun

#include "minirun/engine/bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "minirun/engine/container_seccomp.h"
#include "minirun/engine/container_spec.h"
#include "minirun/engine/images.h"
#include "minirun/engine/process.h"
#include "minirun/engine/seccomp_profile.h"
#include "minirun/image/extract.h"
#include "minirun/image/image_config.h"
#include "minirun/image/tarwrite.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/runtime/user.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

namespace {

// The request a container was run with (its record's run options), or a new container's.
ContainerRequest request_for(Store& store, const std::string& ref, std::vector<std::string>& layers,
                             const std::string& init_dir) {
  ContainerRequest req;
  try {
    std::string cid = store.resolve_container(ref);
    auto rec = store.container(cid);
    if (!rec) throw Error("No such container: " + ref, 1);
    layers = {store.diff_dir(cid)};
    for (const auto& d : store.lower_diffs(cid)) layers.push_back(d);
    req = request_from_record(*rec, rec->image_id.empty() ? "" : parse_image_config(store.image_config(rec->image_id), false).user);
    // A bundle has no other container to join: its own namespace, as for bridge networks. Its
    // runtime makes the cgroup and the bundle states the device rules (write_bundle).
    if (req.network.rfind("container:", 0) == 0) req.network = "none";
    req.cgroup_path.clear();
    req.resources.reset();
    req.rlimits.clear();
    return req;
  } catch (const Error& e) {
    if (e.exit_code() != 1) throw;
  }
  std::string hex = store.resolve_image(ref);
  auto cfg = parse_image_config(store.image_config(hex), false);
  auto ids = image_layer_ids(cfg);
  prepare_init_layer(init_dir);
  layers = {init_dir};
  if (!ids.empty()) {
    layers.push_back(store.diff_dir(ids.back()));
    for (const auto& d : store.lower_diffs(ids.back())) layers.push_back(d);
  }
  req.id = random_hex(64);
  req.hostname = req.id.substr(0, 12);
  req.argv = merge_argv(cfg.entrypoint, cfg.cmd, std::nullopt, {});
  req.env = merge_env(cfg.env, {});
  req.user = cfg.user;
  req.workdir = cfg.workdir;
  return req;
}

}  // namespace

void write_bundle(Store& store, const std::string& ref, const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0 && ::rmdir(dir.c_str()) != 0)
    throw Error("bundle directory " + dir + " exists and is not empty");
  std::string tmp = dir + ".tmp-" + random_hex(8);
  if (::mkdir(tmp.c_str(), 0755) != 0) throw sys_error(tmp);
  RemoveOnExit cleanup(tmp);
  RemoveOnExit scratch(store.new_temp_dir());
  std::vector<std::string> layers;
  ContainerRequest req = request_for(store, ref, layers, scratch.path());
  if (req.init) throw Error("the container runs with --init, which has no OCI equivalent: no bundle written");

  // rootfs/: the merged tree, written as a tar and extracted (exact owners, modes, xattrs).
  std::string tar = tmp + "/rootfs.tar";
  {
    int fd = ::open(tar.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) throw sys_error(tar);
    try {
      write_merged_tar(layers, fd);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
  }
  std::string rootfs = tmp + "/rootfs";
  if (::mkdir(rootfs.c_str(), 0755) != 0) throw sys_error(rootfs);
  if (::stat(tar.c_str(), &st) != 0) throw sys_error(tar);
  extract_layer(tar, 0, static_cast<uint64_t>(st.st_size), rootfs, {});
  ::unlink(tar.c_str());

  req.state_dir = tmp;
  write_state_files(req);
  // The container's seccomp profile (Docker's default or the one it was created with) resolved
  // for its capabilities, unless it ran without one.
  req.seccomp = container_seccomp(store, req);
  runtime::Spec spec = build_spec(req, "rootfs");
  // The container's cgroup at /sys/fs/cgroup, read-only, in whatever cgroup the runtime makes.
  spec.mounts.push_back({"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}});
  // The bundle's own files, by their final path.
  for (auto& m : spec.mounts)
    if (m.source.rfind(tmp + "/", 0) == 0) m.source = dir + m.source.substr(tmp.size());
  // A numeric user, resolved in the bundle's root as run resolves it in the container's.
  int rfd = ::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) throw sys_error(rootfs);
  ResolvedUser u;
  try {
    u = resolve_user(rfd, *spec.minirun.user_name);
  } catch (...) {
    ::close(rfd);
    throw;
  }
  ::close(rfd);
  auto& p = *spec.process;
  p.user.uid = u.uid;
  p.user.gid = u.gid;
  p.user.additional_gids.assign(u.groups.begin(), u.groups.end());
  bool has_home = false;
  for (const auto& e : p.env) has_home = has_home || e.rfind("HOME=", 0) == 0;
  if (!has_home) p.env.push_back("HOME=" + u.home);
  if (u.uid != 0) p.capabilities->effective.clear(), p.capabilities->permitted.clear();
  // Real nodes on /dev, guarded by Docker's device rules (a runtime with a devices cgroup
  // enforces them).
  for (auto& m : spec.mounts)
    if (m.destination == "/dev") std::erase(m.options, std::string("nodev"));
  runtime::Resources res;
  res.devices.push_back({false, "a", std::nullopt, std::nullopt, "rwm"});
  for (auto [type, major, minor] : {std::tuple{"c", 1, 3}, {"c", 1, 5}, {"c", 1, 7}, {"c", 1, 8}, {"c", 1, 9},
                                    {"c", 5, 0}, {"c", 5, 1}, {"c", 5, 2}, {"c", 136, -1}, {"c", 10, 200}})
    res.devices.push_back({true, type, major, minor < 0 ? std::nullopt : std::optional<int64_t>(minor), "rwm"});
  spec.linux.resources = res;
  write_file_atomic(tmp + "/config.json", runtime::spec_to_json(spec).dump(2) + "\n");
  fsync_path(tmp);
  if (::rename(tmp.c_str(), dir.c_str()) != 0) throw sys_error("rename " + tmp + " to " + dir);
  cleanup.release();
}

}  // namespace minirun

// recording_mount_sys.h — a MountSys (runtime/mount_sys.h) that makes no mount and no node but
// records each call, with its paths translated back from the /proc/self/fd/N form the runtime
// hands the kernel to the path inside the container's root: unit tests check what the runtime's
// mounting and device creation would do, without root, against a root directory in a TempDir.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "minirun/runtime/mount_sys.h"
#include "minirun/runtime/overlay.h"

namespace minirun::test {

using minirun::OverlayLayout;

struct MountCall {
  std::string source, target, fstype, data;  // source and target inside the root when they lie there
  unsigned long flags = 0;
};

struct NodeCall {
  std::string path;  // inside the root
  mode_t mode = 0;   // type and permissions
  dev_t dev = 0;
};

// A tree copied with open_tree, given attributes with mount_setattr and attached with move_mount
// (source: what open_tree copied; "" for a tree the runtime made before).
struct TreeCall {
  std::string source, target;
  uint64_t attr_set = 0;
};

// An overlay mounted (the store's layers, as mount_overlay gets them).
struct OverlayCall {
  OverlayLayout layout;
  std::string target;
  unsigned long flags = 0;
};

struct ChownCall {
  std::string path;
  uid_t uid = 0;
  gid_t gid = 0;
};

class RecordingMountSys : public runtime::MountSys {
 public:
  // root: the directory the runtime's RootPaths was opened on.
  explicit RecordingMountSys(const std::string& root);
  int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
            const void* data) override;
  // Records the node and leaves an empty regular file in its place (as a node would be there).
  int mknodat(int dirfd, const char* name, mode_t mode, dev_t dev) override;
  int fchownat(int dirfd, const char* name, uid_t uid, gid_t gid, int flags) override;
  // open_tree returns a descriptor of "/" (O_PATH), closed as the runtime closes a tree.
  int open_tree(int dirfd, const char* path, unsigned flags) override;
  int mount_setattr(int dirfd, const char* path, unsigned flags, uint64_t attr_set) override;
  int move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path, unsigned flags) override;
  void mount_overlay(const OverlayLayout& layout, const std::string& target, unsigned long flags) override;
  // Recorded in `steps` as "pivot_root NEW OLD", "umount2 PATH FLAGS", "chroot PATH", "chdir PATH".
  int pivot_root(const char* new_root, const char* put_old) override;
  int umount2(const char* target, int flags) override;
  int chroot(const char* path) override;
  int chdir(const char* path) override;
  long fs_type(const char*) override { return root_fs_type; }

  std::vector<MountCall> mounts;
  std::vector<NodeCall> nodes;
  std::vector<ChownCall> chowns;
  std::vector<TreeCall> trees;  // attached, in order
  std::vector<OverlayCall> overlays;
  // Every call of the root's switch and each mount, move_mount and overlay as "mount TARGET",
  // in order: the sequence a test checks.
  std::vector<std::string> steps;
  int pivot_root_errno = 0;  // not 0: pivot_root fails with it
  long root_fs_type = 0;     // what fs_type answers (RAMFS_MAGIC for an initramfs host)
  std::vector<std::string> order;  // the target of every mount and move_mount, in order
  // The mount calls whose target is `path`, in order.
  std::vector<MountCall> at(const std::string& path) const;

 private:
  // A path as the runtime passed it ("/proc/self/fd/N[/rest]", or a host path): inside the root
  // when it lies there ("/dev/null"), else unchanged.
  std::string in_root(const std::string& path) const;
  std::string in_root(int dirfd, const char* name) const;
  std::string root_;
  std::map<int, TreeCall> open_trees_;  // by descriptor, until attached
};

}  // namespace minirun::test

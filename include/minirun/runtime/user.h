// user.h — resolving a container's user inside its own root file system: Docker's USER forms
// against the container's /etc/passwd and /etc/group, and HOME for a numeric uid (as runc does).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace minirun {

struct ResolvedUser {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary
  std::string home = "/";
};

// "", "name", "uid", "name:group", "uid:gid", resolved through etc/passwd and etc/group under
// the directory rootfs_dirfd (symlinks resolved inside it). Unknown names → Error (125); an
// unknown numeric uid is allowed (gid 0, home "/"). Supplementary groups, as Docker sets them:
// the primary group, then (unless a group was given) the memberships in etc/group.
ResolvedUser resolve_user(int rootfs_dirfd, const std::string& spec);

// The home directory of uid in the container's /etc/passwd; "/" when it has none.
std::string home_of_uid(int rootfs_dirfd, uid_t uid);

}  // namespace minirun

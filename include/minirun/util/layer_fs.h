// layer_fs.h — small pieces every reader of layer directories needs: the owning file
// descriptor (fd.h), and the overlay forms of a whiteout (0/0 character device) and of an opaque
// directory (trusted.overlay.opaque = "y").
#pragma once

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "minirun/util/fd.h"

namespace minirun {

inline bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

inline bool is_opaque(int dirfd) {
  char v[2];
  return ::fgetxattr(dirfd, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}

}  // namespace minirun

// bundle.h — an OCI bundle from an image or a container: rootfs/ (the merged file system, as
// `export` writes it) and config.json from the same conversion `run` uses (container_spec.h),
// made self-contained for any runtime: a numeric user resolved in rootfs/, HOME set, the
// container's hostname, hosts and resolv.conf as files of the bundle, /dev with real nodes and
// Docker's device cgroup rules (deny all but the standard nodes and ptys).
#pragma once

#include <string>

#include "minirun/store/store.h"

namespace minirun {

// dir must not exist or be empty. Throws Error; a failure leaves no half bundle (built beside
// dir and renamed into place).
void write_bundle(Store& store, const std::string& ref, const std::string& dir);

}  // namespace minirun

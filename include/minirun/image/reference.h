// reference.h — image references as Docker shows them ("busybox" → "busybox:latest").
#pragma once

#include <string>
#include <string_view>

namespace minirun {

// Normalises NAME[:TAG]: adds ":latest", strips "docker.io/library/" and "docker.io/", keeps
// other registries ("localhost/a/b:1", "localhost:5000/x:latest"); "name@sha256:…" stays as is.
// Throws Error on an invalid reference (empty, whitespace, uppercase repository, bad tag).
std::string normalize_reference(std::string_view ref);

}  // namespace minirun

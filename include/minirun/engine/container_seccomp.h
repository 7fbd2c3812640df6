// container_seccomp.h — a stored container's seccomp filter, the same at every start and for
// every exec'd process: Docker's default profile, or the profile file given at run/create (its
// text kept in the container's directory, Store::container_seccomp_path, so that later starts
// neither depend on the file nor see it changed), or none (--privileged, seccomp=unconfined).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "minirun/engine/container_spec.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/store/store.h"

namespace minirun {

// Keeps the profile text the container was created with (caller: run/create, once its
// directory exists).
void keep_container_seccomp_profile(const Store& store, const std::string& cid, const std::string& profile_json);

// The container's profile resolved for its capabilities (req as request_from_record gives it);
// nullopt when it runs unconfined.
std::optional<runtime::Seccomp> container_seccomp(const Store& store, const ContainerRequest& req);

// The same compiled, from the store's cache; null when it runs unconfined.
std::shared_ptr<runtime::SeccompProgram> container_seccomp_program(const Store& store, const ContainerRequest& req);

}  // namespace minirun

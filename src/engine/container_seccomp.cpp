#include "minirun/engine/container_seccomp.h"

#include "minirun/engine/seccomp_profile.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun {

namespace {

bool unconfined(const ContainerRequest& req) { return req.privileged || req.seccomp_unconfined; }

SeccompTarget target_of(const ContainerRequest& req) {
  return SeccompTarget{docker_capabilities(req.privileged, req.cap_add, req.cap_drop), "", std::nullopt};
}

std::optional<std::string> kept_profile(const Store& store, const std::string& cid) {
  return read_file_if_exists(store.container_seccomp_path(cid), 1 << 20);
}

runtime::Seccomp parse_kept(const std::string& text, const std::string& cid, const SeccompTarget& target) {
  try {
    return parse_docker_seccomp(text, target);
  } catch (const Error& e) {
    throw with_context("container " + cid.substr(0, 12) + ": its seccomp profile", e);
  }
}

}  // namespace

void keep_container_seccomp_profile(const Store& store, const std::string& cid, const std::string& profile_json) {
  write_file_atomic(store.container_seccomp_path(cid), profile_json);
}

std::optional<runtime::Seccomp> container_seccomp(const Store& store, const ContainerRequest& req) {
  if (unconfined(req)) return std::nullopt;
  SeccompTarget target = target_of(req);
  if (auto text = kept_profile(store, req.id)) return parse_kept(*text, req.id, target);
  return docker_default_seccomp(target);
}

std::shared_ptr<runtime::SeccompProgram> container_seccomp_program(const Store& store, const ContainerRequest& req) {
  if (unconfined(req)) return nullptr;
  SeccompTarget target = target_of(req);
  const std::string cache = store.root() + "/seccomp";
  if (auto text = kept_profile(store, req.id))
    return std::make_shared<runtime::SeccompProgram>(runtime::compile_seccomp_cached(parse_kept(*text, req.id, target), cache));
  return std::make_shared<runtime::SeccompProgram>(docker_default_seccomp_program(target, cache));
}

}  // namespace minirun

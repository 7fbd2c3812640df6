#include "minirun/engine/container_health.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "minirun/engine/container_state.h"
#include "minirun/engine/exec.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/container.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/runtime/user.h"
#include "minirun/util/error.h"
#include "minirun/util/file_ops.h"
#include "minirun/util/fsutil.h"

namespace minirun {

pid_t start_health_probe(const runtime::Spec& container, const std::string& cgroup, pid_t container_pid,
                         const std::vector<std::string>& argv, int out_fd) {
  // exec's own path (exec.h): the container's user, environment, cgroup and seccomp filter.
  ExecRequest req;
  req.argv = argv;
  runtime::ExecOptions eo;
  eo.detach = true;
  eo.forward_stdin = false;
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null < 0) throw sys_error("health check: /dev/null");
  eo.stdio[0] = null;
  eo.stdio[1] = out_fd;
  eo.stdio[2] = out_fd;
  pid_t pid = 0;
  try {
    exec_in_container(container, cgroup, container_pid, req, eo, &pid);
  } catch (...) {
    ::close(null);
    throw;
  }
  ::close(null);
  return pid;
}

namespace {

// containers/<cid>/health.json (store.h's layout).
std::string health_path(const Store& store, const std::string& cid) { return store.container_dir(cid) + "/health.json"; }

// The image's SHELL (config.Shell), for a CMD-SHELL check; empty for Docker's /bin/sh -c.
std::vector<std::string> image_shell(const Store& store, const std::string& image_id) {
  if (!store.has_image(image_id)) return {};
  auto cfg = nlohmann::json::parse(store.image_config(image_id), nullptr, false);
  if (!cfg.is_object() || !cfg.contains("config") || !cfg["config"].is_object()) return {};
  const auto& c = cfg["config"];
  std::vector<std::string> shell;
  if (c.contains("Shell") && c["Shell"].is_array())
    for (const auto& a : c["Shell"])
      if (a.is_string()) shell.push_back(a.get<std::string>());
  return shell;
}

}  // namespace

std::optional<monitor::ProberOptions> health_prober_options(const Store& store, const ContainerRecord& rec,
                                                            const runtime::Spec& container) {
  // Nothing read for a container without a check (every foreground run asks).
  auto config = container_health_config(rec);
  if (!config || !health_probe(config)) return std::nullopt;
  auto check = health_probe(config, image_shell(store, rec.image_id));
  if (!check) return std::nullopt;
  monitor::ProberOptions o;
  o.check = *check;
  if (auto before = read_container_health(store, rec.id)) o.before = *before;
  o.probe = [&container, cgroup = container.linux.cgroups_path, argv = check->argv](pid_t pid, int out) {
    return start_health_probe(container, cgroup, pid, argv, out);
  };
  o.on_health = [&store, cid = rec.id](const monitor::HealthState& s) {
    try {
      write_container_health(store, cid, s);
    } catch (const Error&) {  // the container's directory is gone (removed): no one to show it
    }
  };
  return o;
}

std::unique_ptr<monitor::HealthThread> start_health_thread(const Store& store, const ContainerRecord& rec,
                                                           const runtime::Spec& container, pid_t container_pid) {
  auto o = health_prober_options(store, rec, container);
  if (!o) return nullptr;
  return std::make_unique<monitor::HealthThread>(std::move(*o), container_pid);
}

std::optional<HealthConfig> container_health_config(const ContainerRecord& rec) {
  if (!rec.config.healthcheck) return std::nullopt;
  return *rec.config.healthcheck;
}

std::optional<monitor::HealthState> read_container_health(const Store& store, const std::string& cid) {
  auto text = read_file_if_exists(health_path(store, cid), 1 << 20);
  if (!text) return std::nullopt;
  return monitor::parse_health_state(*text);
}

std::optional<monitor::HealthState> container_health(const Store& store, const ContainerRecord& rec) {
  auto h = read_container_health(store, rec.id);
  if (h && !container_active(rec)) h->status = "unhealthy";
  return h;
}

void write_container_health(const Store& store, const std::string& cid, const monitor::HealthState& s) {
  std::string text = monitor::health_state_json(s);
  replace_file(health_path(store, cid), 0644, /*durable=*/true,
               [&](int fd) { write_all(fd, text.data(), text.size(), "health state"); });
}

}  // namespace minirun

// lifecycle.cpp — runc's verbs over a state directory per container (see lifecycle.h). The
// container's first process is not the runtime's child after create (the runtime exits; the
// engine's monitor, a subreaper, adopts it), so liveness is read from /proc: pid plus start time.
#include "minirun/runtime/lifecycle.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "minirun/runtime/cgroup_task.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/container.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/runtime/spec_json.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/util/timefmt.h"

namespace minirun::runtime {

using nlohmann::json;

namespace {

void check_id(const std::string& id) {
  if (id.empty() || id.size() > 1024) throw Error("invalid container id \"" + id + "\"");
  for (char c : id)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' && c != '+')
      throw Error("invalid container id \"" + id + "\"");
  if (id == "." || id == "..") throw Error("invalid container id \"" + id + "\"");
}

// The state directory and whichever of its parents are missing, 0700 (runc's MkdirAll): a shim
// names one under a /run that nothing made yet (/run/containerd/runc/<namespace>).
void make_state_root(const std::string& root) {
  for (size_t pos = 1;;) {
    size_t slash = root.find('/', pos);
    std::string part = root.substr(0, slash);
    if (!part.empty() && ::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) throw sys_error(part);
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
}

std::string absolute(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) throw sys_error("getcwd");
  return p.empty() || p == "." ? std::string(cwd) : std::string(cwd) + "/" + p;
}

void write_pid_file(const std::string& path, pid_t pid) {
  if (path.empty()) return;
  write_file_atomic(absolute(path), std::to_string(pid), 0644);
}

ino_t pid_ns_of(pid_t pid) {
  struct stat st;
  if (::stat(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), &st) != 0) return 0;
  return st.st_ino;
}

pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(in, s);
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return 0;
  char state;
  int ppid = 0;
  if (sscanf(s.c_str() + rp + 1, " %c %d", &state, &ppid) != 2) return 0;
  return ppid;
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (auto* e = ::readdir(d))
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9') out.push_back(static_cast<pid_t>(atoi(e->d_name)));
  ::closedir(d);
  return out;
}

}  // namespace

unsigned long long process_start_time(pid_t pid, bool* zombie) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(in, s)) return 0;
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return 0;
  // Fields after the command: state (3), ppid (4), … starttime (22).
  std::istringstream rest(s.substr(rp + 2));
  std::string field;
  unsigned long long start = 0;
  for (int i = 3; i <= 22 && rest >> field; i++) {
    if (i == 3 && zombie) *zombie = field == "Z" || field == "X";
    if (i == 22) start = std::stoull(field);
  }
  return start;
}

Lifecycle::Lifecycle(std::string root) : root_(std::move(root)) {
  if (root_.empty()) root_ = "/run/minirun-runtime";
  root_ = absolute(root_);
}

std::string Lifecycle::dir(const std::string& id) const {
  check_id(id);
  return root_ + "/" + id;
}

void Lifecycle::save(const ContainerState& s) const {
  json j = {{"id", s.id},         {"pid", s.pid},         {"start_time", s.start_time}, {"bundle", s.bundle},
            {"rootfs", s.rootfs}, {"created", s.created}, {"annotations", s.annotations}, {"cgroup", s.cgroup}};
  write_file_atomic(dir(s.id) + "/state.json", j.dump());
}

Spec Lifecycle::load_bundle(const std::string& bundle) const {
  Spec spec = load_bundle_spec(bundle);
  std::string& cg = spec.linux.cgroups_path;
  if (systemd_ && !cg.empty() && cg[0] != '/') {
    // slice:prefix:name → slice/prefix-name.scope (cgroupfs placement of systemd's name)
    auto c1 = cg.find(':'), c2 = cg.find(':', c1 == std::string::npos ? 0 : c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) throw Error("cgroupsPath \"" + cg + "\" is not slice:prefix:name");
    std::string slice = cg.substr(0, c1), prefix = cg.substr(c1 + 1, c2 - c1 - 1), name = cg.substr(c2 + 1);
    cg = (slice.empty() ? "system.slice" : slice) + "/" + (prefix.empty() ? name : prefix + "-" + name) + ".scope";
  }
  return spec;
}

Spec Lifecycle::load_config(const std::string& id) const {
  auto text = read_file_if_exists(dir(id) + "/config.json");
  if (!text) throw Error("container \"" + id + "\" has no config");
  return spec_from_json(json::parse(*text));
}

ContainerState Lifecycle::state(const std::string& id) const {
  std::string d = dir(id);
  auto text = read_file_if_exists(d + "/state.json");
  if (!text) throw Error("container \"" + id + "\" does not exist");
  ContainerState s;
  try {
    json j = json::parse(*text);
    s.id = j.at("id").get<std::string>();
    s.pid = j.at("pid").get<pid_t>();
    s.start_time = j.at("start_time").get<unsigned long long>();
    s.bundle = j.at("bundle").get<std::string>();
    s.rootfs = j.at("rootfs").get<std::string>();
    s.created = j.at("created").get<std::string>();
    s.annotations = j.at("annotations").get<std::map<std::string, std::string>>();
    s.cgroup = j.value("cgroup", "");
  } catch (const json::exception& e) {
    throw Error("container \"" + id + "\": state.json: " + e.what());
  }
  bool zombie = false;
  unsigned long long st = s.pid > 0 ? process_start_time(s.pid, &zombie) : 0;
  struct stat fst;
  if (st == 0 || st != s.start_time || zombie) s.status = "stopped";
  else if (::stat((d + "/exec.fifo").c_str(), &fst) == 0) s.status = "created";
  else s.status = "running";
  if (s.status == "running" && ::stat((d + "/paused").c_str(), &fst) == 0) s.status = "paused";
  return s;
}

json Lifecycle::state_json(const ContainerState& s) const {
  return {{"ociVersion", "1.2.0"},
          {"id", s.id},
          {"pid", s.status == "stopped" ? 0 : s.pid},
          {"status", s.status},
          {"bundle", s.bundle},
          {"rootfs", s.rootfs},
          {"created", s.created},
          {"owner", ""},
          {"annotations", s.annotations}};
}

std::vector<ContainerState> Lifecycle::list() const {
  std::vector<ContainerState> out;
  DIR* d = ::opendir(root_.c_str());
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    try {
      out.push_back(state(e->d_name));
    } catch (const Error&) {
    }
  }
  ::closedir(d);
  return out;
}

ContainerState Lifecycle::create(const std::string& id, const std::string& bundle_in, const std::string& console_socket,
                                 const std::string& pid_file) {
  std::string d = dir(id);
  std::string bundle = absolute(bundle_in);
  Spec spec = load_bundle(bundle);
  make_state_root(root_);
  if (::mkdir(d.c_str(), 0700) != 0) {
    if (errno == EEXIST) throw Error("container with id \"" + id + "\" already exists");
    throw sys_error(d);
  }
  try {
    write_file_atomic(d + "/config.json", spec_to_json(spec).dump());
    std::string fifo = d + "/exec.fifo";
    if (::mkfifo(fifo.c_str(), 0622) != 0 || ::chmod(fifo.c_str(), 0622) != 0) throw sys_error(fifo);  // past the umask
    // Owned by the container's root, whose host ids a user namespace maps elsewhere (as runc).
    uid_t ruid = 0;
    gid_t rgid = 0;
    for (const auto& m : spec.linux.uid_mappings)
      if (m.container_id == 0) ruid = m.host_id;
    for (const auto& m : spec.linux.gid_mappings)
      if (m.container_id == 0) rgid = m.host_id;
    if ((ruid || rgid) && ::chown(fifo.c_str(), ruid, rgid) != 0) throw sys_error(fifo);
    ContainerState s;
    s.id = id;
    s.bundle = bundle;
    s.rootfs = spec.root.path;
    s.created = format_rfc3339_nano(now_unix_ns());
    s.annotations = spec.annotations;
    CreateOptions opts;
    opts.exec_fifo = fifo;
    opts.console_socket = console_socket.empty() ? "" : absolute(console_socket);
    opts.seccomp_cache_dir = root_ + "/.seccomp";
    opts.default_cgroup = "minirun-runtime/" + id;
    opts.cgroup_path = &s.cgroup;
    // prestart, createRuntime and createContainer run inside create, before pivot_root.
    if (!spec.hooks.empty()) {
      s.status = "creating";
      opts.state_json_for_hooks = state_json(s).dump();
    }
    s.pid = runtime::create(spec, opts);
    s.start_time = process_start_time(s.pid);
    s.status = "created";
    try {
      save(s);
      write_pid_file(pid_file, s.pid);
    } catch (...) {
      ::kill(s.pid, SIGKILL);
      if (!s.cgroup.empty() && Cgroup::exists(s.cgroup)) Cgroup::open(s.cgroup).destroy();
      throw;
    }
    return s;
  } catch (...) {
    remove_tree(d);
    throw;
  }
}

void Lifecycle::start(const std::string& id) {
  ContainerState s = state(id);
  if (s.status != "created") throw Error("cannot start a container in the " + s.status + " state");
  std::string fifo = dir(id) + "/exec.fifo";
  int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw sys_error(fifo);
  // The waiting process opens the fifo to write as soon as a reader exists, then writes one byte.
  char c = 0;
  ssize_t n = -1;
  for (int waited = 0; waited < 10000; waited += 10) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 10) > 0 && (n = ::read(fd, &c, 1)) == 1) break;
    if (!pid_alive(s.pid)) break;
  }
  if (n == 1) {
    // End of file: the process has exec'd (its end of the fifo is close-on-exec) or died.
    for (int waited = 0; waited < 10000; waited += 10) {
      struct pollfd p = {fd, POLLIN, 0};
      if (::poll(&p, 1, 10) > 0 && ::read(fd, &c, 1) <= 0) break;
      if (!pid_alive(s.pid)) break;
    }
  }
  ::close(fd);
  if (n != 1) throw Error("container \"" + id + "\" did not start (its process is gone)");
  ::unlink(fifo.c_str());
  Spec spec = load_config(id);
  s.status = "running";
  std::string warn = run_hooks(spec.hooks.poststart, state_json(s).dump(), false);
  if (!warn.empty()) fprintf(stderr, "warning: %s\n", warn.c_str());
}

int Lifecycle::run(const std::string& id, const std::string& bundle, const std::string& console_socket,
                   const std::string& pid_file, bool detach) {
  if (detach) {
    create(id, bundle, console_socket, pid_file);
    start(id);
    return 0;
  }
  std::string d = dir(id);
  std::string abs_bundle = absolute(bundle);
  Spec spec = load_bundle(abs_bundle);
  make_state_root(root_);
  if (::mkdir(d.c_str(), 0700) != 0) {
    if (errno == EEXIST) throw Error("container with id \"" + id + "\" already exists");
    throw sys_error(d);
  }
  RemoveOnExit cleanup(d);
  write_file_atomic(d + "/config.json", spec_to_json(spec).dump());
  ContainerState s;
  s.id = id;
  s.bundle = abs_bundle;
  s.rootfs = spec.root.path;
  s.created = format_rfc3339_nano(now_unix_ns());
  s.annotations = spec.annotations;
  RunOptions opts;
  opts.forward_stdin = true;
  opts.seccomp_cache_dir = root_ + "/.seccomp";
  opts.default_cgroup = "minirun-runtime/" + id;
  opts.on_start = [&](pid_t pid) {
    s.pid = pid;
    s.start_time = process_start_time(pid);
    save(s);
    write_pid_file(pid_file, pid);
  };
  if (!spec.hooks.empty()) {
    s.status = "created";
    opts.state_json_for_hooks = state_json(s).dump();
  }
  // The container's group is made on a thread while the state is written (cgroup_task.h).
  std::optional<CgroupTask> cgroup_task;
  if ((!spec.linux.cgroups_path.empty() || spec.linux.resources) &&
      CgroupHierarchy::host().mode != CgroupHierarchy::Mode::none) {
    cgroup_task.emplace(spec.linux.cgroups_path.empty() ? opts.default_cgroup : spec.linux.cgroups_path);
    opts.cgroup_task = &*cgroup_task;
  }
  return runtime::run(spec, opts);
}

int Lifecycle::signal_number(const std::string& name) {
  if (name.empty()) return SIGTERM;
  if (isdigit(static_cast<unsigned char>(name[0]))) {
    int n = atoi(name.c_str());
    if (n <= 0 || n >= 65) throw Error("invalid signal \"" + name + "\"");
    return n;
  }
  std::string n = name;
  for (auto& ch : n) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
  if (n.rfind("SIG", 0) == 0) n = n.substr(3);
  static const std::map<std::string, int> m = {
      {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
      {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},   {"FPE", SIGFPE},   {"KILL", SIGKILL},
      {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},     {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
      {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
      {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"XCPU", SIGXCPU},
      {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
      {"POLL", SIGPOLL}, {"PWR", SIGPWR},       {"SYS", SIGSYS}};
  auto it = m.find(n);
  if (it != m.end()) return it->second;
  if (n.rfind("RTMIN+", 0) == 0) return SIGRTMIN + atoi(n.c_str() + 6);
  if (n.rfind("RTMAX-", 0) == 0) return SIGRTMAX - atoi(n.c_str() + 6);
  throw Error("invalid signal \"" + name + "\"");
}

std::vector<pid_t> Lifecycle::pids(const std::string& id) const {
  ContainerState s = state(id);
  std::vector<pid_t> out;
  if (s.status == "stopped") return out;
  if (!s.cgroup.empty() && Cgroup::exists(s.cgroup)) return Cgroup::open(s.cgroup).pids();
  ino_t ns = pid_ns_of(s.pid), ours = pid_ns_of(::getpid());
  auto every = all_pids();
  if (ns != 0 && ns != ours) {
    for (pid_t p : every)
      if (pid_ns_of(p) == ns) out.push_back(p);
    return out;
  }
  // No pid namespace of its own: the first process and its descendants.
  out.push_back(s.pid);
  for (size_t i = 0; i < out.size(); i++)
    for (pid_t p : every)
      if (parent_of(p) == out[i]) out.push_back(p);
  return out;
}

void Lifecycle::kill(const std::string& id, const std::string& signal, bool all) {
  int sig = signal_number(signal);
  ContainerState s = state(id);
  if (s.status == "stopped") throw Error("container not running");
  if (all) {
    for (pid_t p : pids(id)) ::kill(p, sig);
    return;
  }
  if (::kill(s.pid, sig) != 0) throw sys_error("kill " + std::to_string(s.pid));
}

void Lifecycle::remove(const std::string& id, bool force) {
  if (!read_file_if_exists(dir(id) + "/state.json")) {
    // As runc: a directory an aborted create left without its state goes; and with --force a
    // container that does not exist is no error (containerd's shim deletes with --force after
    // its own delete, whatever happened before).
    if (::access(dir(id).c_str(), F_OK) == 0) remove_tree(dir(id));
    if (force) return;
    throw Error("container \"" + id + "\" does not exist");
  }
  ContainerState s = state(id);
  if (s.status != "stopped") {
    if (!force) throw Error("cannot delete container " + id + " that is not stopped: " + s.status);
    for (pid_t p : pids(id)) ::kill(p, SIGKILL);
    ::kill(s.pid, SIGKILL);
    for (int i = 0; i < 1000 && state(id).status != "stopped"; i++)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  try {
    Spec spec = load_config(id);
    s.status = "stopped";
    std::string warn = run_hooks(spec.hooks.poststop, state_json(s).dump(), false);
    if (!warn.empty()) fprintf(stderr, "warning: %s\n", warn.c_str());
  } catch (const Error& e) {
    fprintf(stderr, "warning: %s\n", e.what());
  }
  if (!s.cgroup.empty() && Cgroup::exists(s.cgroup)) Cgroup::open(s.cgroup).destroy();
  remove_tree(dir(id));
}

int Lifecycle::exec(const std::string& id, const Process& process, const std::string& console_socket,
                    const std::string& pid_file, bool detach) {
  ContainerState s = state(id);
  if (s.status != "running" && s.status != "created") throw Error("cannot exec in a " + s.status + " container");
  ExecOptions opts;
  opts.console_socket = console_socket.empty() ? "" : absolute(console_socket);
  opts.detach = detach;
  // The container's filter and cgroup hold for the new process too (as runc).
  Spec config = load_config(id);
  SeccompProgram prog;
  if (config.linux.seccomp) {
    prog = compile_seccomp_cached(*config.linux.seccomp, root_ + "/.seccomp");
    opts.seccomp = &prog;
  }
  if (!s.cgroup.empty() && Cgroup::exists(s.cgroup)) opts.cgroup_procs = Cgroup::open(s.cgroup).procs_files();
  pid_t pid = 0;
  if (detach) {
    int r = exec_process(s.pid, process, opts, &pid);
    write_pid_file(pid_file, pid);
    return r;
  }
  // Foreground: the pid file is written once the process exists, before waiting for it.
  if (!pid_file.empty()) {
    opts.detach = true;
    exec_process(s.pid, process, opts, &pid);
    write_pid_file(pid_file, pid);
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  return exec_process(s.pid, process, opts, &pid);
}

void Lifecycle::pause(const std::string& id, bool pause) {
  ContainerState s = state(id);
  if (pause && s.status != "running") throw Error("container not running");
  if (!pause && s.status != "paused") throw Error("container not paused");
  if (s.cgroup.empty() || !Cgroup::exists(s.cgroup)) throw Error("container " + id + " has no cgroup to freeze");
  Cgroup::open(s.cgroup).freeze(pause);
  std::string marker = dir(id) + "/paused";
  if (pause) write_file_atomic(marker, "");
  else ::unlink(marker.c_str());
}

}  // namespace minirun::runtime

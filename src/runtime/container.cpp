// container.cpp — the runtime's outside half: a Spec turned into a ChildPlan (everything that
// can fail or allocate much done here, before clone), the clone, and the report pipe read back.
//
// run() and spawn() of a spec without hooks or --init clone like posix_spawn (CLONE_VM|CLONE_VFORK,
// a stack of their own): the runtime's memory is shared, not copied, and the runtime's thread
// sleeps until the child's execve or _exit. What may run beside the child in the shared memory: a
// RootfsBuilder thread (deep images), the cgroup thread (cgroup_task.h) and the Attacher, which
// runs the engine's on_created (the network attach) while the child sets up; each touches only
// its own members, the heap (whose locks are shared like everything else) and, for on_created,
// the engine's objects that the sleeping thread left. (A child with a copy of the memory is never
// cloned while such a thread runs: it could inherit a lock held and wait forever.) What must
// happen in the runtime's own thread between the setup and the execve (create's wait for start,
// hooks, --init's pid 1 that never execs) takes a plain clone: the child then has its own copy of
// the memory and may wait. (A copy costs: a bridge run took 1.3 ms longer that way.)
#include "minirun/runtime/container.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "child.h"
#include "minirun/runtime/cgroup_task.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/child_report.h"
#include "minirun/runtime/container_plan.h"
#include "minirun/runtime/devices.h"
#include "minirun/runtime/hooks.h"
#include "minirun/runtime/tty.h"
#include "minirun/util/error.h"

namespace minirun::runtime {

namespace {

int ns_flag(const std::string& type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "user") return CLONE_NEWUSER;
  return 0;
}

// Owns what a plan opened (namespace descriptors) until the child has them.
struct Prepared {
  ChildPlan plan;
  unsigned long clone_flags = SIGCHLD;
  int pid_ns_fd = -1;  // joined by the runtime itself before clone: only children enter it
  int userns_go = -1;  // a new user namespace: written once the id maps are
  std::shared_ptr<const SeccompProgram> seccomp;
  std::optional<Cgroup> cgroup;
  bool share_memory = false;   // run()/spawn(): the child is cloned like posix_spawn (may_share_memory)
  CgroupTask* late = nullptr;  // the group still being made: taken once the child runs (cgroup_task.h)
  pid_t child_pid = 0;         // a posix_spawn-like clone's child, stored by the kernel before it runs
  std::vector<IdMapping> uid_map, gid_map;
  ~Prepared() {
    for (auto [fd, t] : plan.join) ::close(fd);
    for (int fd : plan.cgroup_fds) ::close(fd);
    if (plan.cgroup_late >= 0) ::close(plan.cgroup_late);
    if (pid_ns_fd >= 0) ::close(pid_ns_fd);
    if (plan.userns_wait >= 0) ::close(plan.userns_wait);
    if (userns_go >= 0) ::close(userns_go);
  }
  bool needs_copy() const { return userns_go >= 0; }
};

void write_id_map(pid_t pid, const char* file, const std::vector<IdMapping>& map) {
  std::string text;
  for (const auto& m : map)
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    throw sys_error("write " + path, e);
  }
  ::close(fd);
}

// After clone, in the runtime: the new user namespace's maps (the child waits for them), and the
// cgroup for a child that cannot join it from inside a user namespace.
void after_clone(Prepared& p, pid_t pid) {
  if (p.userns_go < 0) return;
  ::close(p.plan.userns_wait);
  p.plan.userns_wait = -1;
  for (int fd : p.plan.cgroup_fds) {
    std::string v = std::to_string(pid);
    if (::write(fd, v.data(), v.size()) < 0) throw sys_error("join the container's cgroup");
  }
  for (const auto& procs : p.plan.cgroup_procs) {
    std::string v = std::to_string(pid);
    int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, v.data(), v.size()) < 0) throw sys_error("join cgroup " + procs);
    ::close(fd);
  }
  write_id_map(pid, "uid_map", p.uid_map);
  write_id_map(pid, "gid_map", p.gid_map);
  if (::write(p.userns_go, "1", 1) != 1) throw sys_error("start the container's user namespace");
  ::close(p.userns_go);
  p.userns_go = -1;
}

// Hooks run by the runtime while the child sets up or just after its start (a gate it waits at).
bool has_runtime_hooks(const Spec& spec) { return spec.hooks.during_setup() || !spec.hooks.poststart.empty(); }

// Whether run()/spawn() may clone like posix_spawn (container.cpp's opening): nothing has to
// happen in the runtime's own thread between the child's setup and its execve — no hooks, no
// --init pid 1. (on_created runs on a thread meanwhile: Attacher. A new user namespace takes a
// plain clone too: prepare() sets Prepared::share_memory.)
bool may_share_memory(const Spec& spec) { return !has_runtime_hooks(spec) && !spec.minirun.init; }

// on_created (the engine's network attach) for a child cloned like posix_spawn, whose runtime
// thread sleeps until the execve: a thread waits for the child's first byte (it exists: the
// kernel has stored its pid, CLONE_PARENT_SETTID), runs on_created while the child makes its
// mounts, and lets it exec (the go pipe) — or closes the pipe unwritten, and the child exits.
struct Attacher {
  int started[2] = {-1, -1};
  int go = -1;  // the go pipe's write end, the thread's
  std::thread thread;
  std::exception_ptr error;

  void start(const std::function<void(pid_t)>& on_created, const volatile pid_t* child_pid) {
    thread = std::thread([this, &on_created, child_pid] {
      char c;
      ssize_t n;
      do n = ::read(started[0], &c, 1);
      while (n < 0 && errno == EINTR);
      if (n == 1) {
        try {
          on_created(*child_pid);
          if (::write(go, "1", 1) != 1) throw sys_error("start the container");
        } catch (...) {
          // (Never a kill: the child shares the memory, and one killed holding the heap's lock
          // would leave it held. It closed its copy of the write end first thing, so closing ours
          // ends its wait, and it exits.)
          error = std::current_exception();
        }
      }
      ::close(go);
      go = -1;
    });
  }
  // After the clone: the runtime's copy of the child's end goes (a child that died before its
  // byte ends the wait), then the thread is joined; its error, if any, is the run's.
  void finish() {
    if (started[1] >= 0) ::close(started[1]);
    started[1] = -1;
    if (thread.joinable()) thread.join();
  }
  ~Attacher() {
    finish();
    if (started[0] >= 0) ::close(started[0]);
    if (go >= 0) ::close(go);
  }
};

// A failure after (or late in) prepare(): the cgroup it made goes again.
void discard_cgroup(Prepared& p) {
  if (!p.cgroup) return;
  try {
    p.cgroup->destroy();
  } catch (const Error&) {
  }
  p.cgroup.reset();
}

void prepare(const Spec& spec, Prepared& p, const std::string& seccomp_cache, const std::string& default_cgroup,
             CgroupTask* task = nullptr, bool may_share = false) {
  if (!spec.process) throw Error("config.json: process is required to run a container");
  if (spec.process->args.empty()) throw Error("no command specified");
  ChildPlan& plan = p.plan;
  plan.spec = &spec;
  plan.root = spec.root.path;
  if (plan.root.empty()) throw Error("root.path is empty");
  if (!spec.minirun.overlay) {
    struct stat st;
    if (::stat(plan.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw sys_error("root " + plan.root);
  }
  for (const auto& n : spec.linux.namespaces) {
    int flag = ns_flag(n.type);
    if (n.type == "time") throw Error("time namespaces are not supported by minirun's runtime yet");
    if (n.path.empty()) {
      p.clone_flags |= static_cast<unsigned long>(flag);
      continue;
    }
    int fd = ::open(n.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw sys_error("namespace " + n.type + " " + n.path);
    if (n.type == "pid") p.pid_ns_fd = fd;
    else if (n.type == "user") plan.join.insert(plan.join.begin(), {fd, flag});  // first: it owns the others
    else plan.join.emplace_back(fd, flag);
  }
  if (p.clone_flags & CLONE_NEWUSER) {
    plan.cgroup_by_runtime = true;
    if (spec.linux.uid_mappings.empty() || spec.linux.gid_mappings.empty())
      throw Error("a new user namespace needs linux.uidMappings and linux.gidMappings");
    p.uid_map = spec.linux.uid_mappings;
    p.gid_map = spec.linux.gid_mappings;
    int sync[2];
    if (::pipe2(sync, O_CLOEXEC) != 0) throw sys_error("pipe");
    plan.userns_wait = sync[0];
    p.userns_go = sync[1];
  }
  p.share_memory = may_share && !p.needs_copy();
  const Namespace* mnt = spec.linux.find_namespace("mount");
  plan.new_mount_ns = (p.clone_flags & CLONE_NEWNS) != 0;
  plan.own_mount_ns = mnt != nullptr;
  plan.new_uts_ns = (p.clone_flags & CLONE_NEWUTS) != 0;
  plan.new_net_ns = (p.clone_flags & CLONE_NEWNET) != 0;
  plan.new_cgroup_ns = (p.clone_flags & CLONE_NEWCGROUP) != 0;
  p.clone_flags &= ~static_cast<unsigned long>(CLONE_NEWCGROUP);
  if (!spec.hostname.empty() && !spec.linux.find_namespace("uts"))
    throw Error("hostname is set but the container has no UTS namespace of its own");
  SetupPlan setup = plan_setup(spec);
  plan.mounts = std::move(setup.mounts);
  plan.devices = std::move(setup.devices);
  plan.devices_by_bind = setup.devices_by_bind;
  plan.caps = setup.caps;
  plan.rlimits = std::move(setup.rlimits);
  plan.sysctl = std::move(setup.sysctl);
  plan.root_propagation = setup.root_propagation;
  if (spec.minirun.seccomp_program) {
    p.seccomp = spec.minirun.seccomp_program;
  } else if (spec.linux.seccomp) {
    p.seccomp = std::make_shared<SeccompProgram>(compile_seccomp_cached(*spec.linux.seccomp, seccomp_cache));
  }
  if (p.seccomp && !p.seccomp->empty()) plan.seccomp = p.seccomp.get();
  if (spec.process->apparmor_profile.size()) throw Error("process.apparmorProfile: AppArmor is not supported by minirun's runtime");
  if (spec.process->selinux_label.size()) throw Error("process.selinuxLabel: SELinux is not supported by minirun's runtime");
  if (spec.linux.mount_label.size()) throw Error("linux.mountLabel: SELinux is not supported by minirun's runtime");
  plan.env = spec.process->env;
  if (!spec.linux.cgroups_path.empty() || spec.linux.resources) {
    std::string path = spec.linux.cgroups_path.empty() ? default_cgroup : spec.linux.cgroups_path;
    Resources res = spec.linux.resources.value_or(Resources{});
    if (!res.devices.empty()) {
      // As runc: the container's own nodes and its ptys stay usable whatever the rules deny —
      // except a node a rule names itself: its access is that rule's (--device X:Y:r reads only).
      const auto given = res.devices;
      auto named = [&given](const Device& d) {
        for (const auto& r : given)
          if (r.type == d.type && r.major && *r.major == d.major && r.minor && *r.minor == d.minor) return true;
        return false;
      };
      // (Each written once: Docker's list, which engine/container_spec gives, has the ptys too.)
      auto allow = [&res](const std::string& type, std::optional<int64_t> major, std::optional<int64_t> minor) {
        for (const auto& r : res.devices)
          if (r.allow && r.type == type && r.major == major && r.minor == minor && r.access == "rwm") return;
        res.devices.push_back({true, type, major, minor, "rwm"});
      };
      for (const auto& d : plan.devices)
        if ((d.type == "c" || d.type == "b") && !named(d)) allow(d.type, d.major, d.minor);
      allow("c", 5, 1);
      allow("c", 5, 2);
      allow("c", 136, std::nullopt);
    }
    if (task && task->path() == path && p.share_memory) {
      // Being made meanwhile (cgroup_task.h): the thread applies the limits while the child makes
      // its mounts, and sends it the join files; the runtime takes the group once the child runs.
      // Only for a child that shares the runtime's memory: one with a copy could inherit a lock
      // (the heap's) that the thread held at the clone, and wait on it forever.
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw sys_error("socketpair");
      plan.cgroup_late = sv[0];
      std::optional<bool> tree_ro;  // the v1 /sys/fs/cgroup made whole by the thread, when there is one
      for (const auto& m : plan.mounts)
        if (m.type == "cgroup" || m.type == "cgroup2") tree_ro = (m.flags & MS_RDONLY) != 0;
      task->deliver(std::move(res), sv[1], tree_ro);
      p.late = task;
      return;
    }
    if (task && task->path() == path) {  // made meanwhile (cgroup_task.h): only the limits are left
      p.cgroup = task->take();
      try {
        p.cgroup->apply(res);
      } catch (const Error& e) {
        discard_cgroup(p);
        throw with_context("cgroup " + path, e);
      }
    } else {
      p.cgroup = Cgroup::create(path, res);
      task = nullptr;
    }
    try {
      plan.cgroup_fds = task ? task->take_join_files() : p.cgroup->open_join_files();
      if (p.cgroup->mode() == CgroupHierarchy::Mode::v1) {
        auto sources = task ? task->mount_sources() : p.cgroup->v1_mount_sources();
        for (auto& m : plan.mounts)
          if (m.type == "cgroup" || m.type == "cgroup2") m.cgroup_sources = sources;
      }
    } catch (...) {
      discard_cgroup(p);
      throw;
    }
    Cgroup::release_descriptors();  // nothing of the cgroup file systems stays open during the run
  }
}

volatile pid_t g_child = 0;

void forward(int sig) {
  if (sig == SIGWINCH) note_winch();
  if (g_child > 0) ::kill(g_child, sig);
}

// The next record from the child: 1 = created, 0 = EOF (it exec'd), or throws its error after
// reaping it.
int read_record(int fd, pid_t pid) {
  ChildRecord r{};
  ssize_t n;
  do n = ::read(fd, &r, sizeof r);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof r) && r.code == 0) return 1;
  if (n == static_cast<ssize_t>(sizeof r)) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    throw Error(r.msg, r.code);
  }
  return 0;
}

// on_created failed and the child has been reaped: when the child had already failed on its own
// (it looks its command up before it waits to start), and the attach failed only because it was
// gone, the child's report ("exec: …: no such file", 127) is the run's error; else `otherwise`.
std::exception_ptr child_failure_or(int rep_fd, std::exception_ptr otherwise) {
  ChildRecord r{};
  for (;;) {
    ssize_t n = ::read(rep_fd, &r, sizeof r);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof r)) return otherwise;
    if (r.code != 0) return std::make_exception_ptr(Error(r.msg, r.code));
  }
}

long clone_child(Prepared& p, bool share_memory) {
  if (p.pid_ns_fd >= 0 && ::setns(p.pid_ns_fd, CLONE_NEWPID) != 0) throw sys_error("join the pid namespace");
  std::fflush(stdout);
  std::fflush(stderr);
  if (share_memory) {
    constexpr size_t kStack = 1 << 20;
    void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) throw sys_error("child stack");
    long pid = ::clone(
        [](void* arg) -> int { child_main(static_cast<Prepared*>(arg)->plan); }, static_cast<char*>(stack) + kStack,
        static_cast<int>(p.clone_flags | CLONE_VM | CLONE_VFORK | CLONE_PARENT_SETTID), &p, &p.child_pid);
    int e = errno;
    ::munmap(stack, kStack);
    errno = e;
    return pid;
  }
  long pid = syscall(SYS_clone, p.clone_flags, nullptr, nullptr, nullptr, 0);
  if (pid == 0) child_main(p.plan);
  return pid;
}

}  // namespace

std::string run_hooks(const std::vector<Hook>& hooks, const std::string& state_json, bool fatal) {
  std::string warnings;
  for (const auto& h : hooks) {
    std::string what = run_hook(h, state_json);
    if (what.empty()) continue;
    if (fatal) throw Error(what);
    warnings += (warnings.empty() ? "" : "; ") + what;
  }
  return warnings;
}

namespace {

// The state a hook gets on stdin: the caller's (runtime-spec state JSON) with this status and pid
// (0: none; the child's own hooks put in the pid their namespace sees).
std::string hook_state(const std::string& base, const char* status, pid_t pid) {
  nlohmann::json j = base.empty() ? nlohmann::json::object() : nlohmann::json::parse(base);
  j["status"] = status;
  if (pid > 0) j["pid"] = pid;
  else j.erase("pid");
  return j.dump();
}

// Hooks during the setup (spec.h Hooks): the states the child's own hooks get, and, for prestart
// and createRuntime, the gate the child waits at once its mounts are made. Returns the gate's
// write end, or -1.
int arm_setup_hooks(const Spec& spec, const std::string& base, ChildPlan& plan) {
  if (!spec.hooks.create_container.empty()) plan.create_container_state = hook_state(base, "creating", 0);
  if (!spec.hooks.start_container.empty()) plan.start_container_state = hook_state(base, "created", 0);
  if (spec.hooks.prestart.empty() && spec.hooks.create_runtime.empty()) return -1;
  int g[2];
  if (::pipe2(g, O_CLOEXEC) != 0) throw sys_error("pipe");
  plan.hooks_gate = g[0];
  return g[1];
}

// After clone: waits until the child's mounts are made (before its pivot_root), runs prestart and
// createRuntime in the runtime's namespaces with the container's pid and the status "created"
// (runc's, and the validation suite's hooks_stdin; createContainer's is "creating", as runc's),
// and lets the child go on. Throws on a failed hook (the caller kills the child; closing the gate
// unread makes it exit).
void run_setup_hooks(const Spec& spec, const std::string& base, int& gate, int report_fd, pid_t pid) {
  if (gate < 0) return;
  if (read_record(report_fd, pid) != 1) throw Error("the container's process ended during setup");
  const std::string state = hook_state(base, "created", pid);
  run_hooks(spec.hooks.prestart, state, true);
  run_hooks(spec.hooks.create_runtime, state, true);
  if (::write(gate, "1", 1) != 1) throw sys_error("continue the container's setup");
  ::close(gate);
  gate = -1;
}

// run() and spawn(): with wait, the exit status; else the pid once the command runs.
int start_process_in(const Spec& spec, const RunOptions& opts, bool wait, Prepared& p) {
  ChildPlan& plan = p.plan;
  for (int i = 0; i < 3; i++) plan.stdio[i] = opts.stdio[i];
  if (!wait && spec.process->terminal && !opts.tty_master)
    throw Error("a detached container with a terminal is not supported yet");
  if (!wait) plan.pdeathsig = opts.kill_with_parent;
  const bool gate = has_runtime_hooks(spec) || opts.on_created;
  int rep[2];
  if (::pipe2(rep, O_CLOEXEC) != 0) throw sys_error("pipe");
  plan.report_fd = rep[1];
  int go[2] = {-1, -1};
  if (gate && ::pipe2(go, O_CLOEXEC) != 0) throw sys_error("pipe");
  plan.start_fd = go[0];
  int sock[2] = {-1, -1};
  if (spec.process->terminal && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) != 0)
    throw sys_error("socketpair");
  plan.tty_sock = sock[1];
  int hooks_gate = arm_setup_hooks(spec, opts.state_json_for_hooks, plan);
  auto close_fd = [](int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  };
  std::optional<Attacher> attacher;  // on_created beside a posix_spawn-like child
  if (p.share_memory && opts.on_created) {
    attacher.emplace();
    if (::pipe2(attacher->started, O_CLOEXEC) != 0) throw sys_error("pipe");
    plan.started_fd = attacher->started[1];
    attacher->go = std::exchange(go[1], -1);
    plan.start_peer_fd = attacher->go;
    attacher->start(opts.on_created, &p.child_pid);
  }
  if (plan.pdeathsig) plan.parent_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  long pid = clone_child(p, p.share_memory);
  int clone_errno = errno;
  if (attacher) {
    attacher->finish();
    plan.started_fd = -1;
    if (attacher->error) {
      if (pid > 0)
        while (::waitpid(static_cast<pid_t>(pid), nullptr, 0) < 0 && errno == EINTR) {
        }
      pid = -2;
    }
  }
  close_fd(plan.parent_pidfd);
  close_fd(plan.cgroup_late);
  close_fd(rep[1]);
  close_fd(go[0]);
  close_fd(sock[1]);
  close_fd(plan.hooks_gate);
  if (pid < 0) {
    std::exception_ptr failure =
        pid == -2 ? child_failure_or(rep[0], attacher->error) : std::make_exception_ptr(sys_error("clone", clone_errno));
    close_fd(rep[0]);
    close_fd(go[1]);
    close_fd(sock[0]);
    close_fd(hooks_gate);
    std::rethrow_exception(failure);
  }
  try {
    after_clone(p, static_cast<pid_t>(pid));
  } catch (...) {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    throw;
  }
  for (int& fd : plan.cgroup_fds) close_fd(fd);  // the child has its own copies
  plan.cgroup_fds.clear();
  if (opts.mntns) opts.mntns->hold(static_cast<pid_t>(pid));
  if (wait) {
    g_child = static_cast<pid_t>(pid);
    struct sigaction sa = {};
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) ::sigaction(s, &sa, nullptr);
    if (spec.process->terminal) ::sigaction(SIGWINCH, &sa, nullptr);
  }
  auto kill_child = [&] {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    while (::waitpid(static_cast<pid_t>(pid), nullptr, 0) < 0 && errno == EINTR) {
    }
    g_child = 0;
  };
  try {
    run_setup_hooks(spec, opts.state_json_for_hooks, hooks_gate, rep[0], static_cast<pid_t>(pid));
    if (gate) {
      if (read_record(rep[0], static_cast<pid_t>(pid)) != 1) throw Error("the container's process ended during setup");
      if (!attacher) {
        if (opts.on_created) opts.on_created(static_cast<pid_t>(pid));
        if (::write(go[1], "1", 1) != 1) throw sys_error("start the container");
        close_fd(go[1]);
      }
    }
    if (opts.on_start) opts.on_start(static_cast<pid_t>(pid));
  } catch (...) {
    close_fd(hooks_gate);
    close_fd(go[1]);
    close_fd(rep[0]);
    close_fd(sock[0]);
    kill_child();
    throw;
  }
  int kept_master = -1;  // spawn(): the pty master goes to the caller (a monitor)
  if (spec.process->terminal) {
    int master = receive_fd(sock[0]);
    close_fd(sock[0]);
    if (!wait) kept_master = master;
    else if (master >= 0) {
      relay_tty(master, opts.forward_stdin);
      ::close(master);
    }
  }
  int r;
  try {
    r = read_record(rep[0], static_cast<pid_t>(pid));
  } catch (...) {
    close_fd(rep[0]);
    close_fd(kept_master);
    g_child = 0;
    throw;
  }
  close_fd(rep[0]);
  if (r == 1) {
    close_fd(kept_master);
    kill_child();
    throw Error("the container's process reported an unexpected state");
  }
  if (p.late) {  // the child joined it, so the thread is done (or closing its socket)
    try {
      p.cgroup = std::exchange(p.late, nullptr)->take();
      Cgroup::release_descriptors();
    } catch (...) {
      close_fd(kept_master);
      kill_child();
      throw;
    }
  }
  if (!wait && opts.tty_master) *opts.tty_master = kept_master;
  if (!spec.hooks.poststart.empty())
    run_hooks(spec.hooks.poststart, hook_state(opts.state_json_for_hooks, "running", static_cast<pid_t>(pid)), false);
  if (!wait) return static_cast<int>(pid);
  int st = 0;
  while (::waitpid(static_cast<pid_t>(pid), &st, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  if (!spec.hooks.poststop.empty()) run_hooks(spec.hooks.poststop, hook_state(opts.state_json_for_hooks, "stopped", 0), false);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int start_process(const Spec& spec, const RunOptions& opts, bool wait) {
  Prepared p;
  prepare(spec, p, opts.seccomp_cache_dir, opts.default_cgroup, opts.cgroup_task, may_share_memory(spec));
  int r;
  try {
    r = start_process_in(spec, opts, wait, p);
  } catch (...) {
    // A group the thread could not make or limit failed the child: the thread's error says why.
    if (p.late) p.cgroup = std::exchange(p.late, nullptr)->take();
    discard_cgroup(p);
    throw;
  }
  if (wait) {
    if (opts.oom_killed && p.cgroup) *opts.oom_killed = p.cgroup->oom_killed();
    if (opts.cgroup_task && p.cgroup) {
      opts.cgroup_task->destroy_later(std::move(*p.cgroup));
      p.cgroup.reset();
    }
    discard_cgroup(p);
  }
  return r;
}

}  // namespace

int run(const Spec& spec, const RunOptions& opts) { return start_process(spec, opts, true); }

pid_t spawn(const Spec& spec, const RunOptions& opts) { return static_cast<pid_t>(start_process(spec, opts, false)); }

namespace {

pid_t create_in(const Spec& spec, const CreateOptions& opts, Prepared& p) {
  ChildPlan& plan = p.plan;
  plan.pdeathsig = false;
  int rep[2];
  if (::pipe2(rep, O_CLOEXEC) != 0) throw sys_error("pipe");
  plan.report_fd = rep[1];
  int fifo = ::open(opts.exec_fifo.c_str(), O_PATH | O_CLOEXEC);
  if (fifo < 0) throw sys_error("exec fifo " + opts.exec_fifo);
  plan.start_fd = fifo;
  plan.start_is_fifo = true;
  int console = -1;
  if (spec.process->terminal) {
    if (opts.console_socket.empty()) throw Error("process.terminal needs --console-socket");
    console = connect_console_socket(opts.console_socket);
    plan.tty_sock = console;
  }
  int hooks_gate = arm_setup_hooks(spec, opts.state_json_for_hooks, plan);
  long pid = clone_child(p, false);
  int e = errno;
  ::close(rep[1]);
  ::close(fifo);
  if (console >= 0) ::close(console);
  if (plan.hooks_gate >= 0) ::close(plan.hooks_gate);
  plan.hooks_gate = -1;
  if (pid < 0) {
    ::close(rep[0]);
    if (hooks_gate >= 0) ::close(hooks_gate);
    throw sys_error("clone", e);
  }
  int r;
  try {
    after_clone(p, static_cast<pid_t>(pid));
    run_setup_hooks(spec, opts.state_json_for_hooks, hooks_gate, rep[0], static_cast<pid_t>(pid));
    r = read_record(rep[0], static_cast<pid_t>(pid));
  } catch (...) {
    ::close(rep[0]);
    if (hooks_gate >= 0) {
      ::close(hooks_gate);
      ::kill(static_cast<pid_t>(pid), SIGKILL);
      ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    }
    throw;
  }
  ::close(rep[0]);
  if (r != 1) {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    throw Error("the container's process ended during setup");
  }
  return static_cast<pid_t>(pid);
}

}  // namespace

pid_t create(const Spec& spec, const CreateOptions& opts) {
  Prepared p;
  prepare(spec, p, opts.seccomp_cache_dir, opts.default_cgroup);
  try {
    pid_t pid = create_in(spec, opts, p);
    if (opts.cgroup_path) *opts.cgroup_path = p.cgroup ? p.cgroup->path() : "";
    return pid;
  } catch (...) {
    discard_cgroup(p);
    throw;
  }
}

}  // namespace minirun::runtime

namespace minirun::runtime {

int exec_process(pid_t init_pid, const Process& process, const ExecOptions& opts, pid_t* pid_out) {
  if (process.args.empty()) throw Error("exec: no command given");
  Spec spec;
  spec.process = process;
  spec.minirun.keep_stdin = true;
  Prepared p;
  ChildPlan& plan = p.plan;
  plan.spec = &spec;
  plan.exec_mode = true;
  plan.pdeathsig = false;
  plan.env = process.env;
  plan.caps = capability_sets(process.capabilities);
  plan.cgroup_procs = opts.cgroup_procs;
  plan.rlimits = resolve_rlimits(process.rlimits);
  plan.seccomp = opts.seccomp && !opts.seccomp->empty() ? opts.seccomp : nullptr;
  for (int fd = 0; fd < 3; fd++) plan.stdio[fd] = opts.stdio[fd];
  std::string base = "/proc/" + std::to_string(init_pid) + "/ns/";
  auto same_as_ours = [&](const char* ns) {
    struct stat a, b;
    return ::stat((base + ns).c_str(), &a) == 0 && ::stat((std::string("/proc/self/ns/") + ns).c_str(), &b) == 0 &&
           a.st_ino == b.st_ino && a.st_dev == b.st_dev;
  };
  for (auto [ns, flag] : {std::pair{"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
                          {"cgroup", CLONE_NEWCGROUP}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS}}) {
    if (same_as_ours(ns)) continue;
    int fd = ::open((base + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) throw Error("container's process " + std::to_string(init_pid) + " is not running");
      throw sys_error(base + ns);
    }
    if (flag == CLONE_NEWPID) p.pid_ns_fd = fd;
    else plan.join.emplace_back(fd, flag);
  }
  int rep[2];
  if (::pipe2(rep, O_CLOEXEC) != 0) throw sys_error("pipe");
  plan.report_fd = rep[1];
  int sock[2] = {-1, -1};
  if (process.terminal) {
    if (!opts.console_socket.empty()) sock[1] = connect_console_socket(opts.console_socket);
    else if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) != 0) throw sys_error("socketpair");
  }
  plan.tty_sock = sock[1];
  // clone_child joins the container's pid namespace for children in this thread: it is given
  // back after the clone, so that a long-lived caller (a monitor's health probes) later clones
  // its own containers from where it was.
  int own_pid_ns = p.pid_ns_fd >= 0 ? ::open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC) : -1;
  long pid;
  try {
    pid = clone_child(p, true);  // like posix_spawn: nothing waits between setup and exec
  } catch (...) {
    if (own_pid_ns >= 0) ::close(own_pid_ns);
    throw;
  }
  int e = errno;
  if (own_pid_ns >= 0) {
    (void)::setns(own_pid_ns, CLONE_NEWPID);
    ::close(own_pid_ns);
  }
  ::close(rep[1]);
  if (sock[1] >= 0) ::close(sock[1]);
  if (pid < 0) {
    ::close(rep[0]);
    if (sock[0] >= 0) ::close(sock[0]);
    throw sys_error("clone", e);
  }
  try {
    if (read_record(rep[0], static_cast<pid_t>(pid)) != 0) throw Error("exec: unexpected state");
  } catch (const Error& e) {
    ::close(rep[0]);
    if (sock[0] >= 0) ::close(sock[0]);
    // docker exec: whatever kept the process from starting is 126 (`run` keeps 127 for a
    // command not found).
    throw Error(e.what(), kExitCannotExec);
  } catch (...) {
    ::close(rep[0]);
    if (sock[0] >= 0) ::close(sock[0]);
    throw;
  }
  ::close(rep[0]);
  if (pid_out) *pid_out = static_cast<pid_t>(pid);
  if (opts.detach) {
    if (sock[0] >= 0) ::close(sock[0]);
    return 0;
  }
  g_child = static_cast<pid_t>(pid);
  struct sigaction sa = {};
  sa.sa_handler = forward;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) ::sigaction(s, &sa, nullptr);
  if (sock[0] >= 0) {
    int master = receive_fd(sock[0]);
    ::close(sock[0]);
    if (master >= 0) {
      relay_tty(master, opts.forward_stdin);
      ::close(master);
    }
  }
  int st = 0;
  while (::waitpid(static_cast<pid_t>(pid), &st, 0) < 0 && errno == EINTR) {
  }
  g_child = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace minirun::runtime

// Limits without root: Docker's flag parsing and its error messages, the seccomp profile's
// resolution by capabilities, architecture and kernel, libseccomp compilation and its cache, a
// filter installed in a forked child (with no_new_privs, which needs no privilege), the cgroup
// hierarchy detection from mountinfo texts, the v1/v2 unit conversions, and the v2 device
// filter run through a small eBPF interpreter.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "minirun/engine/container_update.h"
#include "minirun/engine/device_flags.h"
#include "minirun/engine/resource_flags.h"
#include "minirun/engine/seccomp_profile.h"
#include "minirun/engine/ulimit_flags.h"
#include "minirun/runtime/cgroups.h"
#include "minirun/runtime/rlimits.h"
#include "minirun/runtime/seccomp.h"
#include "minirun/util/error.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::runtime;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const SeccompSyscall* find_rule(const Seccomp& s, const std::string& name, size_t nth = 0) {
  for (const auto& c : s.syscalls)
    if (std::find(c.names.begin(), c.names.end(), name) != c.names.end() && nth-- == 0) return &c;
  return nullptr;
}

size_t count_rules(const Seccomp& s, const std::string& name) {
  size_t n = 0;
  for (const auto& c : s.syscalls) n += std::count(c.names.begin(), c.names.end(), name);
  return n;
}

SeccompTarget amd64(std::vector<std::string> caps) {
  SeccompTarget t;
  t.capabilities = std::move(caps);
  t.arch = "amd64";
  t.kernel = std::make_pair(6, 1);
  return t;
}

}  // namespace

// --- sizes, cpus, ulimits ---

TEST(ResourceFlags, RamInBytesFollowsGoUnits) {
  EXPECT_EQ(parse_ram_in_bytes("64m"), 64LL << 20);
  EXPECT_EQ(parse_ram_in_bytes("64M"), 64LL << 20);
  EXPECT_EQ(parse_ram_in_bytes("64mb"), 64LL << 20);
  EXPECT_EQ(parse_ram_in_bytes("64MiB"), 64LL << 20);
  EXPECT_EQ(parse_ram_in_bytes("1.5g"), 3LL << 29);
  EXPECT_EQ(parse_ram_in_bytes("10 kb"), 10240);
  EXPECT_EQ(parse_ram_in_bytes("512"), 512);
  EXPECT_EQ(parse_ram_in_bytes("1b"), 1);
  EXPECT_EQ(error_of([] { parse_ram_in_bytes("64x"); }), "invalid size: '64x'");
  EXPECT_EQ(error_of([] { parse_ram_in_bytes(""); }), "invalid size: ''");
  EXPECT_EQ(error_of([] { parse_ram_in_bytes("-1"); }), "invalid size: '-1'");
  EXPECT_EQ(error_of([] { parse_ram_in_bytes("1.m"); }), "invalid size: '1.m'");
}

TEST(ResourceFlags, NanoCpus) {
  EXPECT_EQ(parse_nano_cpus("0.5"), 500000000);
  EXPECT_EQ(parse_nano_cpus("1.5"), 1500000000);
  EXPECT_EQ(parse_nano_cpus("2"), 2000000000);
  EXPECT_EQ(parse_nano_cpus("1/4"), 250000000);
  EXPECT_EQ(error_of([] { parse_nano_cpus("half"); }), "failed to parse half as a rational number");
  EXPECT_EQ(error_of([] { parse_nano_cpus("0.0000000001"); }), "value is too precise");
}

TEST(ResourceFlags, Ulimits) {
  auto r = parse_ulimit("nofile=1024:2048");
  EXPECT_EQ(r.type, "RLIMIT_NOFILE");
  EXPECT_EQ(r.soft, 1024u);
  EXPECT_EQ(r.hard, 2048u);
  r = parse_ulimit("nproc=512");
  EXPECT_EQ(r.type, "RLIMIT_NPROC");
  EXPECT_EQ(r.soft, 512u);
  EXPECT_EQ(r.hard, 512u);
  r = parse_ulimit("core=-1");
  EXPECT_EQ(r.soft, UINT64_MAX);
  EXPECT_EQ(error_of([] { parse_ulimit("nofile"); }), "invalid ulimit argument: nofile");
  EXPECT_EQ(error_of([] { parse_ulimit("files=1"); }), "invalid ulimit type: files");
  EXPECT_EQ(error_of([] { parse_ulimit("nofile=2048:1024"); }),
            "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024");
  EXPECT_EQ(error_of([] { parse_ulimit("nofile=lots"); }), "strconv.ParseInt: parsing \"lots\": invalid syntax");

  auto resolved = resolve_rlimits({parse_ulimit("nofile=1024:2048"), parse_ulimit("stack=-1")});
  ASSERT_EQ(resolved.size(), 2u);
  EXPECT_EQ(resolved[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(resolved[1].hard, RLIM_INFINITY);
  EXPECT_EQ(error_of([] { resolve_rlimits({Rlimit{"RLIMIT_FOO", 1, 1}}); }), "rlimit RLIMIT_FOO: unknown");
}

TEST(ResourceFlags, UlimitsApplyInAChild) {
  auto resolved = resolve_rlimits({parse_ulimit("nofile=100:200")});
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    size_t failed = 0;
    if (apply_rlimits(resolved.data(), resolved.size(), &failed) != 0) _exit(2);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    _exit(rl.rlim_cur == 100 && rl.rlim_max == 200 ? 0 : 1);
  }
  int st;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

TEST(ResourceFlags, MemoryAndDockerDefaults) {
  ResourceFlags f;
  f.memory = "64m";
  auto s = resources_from_flags(f);
  ASSERT_TRUE(s.resources.memory);
  EXPECT_EQ(*s.resources.memory->limit, 64LL << 20);
  EXPECT_EQ(*s.resources.memory->swap, 128LL << 20);  // twice the limit, as dockerd sets it
  f.memory_swap = "-1";
  EXPECT_EQ(*resources_from_flags(f).resources.memory->swap, -1);
  f.memory_swap = "100m";
  EXPECT_EQ(*resources_from_flags(f).resources.memory->swap, 100LL << 20);
  f.memory_swap = "32m";
  EXPECT_EQ(error_of([&] { resources_from_flags(f); }),
            "Minimum memoryswap limit should be larger than memory limit, see usage");
  f.memory_swap.reset();
  f.memory = "4m";
  EXPECT_EQ(error_of([&] { resources_from_flags(f); }), "Minimum memory limit allowed is 6MB");
  f.memory = "64q";
  EXPECT_EQ(error_of([&] { resources_from_flags(f); }),
            "invalid argument \"64q\" for \"-m, --memory\" flag: invalid size: '64q'");
  ResourceFlags g;
  g.memory_swap = "1g";
  EXPECT_EQ(error_of([&] { resources_from_flags(g); }),
            "You should always set the Memory limit when using Memoryswap limit, see usage");
  g = {};
  g.memory = "64m";
  g.memory_reservation = "128m";
  EXPECT_EQ(error_of([&] { resources_from_flags(g); }),
            "Minimum memory limit can not be less than memory reservation limit, see usage");
  g.memory_reservation = "32m";
  g.oom_kill_disable = true;
  s = resources_from_flags(g);
  EXPECT_EQ(*s.resources.memory->reservation, 32LL << 20);
  EXPECT_TRUE(*s.resources.memory->disable_oom_killer);
  HostInfo noswap;
  noswap.swap_accounting = false;
  s = resources_from_flags(g, noswap);
  EXPECT_FALSE(s.resources.memory->swap);

  // No flags: no limits, but Docker's device rules and rlimits.
  s = resources_from_flags(ResourceFlags{});
  EXPECT_FALSE(s.resources.memory);
  EXPECT_FALSE(s.resources.cpu);
  EXPECT_FALSE(s.resources.pids_limit);
  ASSERT_FALSE(s.resources.devices.empty());
  EXPECT_FALSE(s.resources.devices[0].allow);
  EXPECT_EQ(s.resources.devices[0].type, "a");
  ASSERT_EQ(s.rlimits.size(), 1u);
  EXPECT_EQ(s.rlimits[0].type, "RLIMIT_NOFILE");
}

TEST(ResourceFlags, Cpu) {
  HostInfo host;
  host.online_cpus = 2;
  host.cpuset_available = "0-1";
  ResourceFlags f;
  f.cpus = "0.5";
  auto s = resources_from_flags(f, host);
  ASSERT_TRUE(s.resources.cpu);
  EXPECT_EQ(*s.resources.cpu->quota, 50000);
  EXPECT_EQ(*s.resources.cpu->period, 100000u);
  f.cpus = "3";
  EXPECT_EQ(error_of([&] { resources_from_flags(f, host); }),
            "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
  f.cpus = "1";
  f.cpu_period = "50000";
  EXPECT_EQ(error_of([&] { resources_from_flags(f, host); }),
            "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  f = {};
  f.cpu_period = "500";
  EXPECT_EQ(error_of([&] { resources_from_flags(f, host); }),
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  f.cpu_period = "50000";
  f.cpu_quota = "25000";
  f.cpu_shares = "512";
  s = resources_from_flags(f, host);
  EXPECT_EQ(*s.resources.cpu->period, 50000u);
  EXPECT_EQ(*s.resources.cpu->quota, 25000);
  EXPECT_EQ(*s.resources.cpu->shares, 512u);
  f.cpu_quota = "10";
  EXPECT_EQ(error_of([&] { resources_from_flags(f, host); }), "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  f = {};
  f.cpuset_cpus = "0";
  EXPECT_EQ(resources_from_flags(f, host).resources.cpu->cpus, "0");
  f.cpuset_cpus = "0-7";
  EXPECT_EQ(error_of([&] { resources_from_flags(f, host); }),
            "Requested CPUs are not available - requested 0-7, available: 0-1");
  f.cpuset_cpus = "a";
  EXPECT_EQ(error_of([&] { resources_from_flags(f, host); }), "Invalid value a for cpuset cpus");
}

TEST(ResourceFlags, PidsAndBlkio) {
  ResourceFlags f;
  f.pids_limit = "100";
  EXPECT_EQ(*resources_from_flags(f).resources.pids_limit, 100);
  f.pids_limit = "0";
  EXPECT_FALSE(resources_from_flags(f).resources.pids_limit);
  f.pids_limit = "-1";
  EXPECT_EQ(*resources_from_flags(f).resources.pids_limit, -1);
  f = {};
  f.blkio_weight = "5";
  EXPECT_EQ(error_of([&] { resources_from_flags(f); }), "Range of blkio weight is from 10 to 1000");
  f.blkio_weight = "300";
  EXPECT_EQ(*resources_from_flags(f).resources.block_io->weight, 300);
  EXPECT_EQ(error_of([] { parse_throttle_device("/dev/sda", false); }), "bad format: /dev/sda");
  EXPECT_EQ(error_of([] { parse_throttle_device("sda:1mb", false); }), "bad format for device path: sda:1mb");
  EXPECT_EQ(error_of([] { parse_throttle_device("/dev/sda:fast", false); }),
            "invalid rate for device: /dev/sda:fast. The correct format is <device-path>:<number>[<unit>]. Number "
            "must be a positive integer. Unit is optional and can be kb, mb, or gb");
  EXPECT_EQ(error_of([] { parse_throttle_device("/dev/null:1mb", false); }), "/dev/null: not a block device");
}

TEST(ResourceFlags, Devices) {
  auto m = parse_device_flag("/dev/null");
  EXPECT_EQ(m.host_path, "/dev/null");
  EXPECT_EQ(m.container_path, "/dev/null");
  EXPECT_EQ(m.permissions, "rwm");
  m = parse_device_flag("/dev/null:r");
  EXPECT_EQ(m.container_path, "/dev/null");
  EXPECT_EQ(m.permissions, "r");
  m = parse_device_flag("/dev/null:/dev/mynull");
  EXPECT_EQ(m.container_path, "/dev/mynull");
  m = parse_device_flag("/dev/null:/dev/mynull:rw");
  EXPECT_EQ(m.permissions, "rw");
  EXPECT_EQ(error_of([] { parse_device_flag("/dev/null:/dev/x:rwx"); }), "bad mode specified: rwx");
  EXPECT_EQ(error_of([] { parse_device_flag("/dev/null:relative"); }), "bad format for path: relative");
  EXPECT_EQ(error_of([] { parse_device_flag("a:b:c:d"); }), "invalid device specification: a:b:c:d");

  auto [dev, rule] = device_from_mapping(parse_device_flag("/dev/null:/dev/mynull:rw"));
  EXPECT_EQ(dev.type, "c");
  EXPECT_EQ(dev.path, "/dev/mynull");
  EXPECT_EQ(dev.major, 1);
  EXPECT_EQ(dev.minor, 3);
  EXPECT_TRUE(rule.allow);
  EXPECT_EQ(rule.access, "rw");
  EXPECT_EQ(*rule.major, 1);
  EXPECT_EQ(error_of([] { device_from_mapping(parse_device_flag("/dev/minirun-none")); }),
            "error gathering device information while adding custom device \"/dev/minirun-none\": no such file or "
            "directory");

  auto r = parse_device_cgroup_rule("c 1:3 rwm");
  EXPECT_EQ(r.type, "c");
  EXPECT_EQ(*r.major, 1);
  EXPECT_EQ(*r.minor, 3);
  r = parse_device_cgroup_rule("b *:* m");
  EXPECT_FALSE(r.major);
  EXPECT_FALSE(r.minor);
  EXPECT_EQ(r.access, "m");
  EXPECT_EQ(error_of([] { parse_device_cgroup_rule("c 1:3 rwx"); }), "invalid device cgroup format 'c 1:3 rwx'");
  EXPECT_EQ(error_of([] { parse_device_cgroup_rule("x 1:3 r"); }), "invalid device cgroup format 'x 1:3 r'");

  ResourceFlags f;
  f.devices = {"/dev/null:/dev/mynull:rw"};
  f.device_cgroup_rules = {"c 42:* rmw"};
  f.ulimits = {"nofile=1024:2048", "nproc=64"};
  auto s = resources_from_flags(f);
  ASSERT_EQ(s.devices.size(), 1u);
  EXPECT_EQ(s.resources.devices.size(), docker_default_device_rules().size() + 2);
  EXPECT_EQ(device_rule_v1(s.resources.devices.back()), "c 42:* rmw");
  ASSERT_EQ(s.rlimits.size(), 2u);  // the default nofile replaced, nproc added
  EXPECT_EQ(s.rlimits[0].soft, 1024u);
  EXPECT_EQ(s.rlimits[1].type, "RLIMIT_NPROC");
  f.privileged = true;
  s = resources_from_flags(f);
  ASSERT_EQ(s.resources.devices.size(), 1u);
  EXPECT_EQ(device_rule_v1(s.resources.devices[0]), "a *:* rwm");
}

// --- seccomp profile ---

TEST(SeccompProfile, DefaultProfileForDockersDefaultCaps) {
  auto s = docker_default_seccomp(amd64(docker_default_capabilities()));
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(*s.default_errno_ret, 1u);
  EXPECT_EQ(s.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_TRUE(find_rule(s, "read"));
  EXPECT_TRUE(find_rule(s, "arch_prctl"));
  EXPECT_TRUE(find_rule(s, "chroot"));  // CAP_SYS_CHROOT is a default cap
  EXPECT_TRUE(find_rule(s, "ptrace"));  // kernel ≥ 4.8
  for (const char* blocked : {"unshare", "mount", "setns", "bpf", "keyctl", "add_key", "userfaultfd",
                              "perf_event_open", "kexec_load", "init_module", "swapon", "clock_settime", "reboot",
                              "open_by_handle_at", "sync_file_range2", "riscv_flush_icache", "iopl"})
    EXPECT_FALSE(find_rule(s, blocked)) << blocked;
  // clone: only without namespace flags; clone3: ENOSYS so that libcs fall back to clone.
  const auto* clone = find_rule(s, "clone");
  ASSERT_TRUE(clone);
  ASSERT_EQ(clone->args.size(), 1u);
  EXPECT_EQ(clone->args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(clone->args[0].value, 2114060288u);
  EXPECT_EQ(count_rules(s, "clone"), 1u);
  const auto* clone3 = find_rule(s, "clone3");
  ASSERT_TRUE(clone3);
  EXPECT_EQ(clone3->action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(*clone3->errno_ret, 38u);
  EXPECT_EQ(count_rules(s, "personality"), 5u);
  const auto* sock = find_rule(s, "socket");
  ASSERT_TRUE(sock);
  EXPECT_EQ(sock->args[0].op, "SCMP_CMP_NE");
  EXPECT_EQ(sock->args[0].value, 40u);  // AF_VSOCK
}

TEST(SeccompProfile, CapabilitiesArchesAndKernel) {
  auto caps = docker_default_capabilities();
  caps.push_back("CAP_SYS_ADMIN");
  auto s = docker_default_seccomp(amd64(caps));
  EXPECT_TRUE(find_rule(s, "unshare"));
  EXPECT_TRUE(find_rule(s, "mount"));
  const auto* clone = find_rule(s, "clone");
  ASSERT_TRUE(clone);
  EXPECT_TRUE(clone->args.empty());  // the masked rule is excluded with CAP_SYS_ADMIN
  EXPECT_EQ(count_rules(s, "clone"), 1u);
  EXPECT_EQ(find_rule(s, "clone3")->action, "SCMP_ACT_ALLOW");

  SeccompTarget arm = amd64({});
  arm.arch = "arm64";
  s = docker_default_seccomp(arm);
  EXPECT_EQ(s.architectures, (std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_TRUE(find_rule(s, "set_tls"));
  EXPECT_FALSE(find_rule(s, "arch_prctl"));
  EXPECT_FALSE(find_rule(s, "chroot"));  // no caps at all

  SeccompTarget old = amd64({});
  old.kernel = std::make_pair(4, 4);
  EXPECT_FALSE(find_rule(docker_default_seccomp(old), "ptrace"));
  SeccompTarget ptrace = amd64({"CAP_SYS_PTRACE"});
  ptrace.kernel = std::make_pair(4, 4);
  EXPECT_TRUE(find_rule(docker_default_seccomp(ptrace), "ptrace"));
}

TEST(SeccompProfile, DockerFormatErrorsAndOldFormat) {
  EXPECT_EQ(error_of([] {
              parse_docker_seccomp(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}]})",
                                   amd64({}));
            }),
            "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
  EXPECT_EQ(error_of([] {
              parse_docker_seccomp(R"({"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
                 "archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":[]}]})",
                                   amd64({}));
            }),
            "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or "
            "'archMap'");
  EXPECT_NE(error_of([] { parse_docker_seccomp("{not json", amd64({})); }).find("decoding seccomp profile failed"),
            std::string::npos);
  // The pre-1.12 format: architectures and one name per entry, with errnoRet and valueTwo.
  auto s = parse_docker_seccomp(R"({"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
     "syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":13,
                  "args":[{"index":1,"value":511,"valueTwo":448,"op":"SCMP_CMP_MASKED_EQ"}]}]})",
                                amd64({}));
  EXPECT_EQ(s.architectures, std::vector<std::string>{"SCMP_ARCH_X86_64"});
  ASSERT_EQ(s.syscalls.size(), 1u);
  EXPECT_EQ(s.syscalls[0].names, std::vector<std::string>{"mkdir"});
  EXPECT_EQ(*s.syscalls[0].errno_ret, 13u);
  EXPECT_EQ(s.syscalls[0].args[0].value_two, 448u);
  EXPECT_FALSE(seccomp_from_option("unconfined", amd64({})));
  EXPECT_TRUE(seccomp_from_option("", amd64({})));
  EXPECT_EQ(error_of([] { seccomp_from_option("/nonexistent/profile.json", amd64({})); }),
            "opening seccomp profile (/nonexistent/profile.json) failed: no such file");
}

// --- seccomp compilation ---

TEST(SeccompCompile, DefaultProfileCompilesAndCaches) {
  auto s = docker_default_seccomp(SeccompTarget{docker_default_capabilities(), "", std::nullopt});
  auto prog = compile_seccomp(s);
  EXPECT_GT(prog.insns.size(), 100u);
  EXPECT_LT(prog.insns.size(), static_cast<size_t>(BPF_MAXINSNS));
  // The same profile gives the same program; another capability set another key.
  EXPECT_EQ(compile_seccomp(s).insns.size(), prog.insns.size());
  auto caps = docker_default_capabilities();
  caps.push_back("CAP_SYS_ADMIN");
  auto admin = docker_default_seccomp(SeccompTarget{caps, "", std::nullopt});
  EXPECT_NE(seccomp_cache_key(s), seccomp_cache_key(admin));
  EXPECT_EQ(seccomp_cache_key(s), seccomp_cache_key(docker_default_seccomp(SeccompTarget{docker_default_capabilities(), "", std::nullopt})));

  test::TempDir dir;
  auto a = compile_seccomp_cached(admin, dir.path());
  struct stat st;
  ASSERT_EQ(::stat((dir.path() + "/" + seccomp_cache_key(admin) + ".bpf").c_str(), &st), 0);
  auto b = compile_seccomp_cached(admin, dir.path());
  ASSERT_EQ(a.insns.size(), b.insns.size());
  EXPECT_EQ(std::memcmp(a.insns.data(), b.insns.data(), a.insns.size() * sizeof(sock_filter)), 0);

  // Keyed by text, from a fresh process (the in-memory cache is per process): the file is used
  // and the profile is not built again; a file whose key differs is ignored.
  const std::string file = dir.path() + "/" + seccomp_cache_key(admin) + ".bpf";
  pid_t pid = fork();
  if (pid == 0) {
    auto p = seccomp_program_cached("probe-key", [&] { return admin; }, dir.path());
    bool built = false;
    auto q = seccomp_program_cached("probe-key", [&] { built = true; return admin; }, dir.path());
    _exit(!built && p.insns.size() == q.insns.size() && q.insns.size() == a.insns.size() ? 0 : 1);
  }
  int ws;
  waitpid(pid, &ws, 0);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  pid = fork();
  if (pid == 0) {
    bool built = false;
    auto p = seccomp_program_cached("probe-key", [&] { built = true; return admin; }, dir.path());
    _exit(!built && p.insns.size() == a.insns.size() ? 0 : 1);  // a hit from the file
  }
  waitpid(pid, &ws, 0);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  // A damaged file is ignored (and rewritten).
  test::write_file(file, "MRSC garbage");
  pid = fork();
  if (pid == 0) {
    auto p = compile_seccomp_cached(admin, dir.path());
    _exit(p.insns.size() == a.insns.size() ? 0 : 1);
  }
  waitpid(pid, &ws, 0);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  auto d1 = docker_default_seccomp_program(SeccompTarget{docker_default_capabilities(), "", std::nullopt}, dir.path());
  EXPECT_EQ(d1.insns.size(), prog.insns.size());
}

TEST(SeccompCompile, RefusesWhatItCannotCompile) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.syscalls.push_back({{"read"}, "SCMP_ACT_EXPLODE", std::nullopt, {}});
  EXPECT_EQ(error_of([&] { compile_seccomp(s); }), "seccomp: unknown action \"SCMP_ACT_EXPLODE\"");
  s.syscalls[0].action = "SCMP_ACT_ALLOW";
  s.syscalls[0].args.push_back({0, 1, 0, "SCMP_CMP_ALMOST"});
  EXPECT_EQ(error_of([&] { compile_seccomp(s); }), "seccomp: unknown operator \"SCMP_CMP_ALMOST\"");
  s.syscalls[0].args.clear();
  s.architectures = {"SCMP_ARCH_Z80"};
  EXPECT_EQ(error_of([&] { compile_seccomp(s); }), "seccomp: unknown architecture \"SCMP_ARCH_Z80\"");
  s.architectures.clear();
  s.syscalls.push_back({{"no_such_syscall_in_any_kernel"}, "SCMP_ACT_ALLOW", std::nullopt, {}});
  EXPECT_FALSE(compile_seccomp(s).empty());  // unknown names are skipped, as runc does
}

TEST(SeccompCompile, FilterInstalledInAChildBlocksUnshare) {
  // With no_new_privs, seccomp(2) needs no privilege: this runs as any user.
  auto prog = compile_seccomp(docker_default_seccomp(SeccompTarget{docker_default_capabilities(), "", std::nullopt}));
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(p[0]);
    int res[3];
    res[0] = install_seccomp(prog, true);
    res[1] = syscall(SYS_unshare, CLONE_NEWUSER) == 0 ? 0 : errno;
    res[2] = syscall(SYS_getpid) > 0 ? 0 : errno;
    (void)!write(p[1], res, sizeof res);
    _exit(0);
  }
  close(p[1]);
  int res[3] = {-1, -1, -1};
  ASSERT_EQ(read(p[0], res, sizeof res), static_cast<ssize_t>(sizeof res));
  close(p[0]);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(res[0], 0);
  EXPECT_EQ(res[1], EPERM);
  EXPECT_EQ(res[2], 0);
}

// --- cgroups (pure parts) ---

TEST(Cgroups, DetectsHybridAsV1AndPureV2) {
  const std::string hybrid =
      "25 24 0:23 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
      "26 25 0:24 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw\n"
      "27 25 0:25 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
      "28 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw shared:12 - cgroup cgroup rw,cpu,cpuacct\n"
      "29 25 0:27 / /sys/fs/cgroup/memory rw shared:13 - cgroup cgroup rw,memory\n"
      "30 25 0:28 / /sys/fs/cgroup/pids rw shared:14 - cgroup cgroup rw,pids\n";
  auto h = CgroupHierarchy::from_mountinfo(hybrid);
  EXPECT_EQ(h.mode, CgroupHierarchy::Mode::v1);
  EXPECT_EQ(h.v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(h.v1.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(h.v1.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_FALSE(h.has_v1("systemd"));
  EXPECT_EQ(h.v2_root, "/sys/fs/cgroup/unified");

  auto v2 = CgroupHierarchy::from_mountinfo("30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
  EXPECT_EQ(v2.mode, CgroupHierarchy::Mode::v2);
  EXPECT_EQ(v2.v2_root, "/sys/fs/cgroup");
  EXPECT_EQ(CgroupHierarchy::from_mountinfo("").mode, CgroupHierarchy::Mode::none);
  // A mount point with a blank, escaped as \040.
  auto esc = CgroupHierarchy::from_mountinfo("30 24 0:26 / /tmp/my\\040cg rw - cgroup2 cgroup2 rw\n");
  EXPECT_EQ(esc.v2_root, "/tmp/my cg");
}

TEST(Cgroups, Conversions) {
  EXPECT_EQ(cpu_shares_to_weight(2), 1u);
  EXPECT_EQ(cpu_shares_to_weight(1024), 39u);  // runc's value for Docker's default shares
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000u);
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
  EXPECT_EQ(device_rule_v1(parse_device_cgroup_rule("c 1:3 rwm")), "c 1:3 rwm");
  DeviceRule all;
  EXPECT_EQ(device_rule_v1(all), "a *:* rwm");
  EXPECT_EQ(container_cgroup_path("abc"), "minirun/abc");
  EXPECT_EQ(container_cgroup_path("abc", "/my/parent/"), "/my/parent/abc");
}

namespace {

// Runs a cgroup device program on one request: the subset of eBPF the generator emits.
int run_device_program(const std::vector<BpfInsn>& prog, int type, int access, uint32_t major, uint32_t minor) {
  uint32_t ctx[3] = {static_cast<uint32_t>(access << 16 | type), major, minor};
  uint64_t r[11] = {};
  for (size_t pc = 0; pc < prog.size(); pc++) {
    const BpfInsn& in = prog[pc];
    const int dst = in.regs & 0xf, src = in.regs >> 4;
    const uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(in.imm));
    switch (in.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        if (src != 1 || in.off % 4 || in.off < 0 || in.off > 8) return -100;
        r[dst] = ctx[in.off / 4];
        break;
      case BPF_ALU64 | BPF_AND | BPF_K: r[dst] &= imm; break;
      case BPF_ALU64 | BPF_RSH | BPF_K: r[dst] >>= imm; break;
      case BPF_ALU64 | BPF_MOV | BPF_K: r[dst] = imm; break;
      case BPF_ALU64 | BPF_MOV | BPF_X: r[dst] = r[src]; break;
      case BPF_JMP | BPF_JNE | BPF_K: if (r[dst] != imm) pc += in.off; break;
      case BPF_JMP | BPF_JEQ | BPF_K: if (r[dst] == imm) pc += in.off; break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(r[0]);
      default: return -101;
    }
  }
  return -102;  // fell off the end
}

}  // namespace

TEST(Cgroups, DeviceFilterProgramSemantics) {
  const int C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK;
  const int R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;
  auto prog = device_filter_program(docker_default_device_rules());
  EXPECT_EQ(run_device_program(prog, C, R | W, 1, 3), 1);   // /dev/null
  EXPECT_EQ(run_device_program(prog, C, R, 1, 9), 1);       // /dev/urandom
  EXPECT_EQ(run_device_program(prog, C, R, 136, 7), 1);     // /dev/pts/7
  EXPECT_EQ(run_device_program(prog, C, R, 1, 1), 0);       // /dev/mem
  EXPECT_EQ(run_device_program(prog, B, R | W, 8, 0), 0);   // /dev/sda
  EXPECT_EQ(run_device_program(prog, B, M, 8, 0), 1);       // mknod is allowed, opening is not
  auto rules = docker_default_device_rules();
  rules.push_back(parse_device_cgroup_rule("b 8:0 r"));
  prog = device_filter_program(rules);
  EXPECT_EQ(run_device_program(prog, B, R, 8, 0), 1);
  EXPECT_EQ(run_device_program(prog, B, R | W, 8, 0), 0);  // write not in the rule
  EXPECT_EQ(run_device_program(prog, B, R, 8, 1), 0);
  // Allow everything, then deny writes to 1:3: the last rule wins.
  DeviceRule allow_all;
  allow_all.allow = true;
  DeviceRule deny_w;
  deny_w.type = "c", deny_w.major = 1, deny_w.minor = 3, deny_w.access = "w";
  prog = device_filter_program({allow_all, deny_w});
  EXPECT_EQ(run_device_program(prog, C, R, 1, 3), 1);
  EXPECT_EQ(run_device_program(prog, C, R | W, 1, 3), 0);
  EXPECT_EQ(run_device_program(prog, B, W, 8, 0), 1);
  EXPECT_EQ(run_device_program(device_filter_program({}), C, R, 1, 3), 0);  // no rule: deny
}

// --- update: only the limits given change, with run's checks and Docker's update messages ---

TEST(ResourceUpdate, MergesOnlyWhatIsGiven) {
  HostInfo host;
  host.online_cpus = 4;
  host.cpuset_available = "0-3";
  ResourceFlags start;
  start.memory = "64m";
  start.pids_limit = "30";
  start.cpu_shares = "512";
  Resources cur = resources_from_flags(start, host).resources;
  ASSERT_TRUE(cur.memory && cur.memory->swap);
  EXPECT_EQ(*cur.memory->swap, 128 << 20);

  ResourceFlags u;
  u.pids_limit = "50";
  Resources m = merge_resource_update(cur, u, host);
  EXPECT_EQ(m.pids_limit, 50);
  EXPECT_EQ(m.memory->limit, 64 << 20);   // untouched
  EXPECT_EQ(m.memory->swap, 128 << 20);
  EXPECT_EQ(m.cpu->shares, 512u);
  EXPECT_TRUE(m.devices.empty());  // device rules are start's, never rewritten by update

  u = {};
  u.cpus = "1.5";
  m = merge_resource_update(cur, u, host);
  EXPECT_EQ(m.cpu->period, 100000u);
  EXPECT_EQ(m.cpu->quota, 150000);
  EXPECT_EQ(m.cpu->shares, 512u);

  u = {};
  u.memory = "100m";  // under memory+swap (128m): fine, swap kept
  m = merge_resource_update(cur, u, host);
  EXPECT_EQ(m.memory->limit, 100 << 20);
  EXPECT_EQ(m.memory->swap, 128 << 20);

  u.memory = "200m";  // over it: Docker's message
  try {
    merge_resource_update(cur, u, host);
    ADD_FAILURE() << "accepted a memory limit above memory+swap";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Memory limit should be smaller than already set memoryswap limit"), std::string::npos);
  }
  u.memory_swap = "400m";
  m = merge_resource_update(cur, u, host);
  EXPECT_EQ(m.memory->limit, 200 << 20);
  EXPECT_EQ(m.memory->swap, 400 << 20);

  u = {};
  u.memory_swap = "32m";  // below the current 64m limit: run's own check
  EXPECT_THROW(merge_resource_update(cur, u, host), Error);
  u = {};
  u.cpus = "9";  // more than the host has
  EXPECT_THROW(merge_resource_update(cur, u, host), Error);
  u = {};
  u.devices = {"/dev/null"};
  EXPECT_THROW(merge_resource_update(cur, u, host), Error);
  u = {};
  u.pids_limit = "-1";
  EXPECT_EQ(merge_resource_update(cur, u, host).pids_limit, -1);
}

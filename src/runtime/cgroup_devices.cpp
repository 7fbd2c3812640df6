// cgroup_devices.cpp — cgroup v2's device controller: a BPF_PROG_TYPE_CGROUP_DEVICE program
// built from the spec's rules and attached with the raw bpf(2) calls (no libbpf), as runc and
// crun do.
//
// The program reads the request from struct bpf_cgroup_dev_ctx (access_type = access << 16 |
// type, major, minor) and tests the rules from the last to the first: the first match decides,
// which gives v1's "the last rule written wins" semantics; no match denies. An allow rule matches
// when every requested access bit is in the rule ("rw" for a read), a deny rule when any is (a
// deny of "w" refuses an open for "rw"). Attaching uses BPF_F_ALLOW_MULTI and then detaches the
// programs attached before, so an update never leaves a window without a filter.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "minirun/runtime/cgroups.h"
#include "minirun/util/error.h"

namespace minirun::runtime {

static_assert(sizeof(BpfInsn) == sizeof(struct bpf_insn), "BpfInsn must match struct bpf_insn");

namespace {

BpfInsn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  return BpfInsn{code, static_cast<uint8_t>((dst & 0xf) | ((src & 0xf) << 4)), off, imm};
}

constexpr uint8_t R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

BpfInsn ldx_w(uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
BpfInsn and_k(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm); }
BpfInsn rsh_k(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm); }
BpfInsn mov_x(uint8_t dst, uint8_t src) { return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
BpfInsn mov_k(uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
BpfInsn jne_k(uint8_t dst, int32_t imm, int16_t off) { return insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm); }
BpfInsn jeq_k(uint8_t dst, int32_t imm, int16_t off) { return insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm); }
BpfInsn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

int access_mask(const std::string& access) {
  int m = 0;
  for (char c : access.empty() ? std::string("rwm") : access) {
    if (c == 'r') m |= BPF_DEVCG_ACC_READ;
    else if (c == 'w') m |= BPF_DEVCG_ACC_WRITE;
    else if (c == 'm') m |= BPF_DEVCG_ACC_MKNOD;
    else throw Error("device rule: access \"" + access + "\": only r, w and m are allowed");
  }
  return m;
}

long bpf(int cmd, union bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr)); }

}  // namespace

std::vector<BpfInsn> device_filter_program(const std::vector<DeviceRule>& rules) {
  std::vector<BpfInsn> p = {
      ldx_w(R2, R1, 0), and_k(R2, 0xffff),  // type
      ldx_w(R3, R1, 0), rsh_k(R3, 16),      // access
      ldx_w(R4, R1, 4),                     // major
      ldx_w(R5, R1, 8),                     // minor
  };
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    const DeviceRule& r = *it;
    std::vector<BpfInsn> block;  // jumps use off = INT16_MIN as "to the end of this block"
    constexpr int16_t kNext = INT16_MIN;
    const std::string type = r.type.empty() ? "a" : r.type;
    if (type == "c")
      block.push_back(jne_k(R2, BPF_DEVCG_DEV_CHAR, kNext));
    else if (type == "b")
      block.push_back(jne_k(R2, BPF_DEVCG_DEV_BLOCK, kNext));
    else if (type != "a")
      throw Error("device rule: type \"" + r.type + "\": must be a, b or c");
    const int mask = access_mask(r.access);
    if (mask != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
      block.push_back(mov_x(R1, R3));
      if (r.allow) {  // requested ⊆ rule
        block.push_back(and_k(R1, ~mask & 0xffff));
        block.push_back(jne_k(R1, 0, kNext));
      } else {  // requested ∩ rule ≠ ∅
        block.push_back(and_k(R1, mask));
        block.push_back(jeq_k(R1, 0, kNext));
      }
    }
    if (r.major && *r.major >= 0) block.push_back(jne_k(R4, static_cast<int32_t>(*r.major), kNext));
    if (r.minor && *r.minor >= 0) block.push_back(jne_k(R5, static_cast<int32_t>(*r.minor), kNext));
    block.push_back(mov_k(R0, r.allow ? 1 : 0));
    block.push_back(exit_insn());
    bool conditional = false;
    for (size_t i = 0; i < block.size(); i++)
      if (block[i].off == kNext) {
        block[i].off = static_cast<int16_t>(block.size() - i - 1);
        conditional = true;
      }
    p.insert(p.end(), block.begin(), block.end());
    // A rule that matches everything decides every request: the verifier refuses the
    // unreachable rest.
    if (!conditional) return p;
  }
  p.push_back(mov_k(R0, 0));
  p.push_back(exit_insn());
  return p;
}

void attach_device_filter(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules) {
  const auto prog = device_filter_program(rules);
  int cg = ::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) throw sys_error(cgroup_dir + ": open");
  // Programs attached before (an update): detached once the new one is in place.
  uint32_t old_ids[64];
  uint32_t old_count = 64;
  {
    union bpf_attr a;
    std::memset(&a, 0, sizeof a);
    a.query.target_fd = static_cast<uint32_t>(cg);
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = reinterpret_cast<uint64_t>(old_ids);
    a.query.prog_cnt = old_count;
    old_count = bpf(BPF_PROG_QUERY, &a) == 0 ? a.query.prog_cnt : 0;
  }
  char log[4096];
  log[0] = 0;
  union bpf_attr a;
  std::memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = reinterpret_cast<uint64_t>(prog.data());
  a.insn_cnt = static_cast<uint32_t>(prog.size());
  static const char license[] = "Apache";
  a.license = reinterpret_cast<uint64_t>(license);
  a.log_buf = reinterpret_cast<uint64_t>(log);
  a.log_size = sizeof log;
  a.log_level = 1;
  int fd = static_cast<int>(bpf(BPF_PROG_LOAD, &a));
  if (fd < 0 && errno == ENOSPC) {  // log too small: load again without one
    a.log_buf = 0, a.log_size = 0, a.log_level = 0;
    fd = static_cast<int>(bpf(BPF_PROG_LOAD, &a));
  }
  if (fd < 0) {
    int err = errno;
    ::close(cg);
    throw sys_error(cgroup_dir + ": device filter: BPF_PROG_LOAD" + (log[0] ? std::string(" (") + log + ")" : ""), err);
  }
  std::memset(&a, 0, sizeof a);
  a.target_fd = static_cast<uint32_t>(cg);
  a.attach_bpf_fd = static_cast<uint32_t>(fd);
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &a) != 0) {
    int err = errno;
    ::close(fd);
    ::close(cg);
    throw sys_error(cgroup_dir + ": device filter: BPF_PROG_ATTACH", err);
  }
  ::close(fd);  // the cgroup holds the program now
  for (uint32_t i = 0; i < old_count && i < 64; i++) {
    union bpf_attr g;
    std::memset(&g, 0, sizeof g);
    g.prog_id = old_ids[i];
    int ofd = static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, &g));
    if (ofd < 0) continue;
    union bpf_attr dt;
    std::memset(&dt, 0, sizeof dt);
    dt.target_fd = static_cast<uint32_t>(cg);
    dt.attach_bpf_fd = static_cast<uint32_t>(ofd);
    dt.attach_type = BPF_CGROUP_DEVICE;
    bpf(BPF_PROG_DETACH, &dt);
    ::close(ofd);
  }
  ::close(cg);
}

}  // namespace minirun::runtime

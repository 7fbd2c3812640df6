// nft_elements.cpp — a container's published ports as elements of minirun's dnat maps, through
// libnftnl (the messages) and libmnl (the socket): one NFT_MSG_NEWSETELEM or DELSETELEM message
// per map, in one nfnetlink batch (one transaction: all or nothing).
//
// Why not libnftables, as for the table: its load (~1 ms), context (~2 ms: it reads
// /etc/iproute2, sets up its caches) and parser, run per container, were most of the 14 ms that
// `-p` cost. The elements are fixed-size bytes (nft.cpp's map types), built here directly:
//   dnat_tcp|udp       key  port (2 bytes, network order)
//   dnat_addr_tcp|udp  key  ip (4) . port (2 + 2 padding): concatenations pad each field to 4
//   data (both)        ip (4) . port (2 + 2 padding)
// with the container id as the element's comment (user data type NFTNL_UDATA_SET_ELEM_COMMENT,
// as `nft` writes it: recovery reads it back with `nft -j list map`).
//
// libnftnl ships a static archive but libmnl, which it calls, does not: both are dlopen()ed
// (libnftnl.so.11 brings libmnl.so.0; ~0.5 ms, once per process, only by runs with -p), the way
// nft.cpp loads libnftables.
//
// Closing the socket: when an nfnetlink socket is released, nf_tables (nft_rcv_nl_event,
// NETLINK_URELEASE) first flushes the kernel's pending transaction destruction — of any
// transaction in the system — which for deleted elements waits for an RCU grace period (5–25
// ms here, more under load). A `run --rm -p` process deleting its elements at the container's
// exit would spend that in exit_group, after the container is gone, where the user waits. So a
// socket that deleted elements is handed to a holder: a process sharing our memory (CLONE_VM:
// no copy), with no other descriptor, that waits one grace period itself (membarrier, i.e.
// synchronize_rcu) plus a margin and then exits, closing the socket when there is nothing left
// to flush. It blocks every signal but SIGKILL and runs nothing of ours but raw syscalls.
#include "minirun/network/nft_elements.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/membarrier.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "minirun/util/dynlib.h"
#include "minirun/util/error.h"

namespace minirun::network {

namespace {

struct Api {
  decltype(&nftnl_set_alloc) set_alloc;
  decltype(&nftnl_set_free) set_free;
  decltype(&nftnl_set_set_str) set_set_str;
  decltype(&nftnl_set_elem_alloc) elem_alloc;
  decltype(&nftnl_set_elem_set) elem_set;
  decltype(&nftnl_set_elem_add) elem_add;
  decltype(&nftnl_batch_begin) batch_begin;
  decltype(&nftnl_batch_end) batch_end;
  decltype(&nftnl_nlmsg_build_hdr) build_hdr;
  decltype(&nftnl_set_elems_nlmsg_build_payload) elems_payload;
  decltype(&nftnl_udata_buf_alloc) udata_alloc;
  decltype(&nftnl_udata_buf_free) udata_free;
  decltype(&nftnl_udata_put_strz) udata_put_strz;
  decltype(&nftnl_udata_buf_data) udata_data;
  decltype(&nftnl_udata_buf_len) udata_len;
  decltype(&mnl_socket_open) sock_open;
  decltype(&mnl_socket_bind) sock_bind;
  decltype(&mnl_socket_get_fd) sock_fd;
  decltype(&mnl_socket_get_portid) sock_portid;
  decltype(&mnl_socket_close) sock_close;
};

const BoundLibrary<Api>& load_api() {
  return bind_once<Api>("libnftnl.so.11", "published ports need libnftnl (Debian: apt-get install libnftnl11)",
                        [](DynLib& lib, Api& a) {
                          // (dlsym searches libnftnl's dependencies too: libmnl.so.0's functions come with it.)
                          lib.bind(a.set_alloc, "nftnl_set_alloc");
                          lib.bind(a.set_free, "nftnl_set_free");
                          lib.bind(a.set_set_str, "nftnl_set_set_str");
                          lib.bind(a.elem_alloc, "nftnl_set_elem_alloc");
                          lib.bind(a.elem_set, "nftnl_set_elem_set");
                          lib.bind(a.elem_add, "nftnl_set_elem_add");
                          lib.bind(a.batch_begin, "nftnl_batch_begin");
                          lib.bind(a.batch_end, "nftnl_batch_end");
                          lib.bind(a.build_hdr, "nftnl_nlmsg_build_hdr");
                          lib.bind(a.elems_payload, "nftnl_set_elems_nlmsg_build_payload");
                          lib.bind(a.udata_alloc, "nftnl_udata_buf_alloc");
                          lib.bind(a.udata_free, "nftnl_udata_buf_free");
                          lib.bind(a.udata_put_strz, "nftnl_udata_put_strz");
                          lib.bind(a.udata_data, "nftnl_udata_buf_data");
                          lib.bind(a.udata_len, "nftnl_udata_buf_len");
                          lib.bind(a.sock_open, "mnl_socket_open");
                          lib.bind(a.sock_bind, "mnl_socket_bind");
                          lib.bind(a.sock_fd, "mnl_socket_get_fd");
                          lib.bind(a.sock_portid, "mnl_socket_get_portid");
                          lib.bind(a.sock_close, "mnl_socket_close");
                          return std::string();
                        });
}

const Api& api() {
  const auto& bound = load_api();
  if (!bound.api) throw Error(bound.failure);
  return *bound.api;
}

// ---- the holder (see the top of the file) ----

constexpr int kHolders = 64;
constexpr size_t kStack = 16 * 1024;
alignas(64) char g_holder_stacks[kHolders][kStack];
// A holder's tid while it runs: set by the kernel at clone (CLONE_PARENT_SETTID), cleared by it
// when the holder has exited (CLONE_CHILD_CLEARTID), so a slot's stack is reused only then.
pid_t g_holder_tid[kHolders];
pid_t g_holder_pid[kHolders];  // ours, to reap it once it is gone (0: nothing to reap)
std::mutex g_holder_mu;

// Runs on its own stack in our memory: raw syscalls only, no library state touched.
int holder_main(void* arg) {
  long v = reinterpret_cast<long>(arg);
  int fd = static_cast<int>(v);
  if (fd > 0) ::syscall(SYS_close_range, 0u, static_cast<unsigned>(fd - 1), 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(fd + 1), ~0u, 0u);
  // One grace period of our own (the deleted elements' destruction waits for one that began
  // earlier), then a margin for the workqueue that frees them.
  struct timespec margin {0, 50 * 1000 * 1000};
  if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0u, 0) != 0) margin = {1, 0};
  ::syscall(SYS_nanosleep, &margin, nullptr);
  return 0;  // glibc's clone exits the thread with this
}

// Hands fd to a holder; false when none could be made (then the caller closes it itself). The
// holder is our child with no exit signal: we do not wait for it to be scheduled; when we exit
// first (a `run`), init reaps it; a long-lived caller (the monitor, tests) reaps finished ones
// here, at the next hand-over.
bool hand_to_holder(int fd) {
  std::lock_guard<std::mutex> g(g_holder_mu);
  int slot = -1;
  for (int i = 0; i < kHolders; i++) {
    if (__atomic_load_n(&g_holder_tid[i], __ATOMIC_ACQUIRE) != 0) continue;
    if (g_holder_pid[i] > 0) {
      if (::waitpid(g_holder_pid[i], nullptr, __WALL | WNOHANG) == 0) continue;  // exiting still
      g_holder_pid[i] = 0;
    }
    if (slot < 0) slot = i;
  }
  if (slot < 0) return false;
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);  // the holder starts (and stays) with all blocked
  long fdv = fd;
  pid_t p = ::clone(holder_main, g_holder_stacks[slot] + kStack, CLONE_VM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
                    reinterpret_cast<void*>(fdv), &g_holder_tid[slot], nullptr, &g_holder_tid[slot]);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (p < 0) return false;
  g_holder_pid[slot] = p;
  return true;
}

// ---- the socket ----

// One socket per process and network namespace, opened on first use; replaced after a delete
// (the old one goes to a holder). Calls are serialized.
struct Conn {
  mnl_socket* sock = nullptr;
  ino_t ns = 0;
  uint32_t seq = 0;
};
Conn g_conn;
std::mutex g_conn_mu;

ino_t thread_netns() {
  struct stat st {};
  ::stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

void close_conn(const Api& a, bool deleted) {
  if (!g_conn.sock) return;
  if (deleted) {
    int fd = a.sock_fd(g_conn.sock);
    hand_to_holder(fd);  // if it fails, the close below pays the wait
  }
  a.sock_close(g_conn.sock);
  g_conn.sock = nullptr;
}

mnl_socket* conn(const Api& a) {
  ino_t ns = thread_netns();
  if (g_conn.sock && g_conn.ns == ns) return g_conn.sock;
  close_conn(a, false);
  mnl_socket* s = a.sock_open(NETLINK_NETFILTER);
  if (!s) throw sys_error("nftables: netlink socket");
  if (a.sock_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    a.sock_close(s);
    throw sys_error("nftables: netlink bind", e);
  }
  int one = 1;  // errors without a copy of the (possibly large) message they answer
  ::setsockopt(a.sock_fd(s), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  g_conn.sock = s;
  g_conn.ns = ns;
  if (g_conn.seq == 0) g_conn.seq = static_cast<uint32_t>(::getpid()) << 8;
  return s;
}

// ---- messages ----

struct Elem {
  unsigned char key[8];
  uint32_t key_len;
  unsigned char data[8];
};

struct MapElems {
  std::string map;
  std::vector<Elem> elems;
};

Elem elem_of(const PortMapping& m, Ip4 container_ip) {
  Elem e{};
  uint16_t hp = htons(m.host_port);
  if (m.host_ip.empty()) {
    std::memcpy(e.key, &hp, 2);
    e.key_len = 2;
  } else {
    auto ip = parse_ip(m.host_ip);
    if (!ip) throw Error("invalid host address \"" + m.host_ip + "\"");
    uint32_t n = htonl(*ip);
    std::memcpy(e.key, &n, 4);
    std::memcpy(e.key + 4, &hp, 2);
    e.key_len = 8;
  }
  uint32_t cip = htonl(container_ip);
  uint16_t cp = htons(m.container_port);
  std::memcpy(e.data, &cip, 4);
  std::memcpy(e.data + 4, &cp, 2);
  return e;
}

std::string map_of(const PortMapping& m) { return (m.host_ip.empty() ? "dnat_" : "dnat_addr_") + m.proto; }

std::vector<MapElems> group(const std::vector<PortMapping>& ports, Ip4 ip) {
  std::vector<MapElems> out;
  for (const auto& p : ports) {
    std::string map = map_of(p);
    auto it = std::find_if(out.begin(), out.end(), [&](const MapElems& g) { return g.map == map; });
    if (it == out.end()) it = out.insert(out.end(), MapElems{map, {}});
    it->elems.push_back(elem_of(p, ip));
  }
  return out;
}

// One transaction: a NEWSETELEM (create: an existing key is an error) or DELSETELEM message per
// map. Returns 0 or the first error's errno.
int transact(const std::string& table, const std::vector<MapElems>& maps, bool add, const std::string& comment) {
  const Api& a = api();
  std::lock_guard<std::mutex> g(g_conn_mu);
  mnl_socket* s = conn(a);
  size_t n_elems = 0;
  for (const auto& m : maps) n_elems += m.elems.size();
  std::vector<char> buf(4096 + n_elems * (160 + comment.size()));
  size_t off = 0;
  auto next = [&](nlmsghdr* h) { off += NLMSG_ALIGN(h->nlmsg_len); };
  uint32_t begin = g_conn.seq;
  next(a.batch_begin(buf.data() + off, g_conn.seq++));
  uint32_t first = g_conn.seq;
  nftnl_udata_buf* ud = nullptr;
  if (add && !comment.empty()) {
    ud = a.udata_alloc(static_cast<uint32_t>(comment.size() + 16));
    a.udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, comment.c_str());
  }
  for (const auto& m : maps) {
    nftnl_set* set = a.set_alloc();
    a.set_set_str(set, NFTNL_SET_TABLE, table.c_str());
    a.set_set_str(set, NFTNL_SET_NAME, m.map.c_str());
    for (const auto& e : m.elems) {
      nftnl_set_elem* el = a.elem_alloc();
      a.elem_set(el, NFTNL_SET_ELEM_KEY, e.key, e.key_len);
      if (add) {
        a.elem_set(el, NFTNL_SET_ELEM_DATA, e.data, 8);
        if (ud) a.elem_set(el, NFTNL_SET_ELEM_USERDATA, a.udata_data(ud), a.udata_len(ud));
      }
      a.elem_add(set, el);
    }
    nlmsghdr* h = a.build_hdr(buf.data() + off, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, NFPROTO_IPV4,
                              static_cast<uint16_t>((add ? NLM_F_CREATE | NLM_F_EXCL : 0) | NLM_F_ACK), g_conn.seq++);
    a.elems_payload(h, set);
    a.set_free(set);
    next(h);
  }
  if (ud) a.udata_free(ud);
  uint32_t last = g_conn.seq - 1;
  next(a.batch_end(buf.data() + off, g_conn.seq++));

  int fd = a.sock_fd(s);
  if (off > 200 * 1024) {
    int sz = static_cast<int>(off);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  }
  if (::send(fd, buf.data(), off, 0) != static_cast<ssize_t>(off)) {
    int e = errno;
    close_conn(a, false);
    throw sys_error("nftables: netlink send", e);
  }
  // The kernel answers every message with NLM_F_ACK (an ack or its error) once the batch is
  // processed, before send returns; poll guards against a kernel that does not.
  int err = 0;
  size_t answers = 0;
  char rb[8192];
  while (answers < maps.size()) {
    struct pollfd p {fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) {
      close_conn(a, false);
      throw Error("nftables: no answer from the kernel");
    }
    ssize_t r = ::recv(fd, rb, sizeof rb, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close_conn(a, false);
      throw sys_error("nftables: netlink receive", e);
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(rb); NLMSG_OK(h, static_cast<unsigned>(r)); h = NLMSG_NEXT(h, r)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
      if (h->nlmsg_seq == begin && e->error != 0) {  // the whole batch refused (EPERM, no nf_tables)
        err = -e->error;
        answers = maps.size();
        break;
      }
      if (h->nlmsg_seq < first || h->nlmsg_seq > last) continue;  // an earlier call's straggler
      if (e->error != 0 && err == 0) err = -e->error;
      answers++;
    }
  }
  if (!add && err == 0) close_conn(a, true);  // see the top of the file
  return err;
}

std::string describe(const PortMapping& p) {
  return (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":" + std::to_string(p.host_port) + "/" + p.proto;
}

}  // namespace

bool nftnl_available() { return load_api().api != nullptr; }

bool add_port_elements(const std::string& table, const std::string& cid, Ip4 ip, const std::vector<PortMapping>& ports) {
  if (ports.empty()) return true;
  int err = transact(table, group(ports, ip), true, cid);
  if (err == 0) return true;
  if (err == ENOENT) return false;
  if (err == EEXIST) {
    std::string which;
    for (const auto& p : ports) which += (which.empty() ? "" : ", ") + describe(p);
    throw Error("Bind for " + which + " failed: port is already allocated");
  }
  throw Error(std::string("nftables: adding published ports: ") + std::strerror(err));
}

void delete_port_elements(const std::string& table, const std::vector<PortMapping>& ports) {
  if (ports.empty()) return;
  if (transact(table, group(ports, 0), false, "") == 0) return;
  int last = 0;
  for (const auto& p : ports) {
    int e = transact(table, group({p}, 0), false, "");
    if (e != 0 && e != ENOENT) last = e;
  }
  if (last != 0) throw Error(std::string("nftables: deleting published ports: ") + std::strerror(last));
}

void delete_port_element(const std::string& table, const std::string& map, const std::string& key) {
  PortMapping p;
  p.proto = map.size() > 4 && map.compare(map.size() - 3, 3, "udp") == 0 ? "udp" : "tcp";
  std::string port = key;
  if (auto dot = key.find(" . "); dot != std::string::npos) {
    p.host_ip = key.substr(0, dot);
    port = key.substr(dot + 3);
  }
  p.host_port = static_cast<uint16_t>(std::stoul(port));
  int e = transact(table, group({p}, 0), false, "");
  if (e != 0 && e != ENOENT) throw Error(std::string("nftables: deleting ") + map + " " + key + ": " + std::strerror(e));
}

}  // namespace minirun::network

// cgroup_task.cpp — see cgroup_task.h. The thread touches only this object and the cgroup file
// systems. A vfork-like child may run beside it (after deliver()): they share the heap, whose
// locks work across the shared memory, and nothing else; what the child needs from the thread
// comes over the socket, so a child with a copy of the memory gets it the same way.
#include "minirun/runtime/cgroup_task.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "minirun/runtime/mounts.h"
#include "minirun/util/error.h"

namespace minirun::runtime {

CgroupTask::CgroupTask(std::string path) : path_(std::move(path)) {
  thread_ = std::thread([this] {
    try {
      made_.emplace(Cgroup::create(path_, Resources{}));
      join_fds_ = made_->open_join_files();
      if (made_->mode() == CgroupHierarchy::Mode::v1) sources_ = made_->v1_mount_sources();
    } catch (...) {
      error_ = std::current_exception();
    }
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return next_ != Next::wait; });
    if (next_ != Next::deliver) return;
    l.unlock();
    if (!error_) {
      try {
        made_->apply(*res_);
      } catch (...) {
        error_ = std::current_exception();
      }
    }
    if (!error_ && tree_ro_ && made_->mode() == CgroupHierarchy::Mode::v1) tree_ = make_cgroup_v1_tree(sources_, *tree_ro_);
    try {
      send(!error_);
    } catch (...) {  // (out of memory building the message) the child sees the socket close: it fails
      if (!error_) error_ = std::current_exception();
      ::close(std::exchange(sock_, -1));
    }
    // Then the same thread removes the group after the exit (destroy_later), or just ends.
    l.lock();
    sent_ = true;
    cv_.notify_all();
    cv_.wait(l, [this] { return doomed_ || quit_; });
    if (!doomed_) return;
    l.unlock();
    try {
      doomed_->destroy();
    } catch (...) {
    }
  });
}

// One message: the byte, the descriptors, the sources. A child that is gone already (its setup
// failed) makes the send fail: nothing to do then.
void CgroupTask::send(bool ok) {
  std::string payload(1, ok ? '\1' : '\0');
  std::vector<int> fds;
  if (ok) {
    payload += tree_ >= 0 ? '\1' : '\0';
    for (const auto& [dir, src] : sources_) payload += dir + '\0' + src + '\0';
    fds = join_fds_;
    if (tree_ >= 0) fds.push_back(tree_);
  }
  struct iovec iov = {payload.data(), payload.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  while (::sendmsg(sock_, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
  ::close(sock_);
  sock_ = -1;
  for (int fd : std::exchange(join_fds_, {})) ::close(fd);
  if (tree_ >= 0) ::close(tree_);
  tree_ = -1;
}

void CgroupTask::deliver(Resources res, int sock, std::optional<bool> v1_tree_read_only) {
  std::lock_guard<std::mutex> l(mu_);
  res_ = std::move(res);
  tree_ro_ = v1_tree_read_only;
  sock_ = sock;
  next_ = Next::deliver;
  cv_.notify_one();
}

void CgroupTask::join() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (next_ == Next::wait) next_ = Next::done;
    quit_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

Cgroup CgroupTask::take() {
  {
    std::unique_lock<std::mutex> l(mu_);
    if (next_ == Next::deliver && thread_.joinable()) cv_.wait(l, [this] { return sent_; });
  }
  if (next_ != Next::deliver) join();
  if (error_) std::rethrow_exception(error_);
  if (taken_ || !made_) throw Error("cgroup " + path_ + ": taken twice");
  taken_ = true;
  return *made_;
}

std::vector<int> CgroupTask::take_join_files() { return std::exchange(join_fds_, {}); }

void CgroupTask::destroy_later(Cgroup group) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (next_ == Next::deliver && sent_ && !quit_ && thread_.joinable()) {  // the thread waits for it
      doomed_.emplace(std::move(group));
      cv_.notify_all();
      return;
    }
  }
  join();
  thread_ = std::thread([g = std::move(group)]() mutable {
    try {
      g.destroy();
    } catch (...) {
    }
  });
}

CgroupTask::~CgroupTask() {
  join();
  if (sock_ >= 0) ::close(sock_);
  if (tree_ >= 0) ::close(tree_);
  for (int fd : join_fds_) ::close(fd);
  if (made_ && !taken_) {
    try {
      made_->destroy();
    } catch (...) {
    }
  }
}

}  // namespace minirun::runtime

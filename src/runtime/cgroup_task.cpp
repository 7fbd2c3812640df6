// cgroup_task.cpp — see cgroup_task.h. The thread touches only this object and the cgroup file
// systems; the runtime's vfork-like child never runs beside the creation (take() joins first).
#include "minirun/runtime/cgroup_task.h"

#include <unistd.h>

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
  });
}

void CgroupTask::join() {
  if (thread_.joinable()) thread_.join();
}

Cgroup CgroupTask::take() {
  join();
  if (error_) std::rethrow_exception(error_);
  if (taken_ || !made_) throw Error("cgroup " + path_ + ": taken twice");
  taken_ = true;
  return *made_;
}

std::vector<int> CgroupTask::take_join_files() { return std::exchange(join_fds_, {}); }

void CgroupTask::destroy_later(Cgroup group) {
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
  for (int fd : join_fds_) ::close(fd);
  if (made_ && !taken_) {
    try {
      made_->destroy();
    } catch (...) {
    }
  }
}

}  // namespace minirun::runtime

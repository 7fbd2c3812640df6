#include "container_fixture.h"

#include <sstream>
#include <utility>

#ifndef MINIRUN_BINARY
#error "MINIRUN_BINARY (the minirun binary's path) is defined by CMakeLists.txt"
#endif

namespace minirun::test {

void ContainerTest::make_store(const std::string& prefix) {
  t_ = std::make_unique<TempDir>(prefix);
  write_file(*t_ / "rootfs.tar", busybox_rootfs().build());
  ASSERT_EQ(mr({"import", *t_ / "rootfs.tar", "t/bb"}).code, 0);
}

void ContainerTest::remove_containers(int timeout_s) {
  if (!t_) return;
  auto ids = mr({"ps", "-aq", "--no-trunc"});
  std::istringstream in(ids.out);
  std::vector<std::string> all = {"rm", "-f"};
  for (std::string id; in >> id;) all.push_back(id);
  if (all.size() > 2) {
    EXPECT_EQ(mr(all, timeout_s).code, 0);
  }
}

void ContainerTest::expect_no_mounts_left() {
  if (t_) {
    EXPECT_TRUE(mounts_under(t_->path()).empty()) << "a mount was left on the host";
  }
}

std::vector<std::string> ContainerTest::cmd(std::vector<std::string> args) const {
  args.insert(args.begin(), {MINIRUN_BINARY, "--root", *t_ / "store"});
  return args;
}

CmdResult ContainerTest::mr(std::vector<std::string> args, int timeout_s) {
  return run_cmd(cmd(std::move(args)), "", timeout_s);
}

CmdResult ContainerTest::mr(std::vector<std::string> args, const std::string& input, int timeout_s) {
  return run_cmd(cmd(std::move(args)), input, timeout_s);
}

std::string ContainerTest::run_d(std::vector<std::string> args, bool full_id) {
  args.insert(args.begin(), {"run", "-d"});
  auto r = mr(args);
  EXPECT_EQ(r.code, 0) << r.err;
  if (full_id) {
    EXPECT_EQ(r.out.size(), 65u) << r.out;
  }
  return r.out.substr(0, r.out.find('\n'));
}

nlohmann::json ContainerTest::state(const std::string& ref) {
  auto r = mr({"inspect", "--type", "container", ref});
  if (r.code != 0) return nlohmann::json();
  return nlohmann::json::parse(r.out)[0];
}

nlohmann::json ContainerTest::record(const std::string& id) {
  try {
    return nlohmann::json::parse(read_file(*t_ / ("store/containers/" + id + "/state.json")));
  } catch (...) {
    return nlohmann::json();
  }
}

}  // namespace minirun::test

// container_fixture.h — the fixture the black-box container tests share: a store in a TempDir
// with the busybox image t/bb imported, the minirun binary run against it, `run -d`, a
// container's inspect state and its state.json record, and the rm -f of every container that
// TearDown does even after a failure. Root tests only (the binary is MINIRUN_BINARY).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testutil.h"

namespace minirun::test {

class ContainerTest : public ::testing::Test {
 protected:
  // A store in a new TempDir("<prefix>XXXXXX")/store holding busybox_rootfs() imported as t/bb
  // (asserted: wrap in ASSERT_NO_FATAL_FAILURE when SetUp goes on after it).
  void make_store(const std::string& prefix);
  // rm -f of every container `ps -aq` lists (expected to succeed); nothing without a store.
  void remove_containers(int timeout_s = 60);
  // Expects no mount left below the store's TempDir.
  void expect_no_mounts_left();

  // The minirun command line for args against the store.
  std::vector<std::string> cmd(std::vector<std::string> args) const;
  CmdResult mr(std::vector<std::string> args, int timeout_s = 60);
  CmdResult mr(std::vector<std::string> args, const std::string& input, int timeout_s = 60);
  // run -d ARGS: the container's ID (the first line of the output), the run expected to succeed;
  // full_id: expected to be the whole 64-character ID.
  std::string run_d(std::vector<std::string> args, bool full_id = true);
  // `inspect --type container ref`'s object; null when inspect fails.
  nlohmann::json state(const std::string& ref);
  // The container's store record (containers/<id>/state.json); null when it cannot be read.
  nlohmann::json record(const std::string& id);

  std::unique_ptr<TempDir> t_;
};

}  // namespace minirun::test

// The store as every command opens it (engine/recovery.h), without root: a fresh store is made,
// what a killed command left in tmp/ goes and what a live one holds stays, and a store with no
// network and no container group opens without touching its records.
#include "minirun/engine/recovery.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A pid that was this boot's and is gone.
pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) _exit(0);
  int st;
  ::waitpid(pid, &st, 0);
  return pid;
}

// This boot's tag as the store writes it into its temp names (after "PID.").
std::string boot_tag() {
  std::string tag = Store::owner_tag();
  return tag.substr(tag.find('.') + 1);
}

}  // namespace

TEST(Recovery, AFreshStoreIsMade) {
  TempDir dir;
  Store store = open_recovered_store(dir / "store");
  EXPECT_EQ(store.root(), dir / "store");
  EXPECT_TRUE(fs::is_directory(dir / "store/tmp"));
  EXPECT_TRUE(fs::is_directory(dir / "store/containers"));
  EXPECT_TRUE(store.image_ids().empty());
  EXPECT_TRUE(store.container_ids().empty());
}

TEST(Recovery, WhatAKilledCommandLeftGoesAndWhatALiveOneHoldsStays) {
  TempDir dir;
  std::string live;
  {
    Store store(dir / "store");
    live = store.new_temp_dir();  // this process's: alive
  }
  std::string dead = dir / ("store/tmp/" + std::to_string(dead_pid()) + "-" + boot_tag() + "-abcdef012345");
  fs::create_directories(dead + "/layer/diff");
  minirun::test::write_file(dead + "/layer/diff/half-written", "x");
  open_recovered_store(dir / "store");
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::is_directory(live));
}

TEST(Recovery, AStoreWithNothingToUndoKeepsItsRecords) {
  TempDir dir;
  const std::string cid(64, 'c');
  {
    Store store(dir / "store");
    ContainerRecord rec;
    rec.id = cid;
    rec.name = "keeper";
    rec.status = ContainerStatus::running;
    rec.pid = ::getpid();  // alive
    store.put_container(rec);
  }
  Store store = open_recovered_store(dir / "store");
  auto rec = store.container(cid);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status, ContainerStatus::running);
  EXPECT_EQ(rec->name, "keeper");
}

// Store records without root: layers staged and committed, short links, tags and reference
// resolution, name reservations, leftovers of dead processes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "minirun/util/digest.h"
#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"
#include "minirun/store/store.h"
#include "testutil.h"

using namespace minirun;
using minirun::test::TempDir;
namespace fs = std::filesystem;

namespace {
LayerRecord stage(Store& s, const std::string& content, const std::string& parent, std::string& staged) {
  staged = s.new_temp_dir();
  fs::create_directory(staged + "/diff");
  minirun::test::write_file(staged + "/diff/f", content);
  std::string diff_id = sha256_digest(content);
  std::string id = parent.empty() ? digest_hex(diff_id) : digest_hex(sha256_digest("sha256:" + parent + " " + diff_id));
  return {id, diff_id, parent, content.size()};
}
}  // namespace

TEST(Store, CommitLayersWithShortLinksAndLowerChain) {
  TempDir t;
  Store s(t / "root");
  std::string staged;
  auto base = stage(s, "base", "", staged);
  ASSERT_TRUE(s.commit_layer(staged, base));
  auto top = stage(s, "top", base.id, staged);
  ASSERT_TRUE(s.commit_layer(staged, top));
  EXPECT_TRUE(s.has_layer(base.id));
  EXPECT_EQ(s.layer(top.id)->parent, base.id);
  std::string link = s.link_name(base.id);
  EXPECT_EQ(link.size(), 2u + 26u);
  EXPECT_EQ(fs::read_symlink(s.overlay_root() + "/" + link).string(), "../" + base.id + "/diff");
  EXPECT_EQ(s.lower_links(top.id), std::vector<std::string>{link});
  EXPECT_TRUE(s.lower_links(base.id).empty());
  EXPECT_EQ(minirun::test::read_file(s.lower_diffs(top.id)[0] + "/f"), "base");
  // Committing a layer that exists already discards the staged copy.
  auto again = stage(s, "base", "", staged);
  EXPECT_FALSE(s.commit_layer(staged, again));
  EXPECT_FALSE(fs::exists(staged));
  s.remove_layer(top.id);
  EXPECT_FALSE(s.has_layer(top.id));
  EXPECT_EQ(std::distance(fs::directory_iterator(s.overlay_root() + "/l"), fs::directory_iterator()), 1);
}

// A flat layer is committed only over a present top layer and once; it is no image layer; it
// goes with its top layer, before it (a crash in between leaves a layer without a flat layer).
TEST(Store, FlatLayersBelongToTheirTopLayer) {
  TempDir t;
  Store s(t / "root");
  std::string staged;
  auto base = stage(s, "base", "", staged);
  ASSERT_TRUE(s.commit_layer(staged, base));
  auto flat = [&] {
    std::string d = s.new_temp_dir();
    fs::create_directory(d + "/diff");
    minirun::test::write_file(d + "/diff/f", "merged");
    return d;
  };
  std::string absent(64, 'a');
  staged = flat();
  EXPECT_FALSE(s.commit_flat(staged, absent));
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_FALSE(s.has_flat(absent));
  ASSERT_TRUE(s.commit_flat(flat(), base.id));
  EXPECT_TRUE(s.has_flat(base.id));
  EXPECT_EQ(minirun::test::read_file(s.overlay_root() + "/" + s.flat_diff_name(base.id) + "/f"), "merged");
  staged = flat();
  EXPECT_FALSE(s.commit_flat(staged, base.id));
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_EQ(s.flat_tops(), std::vector<std::string>{base.id});
  EXPECT_EQ(s.layer_ids(), std::vector<std::string>{base.id});
  s.remove_flat(base.id);
  EXPECT_FALSE(s.has_flat(base.id));
  EXPECT_TRUE(s.has_layer(base.id));
  ASSERT_TRUE(s.commit_flat(flat(), base.id));
  s.remove_layer(base.id);
  EXPECT_FALSE(s.has_flat(base.id));
  EXPECT_TRUE(s.flat_tops().empty());
  EXPECT_TRUE(fs::is_empty(t / "root/tmp"));
}

TEST(Store, TagsAndImageReferences) {
  TempDir t;
  Store s(t / "root");
  std::string cfg = R"({"rootfs":{"type":"layers","diff_ids":[]}})";
  std::string hex = digest_hex(sha256_digest(cfg));
  s.put_image(hex, cfg);
  s.set_tags({{"busybox:latest", "sha256:" + hex}, {"localhost/a/b:1", "sha256:" + hex}});
  EXPECT_EQ(s.resolve_image("busybox"), hex);
  EXPECT_EQ(s.resolve_image("docker.io/library/busybox:latest"), hex);
  EXPECT_EQ(s.resolve_image("localhost/a/b:1"), hex);
  EXPECT_EQ(s.resolve_image("sha256:" + hex), hex);
  EXPECT_EQ(s.resolve_image(hex.substr(0, 4)), hex);
  EXPECT_EQ(s.image_config(hex), cfg);
  EXPECT_EQ(s.tags_of(hex).size(), 2u);
  try {
    s.resolve_image("nosuch:1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_STREQ(e.what(), "No such image: nosuch:1");
  }
  EXPECT_THROW(s.resolve_image("abc"), Error);  // too short for a prefix
  EXPECT_THROW(s.image_config_path("../../etc/passwd"), Error);
}

TEST(Store, NamesAreUniqueAndLeftoversOfDeadProcessesGo) {
  TempDir t;
  std::string cid(64, 'a');
  {
    Store s(t / "root");
    EXPECT_TRUE(s.reserve_name("web", cid));
    EXPECT_FALSE(s.reserve_name("web", std::string(64, 'b')));
    EXPECT_THROW(s.reserve_name("../x", cid), Error);
    s.release_name("web");
    EXPECT_TRUE(s.reserve_name("web", cid));
  }
  // A temp dir of a process that no longer exists is removed when the store is opened;
  // one of a live process stays.
  fs::create_directories(t / "root/tmp/999999999-dead/diff");
  std::string mine = Store(t / "root").new_temp_dir();
  // Same live pid, but an earlier boot: stale too.
  fs::create_directories(t / ("root/tmp/" + std::to_string(getpid()) + "-00000000-before-reboot"));
  Store s(t / "root");
  EXPECT_FALSE(fs::exists(t / ("root/tmp/" + std::to_string(getpid()) + "-00000000-before-reboot")));
  EXPECT_FALSE(fs::exists(t / "root/tmp/999999999-dead"));
  EXPECT_TRUE(fs::exists(mine));
}

TEST(Store, AtomicWriteLeavesNoTemporaries) {
  TempDir t;
  write_file_atomic(t / "f", "one");
  write_file_atomic(t / "f", "two");
  EXPECT_EQ(minirun::test::read_file(t / "f"), "two");
  EXPECT_EQ(std::distance(fs::directory_iterator(t.path()), fs::directory_iterator()), 1);
  EXPECT_EQ(Store::default_root("/x"), "/x");
}

// A zombie (exited, not yet reaped: an orphan waits for init, which may reap only every second or
// two) is not alive: `wait`, the store's owner checks and the runner checks must not wait for it.
TEST(PidAlive, ZombieIsNotAlive) {
  EXPECT_TRUE(pid_alive(getpid()));
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(0);
  for (int i = 0; i < 500; i++) {  // until it is a zombie
    if (!pid_alive(pid)) break;
    usleep(2000);
  }
  EXPECT_FALSE(pid_alive(pid));
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), pid);  // it was still there to reap: a zombie
  EXPECT_FALSE(pid_alive(pid));
}

TEST(Store, RepoDigestsRecordedPerImageAndResolved) {
  TempDir t;
  Store s(t / "root");
  const std::string config = R"({"rootfs":{"type":"layers","diff_ids":[]}})";
  const std::string hex = digest_hex(sha256_digest(config));
  const std::string digest = "sha256:" + std::string(64, 'd');
  {
    auto lock = s.lock();
    s.put_image(hex, config);
    s.add_repo_digest(hex, "busybox@" + digest);
    s.add_repo_digest(hex, "busybox@" + digest);  // once only
    s.add_repo_digest(hex, "127.0.0.1:5000/x@" + digest);
  }
  EXPECT_EQ(s.repo_digests(hex), (std::vector<std::string>{"127.0.0.1:5000/x@" + digest, "busybox@" + digest}));
  EXPECT_EQ(s.resolve_image("busybox@" + digest), hex);
  EXPECT_EQ(s.resolve_image("docker.io/library/busybox@" + digest), hex);
  EXPECT_THROW(s.resolve_image("other@" + digest), Error);
  EXPECT_EQ(s.image_ids(), std::vector<std::string>{hex});  // the record is not an image
  {
    auto lock = s.lock();
    s.remove_image_record(hex);
  }
  EXPECT_FALSE(fs::exists(t / ("root/images/" + hex + ".digests")));
}

// A container's record: every field as written is read back, the status an enum stored as
// Docker's word; a word Docker has no state for is a corrupt record, named.
TEST(Store, ContainerRecordRoundTripsEveryField) {
  TempDir t;
  Store s(t / "root");
  for (auto st : {ContainerStatus::created, ContainerStatus::running, ContainerStatus::paused,
                  ContainerStatus::restarting, ContainerStatus::exited}) {
    ContainerRecord r;
    r.id = std::string(64, 'c');
    r.name = "web";
    r.image_id = std::string(64, 'e');
    r.image_ref = "busybox:latest";
    r.command = {"sh", "-c", "echo hi"};
    r.created = "2026-01-02T03:04:05.000000006Z";
    r.started = "2026-01-02T03:04:06Z";
    r.finished = "2026-01-02T03:04:07Z";
    r.status = st;
    r.exit_code = 3;
    r.pid = 1234;
    r.container_pid = 5678;
    r.auto_remove = true;
    r.oom_killed = true;
    r.restart_count = 2;
    r.manually_stopped = true;
    r.error = "boom";
    r.config = ContainerConfig::parse(R"({"Tty":true})");
    s.put_container(r);
    auto g = s.container(r.id);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->status, st);
    EXPECT_EQ(std::make_tuple(g->id, g->name, g->image_id, g->image_ref, g->command, g->created, g->started, g->finished),
              std::make_tuple(r.id, r.name, r.image_id, r.image_ref, r.command, r.created, r.started, r.finished));
    EXPECT_EQ(std::make_tuple(g->exit_code, g->pid, g->container_pid, g->auto_remove, g->oom_killed, g->restart_count,
                              g->manually_stopped, g->error, g->config),
              std::make_tuple(r.exit_code, r.pid, r.container_pid, r.auto_remove, r.oom_killed, r.restart_count,
                              r.manually_stopped, r.error, r.config));
    EXPECT_NE(minirun::test::read_file(s.container_dir(r.id) + "/state.json")
                  .find("\"status\":\"" + std::string(status_name(st)) + "\""),
              std::string::npos);
  }
  EXPECT_EQ(parse_status("paused"), ContainerStatus::paused);
  EXPECT_EQ(parse_status("dead"), std::nullopt);
  write_file_atomic(s.container_dir(std::string(64, 'c')) + "/state.json", R"({"id":")" + std::string(64, 'c') + R"(","status":"zombie"})");
  try {
    s.container(std::string(64, 'c'));
    ADD_FAILURE() << "a record with an unknown status was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown status \"zombie\""), std::string::npos) << e.what();
  }
}

// `minirun pull` end to end against the tests' real registry (registry_fixture.h): Docker's
// schema2 and OCI images over plain HTTP, a two-platform index (the host's platform chosen, or
// --platform's), a pinned digest, Bearer tokens with an auth file (a password, or an identity
// token by the OAuth2 flow), the per-layer lines on a terminal, TLS with --cert-dir, blobs
// redirected to storage that never sees the Authorization, a mirror from registries.conf, and a
// blob cut by the fault proxy and resumed with Range; each pulled image then runs. `login` (its
// credentials checked, then stored) and `logout` under htpasswd and token authentication. Root (the
// image runs); skipped where docker-registry, python3 or skopeo is missing.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "fault_proxy.h"
#include "minirun/util/base64.h"
#include "minirun/util/digest.h"
#include "registry_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
using nlohmann::json;

namespace {

// busybox, and one more layer of its own (so that each image is distinct).
TestImage bb_image(const std::string& text) {
  TestImage img;
  img.layers = {busybox_rootfs().build(), TarBuilder().dir("etc").file("etc/pulled", text).build()};
  img.cmd = {"/bin/sh"};
  return img;
}

// busybox and an incompressible layer of about 300 kB.
TestImage big_image() {
  TestImage img = bb_image("big\n");
  std::string noise(300000, '\0');
  uint32_t x = 777;
  for (auto& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  img.layers.push_back(TarBuilder().file("noise", noise).build());
  return img;
}

// A server's request log, once it holds at least `want` requests matching `needle` in their
// path (a server logs a request after answering it): waits up to 2 s.
std::vector<LoggedRequest> settled(const std::function<std::vector<LoggedRequest>()>& read, const std::string& needle,
                                   size_t want) {
  std::vector<LoggedRequest> out;
  for (int i = 0; i < 40; i++) {
    out.clear();
    for (const auto& r : read())
      if (r.path.find(needle) != std::string::npos) out.push_back(r);
    if (out.size() >= want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return out;
}

// argv on a terminal of its own (100 columns): all it wrote there, once it exited (killed after
// timeout_s); its exit status in *code.
std::string run_on_terminal(const std::vector<std::string>& argv, int timeout_s, int* code) {
  struct winsize ws = {30, 100, 0, 0};
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  std::string out;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    struct pollfd p = {master, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[4096];
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO: the terminal's last holder exited
      out.append(buf, static_cast<size_t>(n));
    }
    if (std::chrono::steady_clock::now() > end) {
      ::kill(pid, SIGKILL);
      break;
    }
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  ::close(master);
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return out;
}

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

class PullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MINIRUN_REQUIRE_ROOT();
    MINIRUN_REQUIRE_SKOPEO();
    t_ = std::make_unique<TempDir>("pull");
  }
  void TearDown() override {
    if (t_) mr({"rm", "-f", "pulled-run"});
  }
  std::string store() const { return *t_ / "store"; }
  // minirun --root STORE ARGS, with `env` ("NAME=value") set; CONTAINERS_REGISTRIES_CONF is
  // /dev/null and REGISTRY_AUTH_FILE a missing file unless env names them (the host's
  // configuration and credentials never apply).
  CmdResult mr(std::vector<std::string> args, std::vector<std::string> env = {}) {
    bool conf = false, auth = false;
    for (const auto& e : env) {
      conf |= e.rfind("CONTAINERS_REGISTRIES_CONF=", 0) == 0;
      auth |= e.rfind("REGISTRY_AUTH_FILE=", 0) == 0;
    }
    if (!conf) env.push_back("CONTAINERS_REGISTRIES_CONF=/dev/null");
    if (!auth) env.push_back("REGISTRY_AUTH_FILE=" + (*t_ / "no-auth.json"));
    std::vector<std::string> argv = {"/usr/bin/env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {MINIRUN_BINARY, "--root", store()});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_cmd(argv, "", 180);
  }
  // The image runs: `run --rm IMG cat /etc/pulled` prints `want`.
  void expect_runs(const std::string& img, const std::string& want) {
    CmdResult r = mr({"run", "--rm", "--name", "pulled-run", img, "cat", "/etc/pulled"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, want) << r.err;
  }
  std::string auth_file(const std::string& host, const RegistryOptions& o) {
    std::string f = *t_ / "auth.json";
    write_file(f, json{{"auths", {{host, {{"auth", base64_encode(o.user + ":" + o.password)}}}}}}.dump());
    return f;
  }
  std::unique_ptr<TempDir> t_;
};

}  // namespace

TEST_F(PullTest, DockerSchema2OverPlainHttp) {
  Registry reg;
  TempDir work;
  reg.push(docker_archive_source(work.path(), bb_image("schema2\n"), "img"), "test/app:1");
  std::string name = reg.host() + "/test/app:1";
  CmdResult r = mr({"pull", name});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("1: Pulling from test/app\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": Pulling fs layer\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": Pull complete\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Digest: sha256:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Status: Downloaded newer image for " + name + "\n"), std::string::npos) << r.out;
  EXPECT_EQ(last_line(r.out), name);
  expect_runs(name, "schema2\n");

  CmdResult again = mr({"pull", name});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("Status: Image is up to date for " + name + "\n"), std::string::npos) << again.out;
  EXPECT_EQ(again.out, "1: Pulling from test/app\nDigest: " + r.out.substr(r.out.find("Digest: ") + 8, 71) + "\n" +
                           "Status: Image is up to date for " + name + "\n" + name + "\n");
  CmdResult quiet = mr({"pull", "-q", name});
  EXPECT_EQ(quiet.code, 0);
  EXPECT_EQ(quiet.out, name + "\n");

  // The default tag, and the errors of docker pull (exit 1, one line).
  reg.push(docker_archive_source(work.path(), bb_image("latest\n"), "img2"), "test/app:latest");
  CmdResult def = mr({"pull", reg.host() + "/test/app"});
  EXPECT_EQ(def.code, 0) << def.err;
  EXPECT_EQ(def.out.rfind("Using default tag: latest\n", 0), 0u) << def.out;
  EXPECT_EQ(last_line(def.out), reg.host() + "/test/app:latest");
  CmdResult missing = mr({"pull", reg.host() + "/test/app:nosuch"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "Error: manifest for " + reg.host() + "/test/app:nosuch not found: manifest unknown: manifest unknown\n");
  EXPECT_EQ(mr({"pull", "Bad:Name"}).code, 1);
  EXPECT_EQ(mr({"pull", "127.0.0.1:1/nothing:1"}).code, 1);
}

// On a terminal: a line per layer, rewritten in place (Docker's cursor movements), byte counts
// while downloading; the plain lines' "Pulling fs layer" never shows.
TEST_F(PullTest, OnATerminalEachLayersLineIsRewrittenInPlace) {
  Registry reg;
  TempDir work;
  reg.push(docker_archive_source(work.path(), big_image(), "img"), "tty/app:1");
  std::string name = reg.host() + "/tty/app:1";
  int code = -1;
  std::string out = run_on_terminal({"/usr/bin/env", "CONTAINERS_REGISTRIES_CONF=/dev/null",
                                     "REGISTRY_AUTH_FILE=" + (*t_ / "no-auth.json"), MINIRUN_BINARY, "--root", store(),
                                     "pull", name},
                                    120, &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\x1b[1A\x1b[2K\r"), std::string::npos) << out;
  EXPECT_NE(out.find(": Waiting\r"), std::string::npos) << out;
  EXPECT_NE(out.find(": Downloading "), std::string::npos) << out;
  EXPECT_NE(out.find("kB/"), std::string::npos) << out;  // docker's byte counts
  EXPECT_NE(out.find(": Pull complete\r"), std::string::npos) << out;
  EXPECT_EQ(out.find("Pulling fs layer"), std::string::npos) << out;
  EXPECT_NE(out.find("Status: Downloaded newer image for " + name), std::string::npos) << out;
  expect_runs(name, "big\n");
}

TEST_F(PullTest, OciImageByPinnedDigest) {
  Registry reg;
  TempDir work;
  reg.push(oci_archive_source(work.path(), bb_image("oci\n"), "img"), "test/oci:1");
  HttpReply m = http_request(reg.host(), "GET", "/v2/test/oci/manifests/1",
                             {"Accept: application/vnd.oci.image.manifest.v1+json"});
  ASSERT_EQ(m.status, 200);
  std::string pinned = reg.host() + "/test/oci@" + sha256_digest(m.body);
  CmdResult r = mr({"pull", pinned});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(last_line(r.out), pinned);
  EXPECT_NE(r.out.find("Digest: " + sha256_digest(m.body)), std::string::npos);
  expect_runs(pinned, "oci\n");
  CmdResult wrong = mr({"pull", reg.host() + "/test/oci@sha256:" + std::string(64, '0')});
  EXPECT_EQ(wrong.code, 1);
}

TEST_F(PullTest, TwoPlatformIndexChoosesTheHostsOrTheAskedPlatform) {
  Registry reg;
  TempDir work;
  auto src = two_platform_source(work.path(), bb_image("amd64\n"), bb_image("arm64\n"), "multi");
  reg.push(src.source, "multi:1", true);
  std::string name = reg.host() + "/multi:1";
  CmdResult r = mr({"pull", name});
#if defined(__x86_64__)
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Digest: " + src.index_digest), std::string::npos) << r.out;
  expect_runs(name, "amd64\n");
#endif
  CmdResult arm = mr({"pull", "--platform", "linux/arm64", name});
  ASSERT_EQ(arm.code, 0) << arm.err;
  CmdResult arch = mr({"inspect", "-f", "{{.Architecture}}", name});
  EXPECT_EQ(arch.out, "arm64\n") << arch.err;
  EXPECT_EQ(mr({"pull", "--platform", "linux/s390x", name}).code, 1);
}

TEST_F(PullTest, BearerTokenWithAnAuthFile) {
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::token;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), bb_image("token\n"), "img"), "private/app:1");
  std::string name = reg.host() + "/private/app:1";
  CmdResult anon = mr({"pull", name});
  EXPECT_EQ(anon.code, 1);
  EXPECT_NE(anon.err.find("authentication required"), std::string::npos) << anon.err;
  CmdResult r = mr({"pull", name}, {"REGISTRY_AUTH_FILE=" + auth_file(reg.host(), o)});
  ASSERT_EQ(r.code, 0) << r.err;
  expect_runs(name, "token\n");
}

// An auth file entry with an identity token, as `docker login` stores one: the token comes
// from Docker's OAuth2 refresh_token grant; the refresh token the answer carries is not written
// back (the file is byte for byte what it was).
TEST_F(PullTest, IdentityTokenFromTheAuthFile) {
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::token;
  o.refresh_token = "minirun-identity-token-1";
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), bb_image("identity\n"), "img"), "private/id:1");
  std::string name = reg.host() + "/private/id:1";
  std::string file = *t_ / "identity-auth.json";
  std::string text = json{{"auths", {{reg.host(), {{"auth", base64_encode(o.user + ":")}, {"identitytoken", o.refresh_token}}}}}}.dump();
  write_file(file, text);
  size_t before = reg.token_requests().size();
  CmdResult r = mr({"pull", name}, {"REGISTRY_AUTH_FILE=" + file});
  ASSERT_EQ(r.code, 0) << r.err;
  auto log = settled([&] { return reg.token_requests(); }, "/token", before + 1);
  ASSERT_GT(log.size(), before);
  for (size_t i = before; i < log.size(); i++) {
    EXPECT_EQ(log[i].method, "POST");
    EXPECT_EQ(log[i].authorization, "");
    EXPECT_NE(log[i].body.find("grant_type=refresh_token"), std::string::npos) << log[i].body;
    EXPECT_NE(log[i].body.find("client_id=minirun"), std::string::npos) << log[i].body;
  }
  EXPECT_NE(log[before].body.find("refresh_token=minirun-identity-token-1"), std::string::npos) << log[before].body;
  EXPECT_EQ(read_file(file), text);
  expect_runs(name, "identity\n");

  write_file(file, json{{"auths", {{reg.host(), {{"identitytoken", "wrong"}}}}}}.dump());
  CmdResult bad = mr({"pull", reg.host() + "/private/id:1"}, {"REGISTRY_AUTH_FILE=" + file});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("the identity token was refused"), std::string::npos) << bad.err;
}

TEST_F(PullTest, TlsWithACertDir) {
  RegistryOptions o;
  o.tls = true;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), bb_image("tls\n"), "img"), "secure:1");
  std::string name = reg.host() + "/secure:1";
  CmdResult untrusted = mr({"pull", name});
  EXPECT_EQ(untrusted.code, 1);
  EXPECT_NE(untrusted.err.find("certificate"), std::string::npos) << untrusted.err;
  CmdResult r = mr({"pull", "--cert-dir", reg.certs_dir() + "/" + reg.host(), name});
  ASSERT_EQ(r.code, 0) << r.err;
  expect_runs(name, "tls\n");
}

TEST_F(PullTest, RedirectedBlobsNeverCarryTheAuthorization) {
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::htpasswd;
  o.redirect = true;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), bb_image("redirect\n"), "img"), "r/app:1");
  std::string name = reg.host() + "/r/app:1";
  CmdResult r = mr({"pull", name}, {"REGISTRY_AUTH_FILE=" + auth_file(reg.host(), o)});
  ASSERT_EQ(r.code, 0) << r.err;
  auto log = settled([&] { return reg.storage_requests(); }, "/blobs/", 3);
  EXPECT_GE(log.size(), 3u);  // the config and both layers
  for (const auto& req : log) EXPECT_EQ(req.authorization, "") << req.path;
  expect_runs(name, "redirect\n");
}

TEST_F(PullTest, MirrorFromRegistriesConf) {
  Registry origin;
  TempDir work;
  origin.push(docker_archive_source(work.path(), bb_image("mirrored\n"), "img"), "library/m:1");
  FaultProxy mirror(origin.url());  // a mirror serving the origin's content, logging what it serves
  std::string conf = *t_ / "registries.conf";
  write_file(conf, "[[registry]]\nlocation = \"" + origin.host() +
                       "\"\n[[registry.mirror]]\nlocation = \"127.0.0.1:1\"\n"  // down: skipped
                       "[[registry.mirror]]\nlocation = \"" + mirror.host() + "\"\n");
  std::string name = origin.host() + "/library/m:1";
  CmdResult r = mr({"pull", name}, {"CONTAINERS_REGISTRIES_CONF=" + conf});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(last_line(r.out), name);
  // The manifest, the config, the layers.
  EXPECT_GE(settled([&] { return mirror.requests(); }, "/library/m/", 4).size(), 4u);
  expect_runs(name, "mirrored\n");
}

TEST_F(PullTest, CutBlobResumesWithRange) {
  Registry reg;
  TempDir work;
  reg.push(docker_archive_source(work.path(), big_image(), "img"), "f/big:1");
  HttpReply m = http_request(reg.host(), "GET", "/v2/f/big/manifests/1",
                             {"Accept: application/vnd.docker.distribution.manifest.v2+json"});
  ASSERT_EQ(m.status, 200);
  json layers = json::parse(m.body)["layers"];
  std::string big;
  uint64_t big_size = 0;
  for (const auto& l : layers)
    if (l["size"].get<uint64_t>() > big_size) {
      big_size = l["size"].get<uint64_t>();
      big = l["digest"].get<std::string>();
    }
  ASSERT_GT(big_size, 200000u);
  FaultProxy proxy(reg.url());
  proxy.set_faults({Fault::cut("/blobs/" + big, 100000)});
  std::string name = proxy.host() + "/f/big:1";
  CmdResult r = mr({"pull", name});
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  std::vector<LoggedRequest> gets = settled([&] { return proxy.requests(); }, big, 2);
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[0].bytes, 100000u);
  EXPECT_EQ(gets[1].range, "bytes=100000-");
  EXPECT_EQ(gets[1].status, 206);
  CmdResult run = mr({"run", "--rm", name, "sh", "-c", "wc -c < /noise"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "300000\n");
}

TEST_F(PullTest, RunAndCreatePullAsDockerDoes) {
  Registry reg;
  TempDir work;
  reg.push(docker_archive_source(work.path(), bb_image("first\n"), "img"), "test/run:1");
  std::string name = reg.host() + "/test/run:1";
  // never: the store only.
  CmdResult never = mr({"run", "--rm", "--pull", "never", name, "true"});
  EXPECT_EQ(never.code, 125);
  EXPECT_NE(never.err.find("Unable to find image '" + name + "' locally"), std::string::npos) << never.err;
  // missing (the default): pulled first, its lines on stderr.
  CmdResult r = mr({"run", "--rm", name, "cat", "/etc/pulled"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "first\n");
  EXPECT_EQ(r.err.rfind("Unable to find image '" + name + "' locally\n", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("Status: Downloaded newer image for " + name + "\n"), std::string::npos) << r.err;
  CmdResult again = mr({"run", "--rm", name, "true"});
  EXPECT_EQ(again.code, 0);
  EXPECT_EQ(again.err, "");
  // always: the tag moved in the registry, the container runs the new image.
  reg.push(docker_archive_source(work.path(), bb_image("second\n"), "img2"), "test/run:1");
  CmdResult created = mr({"create", "--pull", "always", "--name", "pulled-run", name, "cat", "/etc/pulled"});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_NE(created.err.find("Status: Downloaded newer image for " + name), std::string::npos) << created.err;
  CmdResult started = mr({"start", "-a", "pulled-run"});
  EXPECT_EQ(started.out, "second\n") << started.err;
  EXPECT_EQ(mr({"run", "--rm", "--pull", "sometimes", name, "true"}).code, 125);
}

// login checks the credentials, stores them in the auth file (other keys kept), a pull then
// uses them; a wrong password stores nothing; logout removes the entry.
class LoginTest : public PullTest {
 protected:
  void login_pull_logout(RegistryOptions::Auth auth) {
    RegistryOptions o;
    o.auth = auth;
    Registry reg(o);
    TempDir work;
    reg.push(docker_archive_source(work.path(), bb_image("login\n"), "img"), "private/app:1");
    std::string name = reg.host() + "/private/app:1";
    std::string file = *t_ / "auth.json";
    std::vector<std::string> env = {"REGISTRY_AUTH_FILE=" + file};
    // Wrong password: exit 1, one line naming the server, nothing stored.
    CmdResult bad = run_cmd({"/usr/bin/env", env[0], "CONTAINERS_REGISTRIES_CONF=/dev/null", MINIRUN_BINARY, "login",
                             "-u", o.user, "--password-stdin", reg.host()},
                            "wrong\n", 60);
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("login to " + reg.host() + " failed"), std::string::npos) << bad.err;
    EXPECT_NE(bad.err.find("unauthorized"), std::string::npos) << bad.err;
    EXPECT_EQ(bad.out, "");
    EXPECT_NE(::access(file.c_str(), F_OK), 0);
    // Right password: stored beside the file's other keys, and the pull uses it.
    write_file(file, R"({"auths":{"other:1":{"auth":"YTpi"}},"psFormat":"table"})");
    CmdResult good = run_cmd({"/usr/bin/env", env[0], "CONTAINERS_REGISTRIES_CONF=/dev/null", MINIRUN_BINARY, "login",
                              "-u", o.user, "--password-stdin", reg.host()},
                             o.password + "\n", 60);
    ASSERT_EQ(good.code, 0) << good.err;
    EXPECT_EQ(good.out, "Login Succeeded\n");
    json j = json::parse(read_file(file));
    EXPECT_EQ(j["psFormat"].get<std::string>(), "table");
    EXPECT_EQ(j["auths"]["other:1"]["auth"].get<std::string>(), "YTpi");
    EXPECT_EQ(j["auths"][reg.host()]["auth"].get<std::string>(), base64_encode(o.user + ":" + o.password));
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    CmdResult pulled = mr({"pull", name}, env);
    ASSERT_EQ(pulled.code, 0) << pulled.err;
    expect_runs(name, "login\n");
    // logout: the entry goes, the rest stays; a second logout is not an error.
    CmdResult out = mr({"logout", reg.host()}, env);
    EXPECT_EQ(out.code, 0) << out.err;
    EXPECT_EQ(out.out, "Removing login credentials for " + reg.host() + "\n");
    j = json::parse(read_file(file));
    EXPECT_FALSE(j["auths"].contains(reg.host()));
    EXPECT_EQ(j["auths"]["other:1"]["auth"].get<std::string>(), "YTpi");
    CmdResult again = mr({"logout", reg.host()}, env);
    EXPECT_EQ(again.code, 0);
    EXPECT_EQ(again.out, "Not logged in to " + reg.host() + "\n");
  }
};

TEST_F(LoginTest, HtpasswdLoginThenPullThenLogout) { login_pull_logout(RegistryOptions::Auth::htpasswd); }

TEST_F(LoginTest, TokenLoginThenPullThenLogout) { login_pull_logout(RegistryOptions::Auth::token); }

TEST_F(LoginTest, NoPasswordWithoutATerminalIsRefused) {
  CmdResult r = mr({"login", "-u", "me", "127.0.0.1:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Cannot perform an interactive login from a non TTY device"), std::string::npos) << r.err;
  CmdResult p = mr({"login", "-u", "me", "-p", "x", "127.0.0.1:1"});
  EXPECT_EQ(p.code, 1);
  EXPECT_NE(p.err.find("WARNING! Using --password via the CLI is insecure. Use --password-stdin."), std::string::npos)
      << p.err;
  EXPECT_NE(p.err.find("login to 127.0.0.1:1 failed"), std::string::npos) << p.err;
}

// What `minirun login` and `logout` rely on without root: the auth file's update (other keys
// and entries kept, an entry replaced or removed, Docker Hub's key, mode 0600 in a 0700
// directory, the secret in the credential helper the file names) and the credentials' check against the tests' real registry (registry_fixture.h),
// under htpasswd (Basic) and token (Bearer) authentication, after which a pull's source finds
// the stored entry. The registry parts are skipped where docker-registry, python3 or skopeo is
// missing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "minirun/registry/auth_file.h"
#include "minirun/registry/distribution_source.h"
#include "minirun/util/base64.h"
#include "minirun/util/error.h"
#include "registry_fixture.h"
#include "testutil.h"

using namespace minirun;
using namespace minirun::test;
using nlohmann::json;

namespace {

registry::SourceOptions quick() {
  registry::SourceOptions o;
  o.read_auth_files = false;
  o.certs_dirs = {};
  o.max_delay = std::chrono::seconds(2);
  return o;
}

// Sets an environment variable for one test, restoring it after.
class EnvVar {
 public:
  EnvVar(const char* name, const std::string& value) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
    ::setenv(name, value.c_str(), 1);
  }
  ~EnvVar() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  EnvVar(const EnvVar&) = delete;
  EnvVar& operator=(const EnvVar&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TestImage small_image(const std::string& text) {
  TestImage img;
  img.layers = {TarBuilder().dir("etc").file("etc/hello", text).build()};
  return img;
}

}  // namespace

TEST(AuthFile, KeysOfServers) {
  EXPECT_EQ(registry::auth_key_for_server(""), "https://index.docker.io/v1/");
  EXPECT_EQ(registry::auth_key_for_server("docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(registry::auth_key_for_server("index.docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(registry::auth_key_for_server("https://index.docker.io/v1/"), "https://index.docker.io/v1/");
  EXPECT_EQ(registry::auth_key_for_server("127.0.0.1:5000"), "127.0.0.1:5000");
  EXPECT_EQ(registry::auth_key_for_server("https://quay.io/v2/"), "quay.io");
  EXPECT_EQ(registry::registry_for_auth_key("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(registry::registry_for_auth_key("quay.io"), "quay.io");
}

TEST(AuthFile, LoginKeepsOtherKeysAndReplacesTheEntry) {
  std::string text = R"({"credsStore":"","HttpHeaders":{"X":"1"},"auths":{"other:1":{"auth":"b3RoZXI6cA=="},)"
                     R"("reg:5000":{"auth":"old","email":"x"}}})";
  std::string out = registry::auth_file_with_login(text, "reg:5000", {"me", "s3cret:x"}, "f");
  json j = json::parse(out);
  EXPECT_EQ(j["HttpHeaders"]["X"].get<std::string>(), "1");
  EXPECT_EQ(j["credsStore"].get<std::string>(), "");
  EXPECT_EQ(j["auths"]["other:1"]["auth"].get<std::string>(), "b3RoZXI6cA==");
  EXPECT_EQ(j["auths"]["reg:5000"], json({{"auth", base64_encode("me:s3cret:x")}}));
  // The stored entry is what a pull finds.
  auto c = registry::credentials_from_auth_file(out, "reg:5000", "app", "f");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "me");
  EXPECT_EQ(c->password, "s3cret:x");
  // A new file; Docker Hub's key is what a pull of docker.io reads.
  std::string hub = registry::auth_file_with_login("", registry::auth_key_for_server("docker.io"), {"u", "p"}, "f");
  EXPECT_EQ(json::parse(hub), json::parse(R"({"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}})"));
  EXPECT_TRUE(registry::credentials_from_auth_file(hub, "docker.io", "library/busybox", "f"));
  EXPECT_THROW(registry::auth_file_with_login("[1]", "k", {"u", "p"}, "f"), Error);
  EXPECT_THROW(registry::auth_file_with_login("{\"auths\":3}", "k", {"u", "p"}, "f"), Error);
  EXPECT_THROW(registry::auth_file_with_login("{", "k", {"u", "p"}, "f"), Error);
}

TEST(AuthFile, LogoutRemovesTheEntryOnly) {
  std::string text = R"({"auths":{"a:1":{"auth":"YTpi"},"https://b:2":{"auth":"YTpi"}},"psFormat":"x"})";
  auto out = registry::auth_file_without_login(text, "a:1", "f");
  ASSERT_TRUE(out);
  EXPECT_EQ(json::parse(*out), json::parse(R"({"auths":{"https://b:2":{"auth":"YTpi"}},"psFormat":"x"})"));
  auto b = registry::auth_file_without_login(text, "b:2", "f");  // written with a scheme
  ASSERT_TRUE(b);
  EXPECT_FALSE(json::parse(*b)["auths"].contains("https://b:2"));
  EXPECT_FALSE(registry::auth_file_without_login(text, "c:3", "f"));
  EXPECT_FALSE(registry::auth_file_without_login("{}", "a:1", "f"));
  EXPECT_FALSE(registry::auth_file_without_login("", "a:1", "f"));
}

TEST(AuthFile, WrittenWithMode0600InA0700Directory) {
  TempDir t;
  std::string file = t / "new/dir/config.json";
  registry::write_auth_file(file, "{}\n");
  EXPECT_EQ(read_file(file), "{}\n");
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((t / "new/dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  registry::write_auth_file(file, "{\"auths\":{}}\n");  // replaced
  EXPECT_EQ(read_file(file), "{\"auths\":{}}\n");
}

TEST(AuthFile, ThePathLoginWrites) {
  EnvVar auth("REGISTRY_AUTH_FILE", "/x/auth.json");
  EXPECT_EQ(registry::login_auth_file_path(), "/x/auth.json");
  EnvVar none("REGISTRY_AUTH_FILE", "");
  EnvVar dc("DOCKER_CONFIG", "/d");
  EXPECT_EQ(registry::login_auth_file_path(), "/d/config.json");
  EnvVar nodc("DOCKER_CONFIG", "");
  EnvVar home("HOME", "/h");
  EXPECT_EQ(registry::login_auth_file_path(), "/h/.docker/config.json");
}

// A file naming a credential helper: login's secret goes to `docker-credential-NAME store` (the
// file keeps an empty entry, as docker login writes it), a pull's lookup gets it back with `get`,
// logout erases it from the helper and the entry from the file.
TEST(AuthFile, LoginAndLogoutGoThroughTheCredentialHelperTheFileNames) {
  TempDir t;
  // A helper keeping one credential in a file: what `store` got, verbatim, answered by `get`.
  write_file(t / "docker-credential-minirun-fake",
             "#!/bin/sh\nkept=\"$(dirname \"$0\")/kept\"\n"
             "case \"$1\" in\n"
             "store) cat > \"$kept\" ;;\n"
             "get) read s; [ -f \"$kept\" ] || { echo 'credentials not found in native keychain'; exit 1; }; cat \"$kept\" ;;\n"
             "erase) read s; [ -f \"$kept\" ] || { echo 'credentials not found in native keychain'; exit 1; }; "
             "echo \"$s\" > \"$(dirname \"$0\")/erased\"; rm \"$kept\" ;;\n"
             "*) exit 2 ;;\nesac\n",
             0755);
  write_file(t / "docker-credential-minirun-broken", "#!/bin/sh\necho 'keyring locked' >&2\nexit 4\n", 0755);
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  EnvVar p("PATH", t.path() + ":" + path);
  std::string file = t / "auth.json";
  EnvVar auth("REGISTRY_AUTH_FILE", file);
  write_file(file, R"({"credsStore": "minirun-fake", "auths": {"other:1": {"auth": "YTpi"}}, "psFormat": "x"})");

  registry::save_login("reg:5000", {"me", "s3cret"});
  EXPECT_EQ(json::parse(read_file(t / "kept")), json::parse(R"({"ServerURL":"reg:5000","Username":"me","Secret":"s3cret"})"));
  json f = json::parse(read_file(file));
  EXPECT_EQ(f["auths"]["reg:5000"], json::object());
  EXPECT_EQ(f["auths"]["other:1"]["auth"], "YTpi");
  EXPECT_EQ(f["psFormat"], "x");
  auto c = registry::find_credentials("reg:5000", "app");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "me");
  EXPECT_EQ(c->password, "s3cret");

  EXPECT_TRUE(registry::remove_login("reg:5000"));
  EXPECT_EQ(read_file(t / "erased"), "reg:5000\n");
  EXPECT_FALSE(std::filesystem::exists(t / "kept"));
  f = json::parse(read_file(file));
  EXPECT_FALSE(f["auths"].contains("reg:5000"));
  EXPECT_TRUE(f["auths"].contains("other:1"));
  EXPECT_FALSE(registry::remove_login("reg:5000"));  // neither the helper nor the file has it

  // credHelpers names a helper per registry, before credsStore; a helper that fails stops the
  // login with its message and the file unchanged.
  write_file(file, R"({"credsStore": "minirun-fake", "credHelpers": {"locked:1": "minirun-broken"}})");
  try {
    registry::save_login("locked:1", {"me", "pw"});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("docker-credential-minirun-broken store: exit status 4: keyring locked"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(json::parse(read_file(file)),
            json::parse(R"({"credsStore": "minirun-fake", "credHelpers": {"locked:1": "minirun-broken"}})"));
}

namespace {

// The registry's credentials stored as login stores them, in an auth file of `work`: a pull's
// source reads that file and fetches PATH:1 with them.
void expect_a_pull_uses_the_stored_login(const Registry& reg, const TempDir& work, const std::string& path) {
  const RegistryOptions& o = reg.options();
  std::string file = work / "auth.json";
  registry::write_auth_file(file, registry::auth_file_with_login("", reg.host(), {o.user, o.password}, file));
  EnvVar env("REGISTRY_AUTH_FILE", file);
  registry::SourceOptions with_file = quick();
  with_file.read_auth_files = true;
  Reference ref;
  ref.domain = reg.host();
  ref.path = path;
  EXPECT_NO_THROW(registry::open_source(ref, with_file)->manifest("1"));
}

}  // namespace

TEST(CheckLogin, BasicCredentialsAgainstHtpasswd) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::htpasswd;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("basic\n"), "img"), "r/img:1");
  EXPECT_NO_THROW(registry::check_login(reg.host(), {o.user, o.password}, quick()));
  try {
    registry::check_login(reg.host(), {o.user, "wrong"}, quick());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unauthorized"), std::string::npos) << e.what();
  }
  // Stored, a pull's source finds and uses them.
  expect_a_pull_uses_the_stored_login(reg, work, "r/img");
}

TEST(CheckLogin, BearerTokenGrantedOnlyForTheRightPassword) {
  MINIRUN_REQUIRE_SKOPEO();
  RegistryOptions o;
  o.auth = RegistryOptions::Auth::token;
  Registry reg(o);
  TempDir work;
  reg.push(docker_archive_source(work.path(), small_image("token\n"), "img"), "app/x:1");
  EXPECT_NO_THROW(registry::check_login(reg.host(), {o.user, o.password}, quick()));
  try {
    registry::check_login(reg.host(), {o.user, "wrong"}, quick());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unauthorized: incorrect username or password"), std::string::npos)
        << e.what();
  }
  expect_a_pull_uses_the_stored_login(reg, work, "app/x");
}

TEST(CheckLogin, ARegistryWithoutAuthenticationAcceptsAny) {
  MINIRUN_REQUIRE_SKOPEO();
  Registry reg;
  EXPECT_NO_THROW(registry::check_login(reg.host(), {"any", "thing"}, quick()));
}

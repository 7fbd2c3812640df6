// registry_fixture.h — a real registry for the tests: Debian's docker-registry (distribution 2.8)
// on 127.0.0.1 with a free port and a configuration per scenario (plain HTTP, TLS with a CA made
// for the test, htpasswd with bcrypt, `silly` Bearer auth with a token endpoint of the test's own,
// the `redirect` storage middleware, a pull-through mirror of another registry), images pushed
// into it with skopeo, and a bare HTTP/1.1 client to look at it.
//
// The servers beside it (token endpoint, redirect target, fault_proxy.h) are registry_helper.py.
// Everything listens on 127.0.0.1 only; every process is killed and reaped by the destructor and
// dies with the test process anyway (PR_SET_PDEATHSIG, or the helper's parent watch); the
// temporary directory goes with it. Tests skip with a message when docker-registry, python3 or
// skopeo is missing (MINIRUN_REQUIRE_REGISTRY, MINIRUN_REQUIRE_SKOPEO).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "testutil.h"

namespace minirun::test {

// Why registry tests cannot run here ("" when they can): docker-registry or python3 missing.
std::string registry_missing();
// Why pushes cannot run here ("" when they can): skopeo missing (or registry_missing()).
std::string skopeo_missing();

#define MINIRUN_REQUIRE_REGISTRY()                                              \
  do {                                                                          \
    if (std::string why_ = ::minirun::test::registry_missing(); !why_.empty()) \
      GTEST_SKIP() << why_;                                                     \
  } while (0)
#define MINIRUN_REQUIRE_SKOPEO()                                              \
  do {                                                                        \
    if (std::string why_ = ::minirun::test::skopeo_missing(); !why_.empty()) \
      GTEST_SKIP() << why_;                                                   \
  } while (0)

// One request as registry_helper.py logged it.
struct LoggedRequest {
  std::string method, path, query, range, authorization;
  std::string body;  // a POST's form (the token endpoint's OAuth2 requests)
  int status = 0;
  uint64_t bytes = 0;  // body bytes sent
};
std::vector<LoggedRequest> read_request_log(const std::string& file);

// A child process: killed (SIGTERM, then SIGKILL after 5 s) and reaped by the destructor.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  pid_t pid() const { return pid_; }
  bool running();  // false once it has exited (then reaped)
  void stop();

 private:
  pid_t pid_ = -1;
};

// registry_helper.py in one of its modes, listening on 127.0.0.1 (the port it chose).
class HelperServer {
 public:
  HelperServer(const std::string& mode, const std::vector<std::string>& args, const std::string& dir);
  uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& log_file() const { return log_; }
  std::vector<LoggedRequest> requests() const { return read_request_log(log_); }

 private:
  std::string log_;
  std::unique_ptr<ChildProcess> proc_;
  uint16_t port_ = 0;
};

struct RegistryOptions {
  bool tls = false;  // HTTPS with a certificate for 127.0.0.1 and localhost from ca_cert()'s CA
  enum class Auth { none, htpasswd, token } auth = Auth::none;
  std::string user = "minirun", password = "test-pass-1";  // htpasswd (bcrypt), token endpoint
  bool token_needs_credentials = true;  // the token endpoint answers only to user:password (Basic)
  int token_expires = 300;              // expires_in of the tokens (seconds)
  std::string token_service = "minirun-test-registry";
  // The token endpoint also answers Docker's OAuth2 refresh_token grant (a POST) for this
  // identity token and the refresh tokens it hands out ("" = only GETs).
  std::string refresh_token;
  bool redirect = false;  // blobs answered with a 307 to a static server of the storage directory
  std::string mirror_of;  // a pull-through cache of this registry ("http://127.0.0.1:PORT")
};

class Registry {
 public:
  explicit Registry(RegistryOptions opts = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return (opts_.tls ? "https://" : "http://") + host(); }
  const std::string& dir() const { return dir_.path(); }
  std::string storage() const { return dir_ / "storage"; }
  const std::string& ca_cert() const { return ca_; }  // TLS: the CA's certificate (PEM)
  std::string certs_dir() const { return dir_ / "certs.d"; }  // TLS: HOST:PORT/ca.crt, as certs.d wants
  const RegistryOptions& options() const { return opts_; }
  std::string log() const;  // the registry's output
  // The token endpoint (auth token), the redirect target (redirect): their request logs.
  std::string token_realm() const;
  std::vector<LoggedRequest> token_requests() const;
  std::vector<LoggedRequest> storage_requests() const;

  // skopeo copy SOURCE docker://HOST/REPO_TAG: SOURCE is a containers-transports name
  // ("docker-archive:FILE", "oci-archive:FILE", "oci:DIR:TAG"); `all` copies every image of
  // an index. Credentials and TLS as the registry needs. Throws with skopeo's output on failure.
  void push(const std::string& source, const std::string& repo_tag, bool all = false) const;

 private:
  void make_tls();
  void write_config(const std::string& file) const;

  RegistryOptions opts_;
  TempDir dir_;
  std::string ca_;
  uint16_t port_ = 0;
  std::unique_ptr<HelperServer> token_, storage_server_;
  std::unique_ptr<ChildProcess> proc_;
};

// A bare HTTP/1.1 exchange with 127.0.0.1 (plain HTTP; Connection: close; 10 s bounded).
struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lowercase
  std::string body;
};
HttpReply http_request(const std::string& host_port, const std::string& method, const std::string& path,
                       const std::vector<std::string>& headers = {});

// Image sources for Registry::push, from tests/support's image writers.
// A `docker save` archive of `img` in dir: "docker-archive:FILE".
std::string docker_archive_source(const std::string& dir, TestImage img, const std::string& name);
// An OCI archive of `img` in dir: "oci-archive:FILE".
std::string oci_archive_source(const std::string& dir, TestImage img, const std::string& name);
// An OCI layout in dir/name whose tag `tag` is an image index of two images (linux/amd64 and
// linux/arm64/v8), each with its own layers: "oci:DIR:TAG" (push it with all = true).
struct TwoPlatformImage {
  std::string source;
  std::string index_digest, amd64_digest, arm64_digest;  // the manifests' digests
};
TwoPlatformImage two_platform_source(const std::string& dir, TestImage amd64, TestImage arm64,
                                     const std::string& name, const std::string& tag = "latest");

}  // namespace minirun::test

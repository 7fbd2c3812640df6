#include "registry_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "minirun/util/digest.h"

#ifndef MINIRUN_REGISTRY_HELPER
#error "MINIRUN_REGISTRY_HELPER (the path of registry_helper.py) is set by CMake"
#endif

namespace fs = std::filesystem;
using nlohmann::json;

namespace minirun::test {

namespace {

constexpr const char* kRegistryBinary = "/usr/bin/docker-registry";
constexpr const char* kPython = "/usr/bin/python3";
constexpr const char* kSkopeo = "/usr/bin/skopeo";
constexpr auto kStartTimeout = std::chrono::seconds(20);

bool executable(const char* p) { return access(p, X_OK) == 0; }

// A port free on 127.0.0.1 now (the registry binds it a moment later; a clash is retried).
uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a port on 127.0.0.1");
  }
  close(fd);
  return ntohs(a.sin_port);
}

int connect_loopback(uint16_t port, int timeout_s) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void run_or_throw(const std::vector<std::string>& argv, const std::string& what) {
  CmdResult r = run_cmd(argv, "", 120);
  if (r.code != 0) throw std::runtime_error(what + " failed (" + std::to_string(r.code) + "): " + r.out + r.err);
}

}  // namespace

std::string registry_missing() {
  if (!executable(kRegistryBinary))
    return std::string(kRegistryBinary) + " is missing (Debian's docker-registry package); skipped";
  if (!executable(kPython)) return std::string(kPython) + " is missing; skipped";
  return "";
}

std::string skopeo_missing() {
  std::string why = registry_missing();
  if (!why.empty()) return why;
  if (!executable(kSkopeo)) return std::string(kSkopeo) + " is missing (Debian's skopeo package); skipped";
  return "";
}

std::vector<LoggedRequest> read_request_log(const std::string& file) {
  std::vector<LoggedRequest> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line);
    LoggedRequest r;
    r.method = j.value("method", "");
    r.path = j.value("path", "");
    r.query = j.value("query", "");
    r.range = j.value("range", "");
    r.authorization = j.value("authorization", "");
    r.body = j.value("body", "");
    r.status = j.value("status", 0);
    r.bytes = j.value("bytes", uint64_t{0});
    out.push_back(r);
  }
  return out;
}

// ---- ChildProcess ----

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log) {
  pid_t parent = getpid();
  pid_ = spawn_cmd(argv, log, [parent] {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);  // the test died before the prctl
    setpgid(0, 0);
  });
}

ChildProcess::~ChildProcess() { stop(); }

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int st;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void ChildProcess::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int st;
  while (waitpid(pid_, &st, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &st, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

// ---- HelperServer ----

HelperServer::HelperServer(const std::string& mode, const std::vector<std::string>& args, const std::string& dir) {
  static int seq = 0;
  std::string base = dir + "/" + mode + "-" + std::to_string(++seq);
  log_ = base + ".requests";
  std::string port_file = base + ".port";
  std::vector<std::string> argv = {kPython, MINIRUN_REGISTRY_HELPER, mode, "--log", log_, "--port-file", port_file};
  argv.insert(argv.end(), args.begin(), args.end());
  proc_ = std::make_unique<ChildProcess>(argv, base + ".out");
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!fs::exists(port_file)) {
    if (!proc_->running())
      throw std::runtime_error("registry_helper.py " + mode + " exited: " + slurp(base + ".out"));
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("registry_helper.py " + mode + " did not start in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  port_ = static_cast<uint16_t>(std::stoi(slurp(port_file)));
}

// ---- Registry ----

Registry::Registry(RegistryOptions opts) : opts_(std::move(opts)), dir_("minirun-registry-") {
  fs::create_directories(storage());
  if (opts_.tls) make_tls();
  if (opts_.auth == RegistryOptions::Auth::htpasswd) {
    CmdResult r = run_cmd({"/usr/bin/htpasswd", "-Bbn", opts_.user, opts_.password});
    if (r.code != 0) throw std::runtime_error("htpasswd failed (apache2-utils): " + r.err);
    write_file(dir_ / "htpasswd", r.out);
  }
  if (opts_.auth == RegistryOptions::Auth::token) {
    std::vector<std::string> args = {"--expires", std::to_string(opts_.token_expires)};
    if (opts_.token_needs_credentials) args.insert(args.end(), {"--user", opts_.user, "--password", opts_.password});
    if (!opts_.refresh_token.empty()) args.insert(args.end(), {"--refresh-token", opts_.refresh_token});
    token_ = std::make_unique<HelperServer>("token", args, dir_.path());
  }
  if (opts_.redirect) storage_server_ =
        std::make_unique<HelperServer>("static", std::vector<std::string>{"--dir", storage()}, dir_.path());
  // The port is free when chosen; another process may take it before the registry binds it.
  for (int attempt = 0; attempt < 3 && !proc_; ++attempt) {
    port_ = free_port();
    write_config(dir_ / "config.yml");
    auto p = std::make_unique<ChildProcess>(std::vector<std::string>{kRegistryBinary, "serve", dir_ / "config.yml"},
                                            dir_ / "registry.log");
    auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (true) {
      if (!p->running()) break;
      int fd = connect_loopback(port_, 1);
      if (fd >= 0) {
        close(fd);
        proc_ = std::move(p);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("docker-registry did not listen: " + log());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!proc_ && log().find("address already in use") == std::string::npos)
      throw std::runtime_error("docker-registry exited: " + log());
  }
  if (!proc_) throw std::runtime_error("docker-registry found no free port: " + log());
  if (opts_.tls) {
    fs::create_directories(certs_dir() + "/" + host());
    fs::copy_file(ca_, certs_dir() + "/" + host() + "/ca.crt");
  }
}

Registry::~Registry() {
  proc_.reset();
  token_.reset();
  storage_server_.reset();
}

std::string Registry::log() const { return slurp(dir_ / "registry.log"); }

std::string Registry::token_realm() const { return token_ ? "http://" + token_->host() + "/token" : ""; }

std::vector<LoggedRequest> Registry::token_requests() const { return token_ ? token_->requests() : std::vector<LoggedRequest>{}; }

std::vector<LoggedRequest> Registry::storage_requests() const {
  return storage_server_ ? storage_server_->requests() : std::vector<LoggedRequest>{};
}

// A CA and a server certificate for 127.0.0.1 and localhost (EC P-256: quick to make).
void Registry::make_tls() {
  std::string d = dir_ / "tls";
  fs::create_directories(d);
  ca_ = d + "/ca.crt";
  const std::string ossl = "/usr/bin/openssl";
  run_or_throw({ossl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                d + "/ca.key", "-out", ca_, "-days", "2", "-subj", "/CN=minirun test CA"},
               "openssl (CA)");
  run_or_throw({ossl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                d + "/server.key", "-out", d + "/server.csr", "-subj", "/CN=127.0.0.1"},
               "openssl (server key)");
  write_file(d + "/ext.cnf",
             "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
             "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run_or_throw({ossl, "x509", "-req", "-in", d + "/server.csr", "-CA", ca_, "-CAkey", d + "/ca.key", "-CAcreateserial",
                "-out", d + "/server.crt", "-days", "2", "-extfile", d + "/ext.cnf"},
               "openssl (server certificate)");
}

void Registry::write_config(const std::string& file) const {
  std::ostringstream y;
  y << "version: 0.1\n"
    << "log:\n  level: info\n  formatter: text\n"
    << "storage:\n  filesystem:\n    rootdirectory: " << storage() << "\n  delete:\n    enabled: true\n"
    << "  maintenance:\n    uploadpurging:\n      enabled: false\n"
    << "http:\n  addr: 127.0.0.1:" << port_ << "\n  secret: minirun-test-secret\n";
  if (opts_.tls)
    y << "  tls:\n    certificate: " << dir_ / "tls/server.crt" << "\n    key: " << dir_ / "tls/server.key" << "\n";
  if (opts_.auth == RegistryOptions::Auth::htpasswd)
    y << "auth:\n  htpasswd:\n    realm: minirun-test\n    path: " << dir_ / "htpasswd" << "\n";
  if (opts_.auth == RegistryOptions::Auth::token)
    y << "auth:\n  silly:\n    realm: " << token_realm() << "\n    service: " << opts_.token_service << "\n";
  if (opts_.redirect)
    y << "middleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: http://" << storage_server_->host()
      << "/\n";
  if (!opts_.mirror_of.empty()) y << "proxy:\n  remoteurl: " << opts_.mirror_of << "\n";
  write_file(file, y.str());
}

void Registry::push(const std::string& source, const std::string& repo_tag, bool all) const {
  // skopeo reads no configuration of the machine's: an empty registries.conf, its own auth file.
  std::string conf = dir_ / "skopeo-registries.conf";
  if (!fs::exists(conf)) write_file(conf, "");
  std::vector<std::string> argv = {"/usr/bin/env",
                                   "CONTAINERS_REGISTRIES_CONF=" + conf,
                                   "REGISTRY_AUTH_FILE=" + (dir_ / "skopeo-auth.json"),
                                   "TMPDIR=" + dir_.path(),
                                   kSkopeo,
                                   "--insecure-policy",
                                   "copy",
                                   "--quiet",
                                   "--dest-tls-verify=false"};
  if (opts_.auth != RegistryOptions::Auth::none) argv.push_back("--dest-creds=" + opts_.user + ":" + opts_.password);
  if (all) argv.push_back("--all");
  argv.push_back(source);
  argv.push_back("docker://" + host() + "/" + repo_tag);
  run_or_throw(argv, "skopeo copy " + source + " " + repo_tag);
}

// ---- a bare HTTP client ----

HttpReply http_request(const std::string& host_port, const std::string& method, const std::string& path,
                       const std::vector<std::string>& headers) {
  auto colon = host_port.rfind(':');
  if (host_port.compare(0, colon, "127.0.0.1") != 0) throw std::runtime_error("http_request: loopback only");
  int fd = connect_loopback(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))), 10);
  if (fd < 0) throw std::runtime_error("http_request: cannot connect to " + host_port);
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + host_port + "\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  req += "\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    throw std::runtime_error("http_request: write");
  }
  std::string raw;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  HttpReply r;
  size_t end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || end == std::string::npos)
    throw std::runtime_error("http_request: no HTTP reply from " + host_port);
  r.status = std::stoi(raw.substr(raw.find(' ') + 1, 3));
  std::istringstream hs(raw.substr(0, end));
  std::string line;
  std::getline(hs, line);
  while (std::getline(hs, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto c = line.find(':');
    if (c == std::string::npos) continue;
    std::string k = line.substr(0, c);
    for (auto& ch : k) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    r.headers[k] = line.substr(line.find_first_not_of(' ', c + 1));
  }
  r.body = raw.substr(end + 4);
  return r;
}

// ---- image sources ----

std::string docker_archive_source(const std::string& dir, TestImage img, const std::string& name) {
  std::vector<TestImage> v{std::move(img)};
  std::string file = dir + "/" + name + ".docker.tar";
  write_file(file, docker_archive(v));
  return "docker-archive:" + file;
}

std::string oci_archive_source(const std::string& dir, TestImage img, const std::string& name) {
  img.repo_tags.clear();  // one image and no name: skopeo takes it
  std::vector<TestImage> v{std::move(img)};
  std::string file = dir + "/" + name + ".oci.tar";
  write_file(file, oci_archive(v));
  return "oci-archive:" + file;
}

TwoPlatformImage two_platform_source(const std::string& dir, TestImage amd64, TestImage arm64, const std::string& name,
                                     const std::string& tag) {
  std::string root = dir + "/" + name;
  fs::create_directories(root + "/blobs/sha256");
  auto blob = [&](const std::string& data) {
    std::string d = sha256_digest(data);
    write_file(root + "/blobs/sha256/" + d.substr(7), data);
    return d;
  };
  auto manifest = [&](TestImage& img, const std::string& arch, const std::string& variant) {
    finish_config(img);
    json cfg = json::parse(img.config_json);
    cfg["architecture"] = arch;
    if (!variant.empty()) cfg["variant"] = variant;
    img.config_json = cfg.dump();
    img.image_id = sha256_digest(img.config_json);
    json m = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"}};
    m["config"] = {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                   {"digest", blob(img.config_json)},
                   {"size", img.config_json.size()}};
    m["layers"] = json::array();
    for (const auto& l : img.layers) {
      std::string data = compress(l, Compression::gzip);
      m["layers"].push_back(
          {{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", blob(data)}, {"size", data.size()}});
    }
    std::string mj = m.dump();
    json platform = {{"architecture", arch}, {"os", "linux"}};
    if (!variant.empty()) platform["variant"] = variant;
    return json{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"digest", blob(mj)},
                {"size", mj.size()},
                {"platform", platform}};
  };
  TwoPlatformImage out;
  json index = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}};
  index["manifests"] = json::array({manifest(amd64, "amd64", ""), manifest(arm64, "arm64", "v8")});
  out.amd64_digest = index["manifests"][0]["digest"];
  out.arm64_digest = index["manifests"][1]["digest"];
  std::string ij = index.dump();
  out.index_digest = blob(ij);
  json top = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}};
  top["manifests"] = json::array({{{"mediaType", "application/vnd.oci.image.index.v1+json"},
                                   {"digest", out.index_digest},
                                   {"size", ij.size()},
                                   {"annotations", {{"org.opencontainers.image.ref.name", tag}}}}});
  write_file(root + "/index.json", top.dump());
  write_file(root + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  out.source = "oci:" + root + ":" + tag;
  return out;
}

}  // namespace minirun::test

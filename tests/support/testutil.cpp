#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "minirun/util/digest.h"

namespace fs = std::filesystem;

namespace minirun::test {

bool is_root() { return geteuid() == 0; }

TempDir::TempDir(const std::string& prefix) {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

std::vector<std::string> mounts_under(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string f[5];
    for (auto& x : f) ss >> x;
    if (f[4] == dir || f[4].rfind(dir + "/", 0) == 0) out.push_back(f[4]);
  }
  return out;
}

size_t files_in(const std::string& dir) {
  if (!fs::exists(dir)) return 0;
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TempDir::~TempDir() {
  auto m = mounts_under(path_);
  for (auto it = m.rbegin(); it != m.rend(); ++it) umount2(it->c_str(), MNT_DETACH);
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& data, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
  fs::permissions(path, static_cast<fs::perms>(mode));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TarBuilder& TarBuilder::file(const std::string& path, const std::string& data, Meta m) {
  entries_.push_back({path, data, "", AE_IFREG, false, 0, 0, m});
  return *this;
}
TarBuilder& TarBuilder::dir(const std::string& path, Meta m) {
  entries_.push_back({path, "", "", AE_IFDIR, false, 0, 0, m});
  return *this;
}
TarBuilder& TarBuilder::symlink(const std::string& path, const std::string& target, Meta m) {
  entries_.push_back({path, "", target, AE_IFLNK, false, 0, 0, m});
  return *this;
}
TarBuilder& TarBuilder::hardlink(const std::string& path, const std::string& target, Meta m) {
  entries_.push_back({path, "", target, AE_IFREG, true, 0, 0, m});
  return *this;
}
TarBuilder& TarBuilder::fifo(const std::string& path, Meta m) {
  entries_.push_back({path, "", "", AE_IFIFO, false, 0, 0, m});
  return *this;
}
TarBuilder& TarBuilder::chardev(const std::string& path, unsigned major, unsigned minor, Meta m) {
  entries_.push_back({path, "", "", AE_IFCHR, false, major, minor, m});
  return *this;
}
TarBuilder& TarBuilder::raw(const std::string& path, unsigned type, const std::string& data,
                            const std::string& link, Meta m) {
  entries_.push_back({path, data, link, type, false, 0, 0, m});
  return *this;
}

namespace {
la_ssize_t append_cb(struct archive*, void* client, const void* buf, size_t n) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}
void add_filter(struct archive* a, Compression c) {
  if (c == Compression::gzip) archive_write_add_filter_gzip(a);
  if (c == Compression::zstd) archive_write_add_filter_zstd(a);
}
}  // namespace

std::string TarBuilder::build(Compression c) const {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY");  // non-UTF-8 names as they are
  add_filter(a, c);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, append_cb, nullptr);
  for (const auto& e : entries_) {
    struct archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.path.c_str());
    archive_entry_set_uid(en, e.meta.uid);
    archive_entry_set_gid(en, e.meta.gid);
    archive_entry_set_mtime(en, e.meta.mtime, 0);
    archive_entry_set_perm(en, e.meta.mode & 07777);
    for (const auto& [k, v] : e.meta.xattrs) archive_entry_xattr_add_entry(en, k.c_str(), v.data(), v.size());
    if (e.hardlink) {
      archive_entry_set_filetype(en, AE_IFREG);
      archive_entry_set_hardlink(en, e.link.c_str());
      archive_entry_set_size(en, 0);
    } else {
      archive_entry_set_filetype(en, e.type);
      if (e.type == AE_IFLNK) archive_entry_set_symlink(en, e.link.c_str());
      if (e.type == AE_IFCHR || e.type == AE_IFBLK) {
        archive_entry_set_rdevmajor(en, e.major);
        archive_entry_set_rdevminor(en, e.minor);
      }
      archive_entry_set_size(en, e.type == AE_IFREG ? static_cast<la_int64_t>(e.data.size()) : 0);
    }
    if (archive_write_header(a, en) != ARCHIVE_OK)
      throw std::runtime_error(std::string("tar header: ") + archive_error_string(a));
    if (!e.hardlink && e.type == AE_IFREG && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string compress(const std::string& data, Compression c) {
  if (c == Compression::none) return data;
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  add_filter(a, c);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, append_cb, nullptr);
  struct archive_entry* en = archive_entry_new();
  archive_entry_set_filetype(en, AE_IFREG);
  archive_entry_set_size(en, static_cast<la_int64_t>(data.size()));
  archive_write_header(a, en);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(en);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

void finish_config(TestImage& img) {
  using nlohmann::json;
  img.diff_ids.clear();
  for (const auto& l : img.layers) img.diff_ids.push_back(sha256_digest(l));
  json cfg;
  cfg["architecture"] = "amd64";
  cfg["os"] = "linux";
  cfg["created"] = img.created;
  json c = json::object();
  c["Env"] = img.env;
  if (!img.cmd.empty()) c["Cmd"] = img.cmd;
  if (!img.entrypoint.empty()) c["Entrypoint"] = img.entrypoint;
  if (!img.user.empty()) c["User"] = img.user;
  if (!img.workdir.empty()) c["WorkingDir"] = img.workdir;
  cfg["config"] = c;
  cfg["rootfs"] = {{"type", "layers"}, {"diff_ids", img.diff_ids}};
  json hist = json::array();
  for (size_t i = 0; i < img.layers.size(); i++)
    hist.push_back({{"created", img.created}, {"created_by", "test layer " + std::to_string(i)}});
  cfg["history"] = hist;
  img.config_json = cfg.dump();
  img.image_id = sha256_digest(img.config_json);
}

namespace {
struct TarOut {
  std::string out;
  struct archive* a;
  TarOut() {
    a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, &out, nullptr, append_cb, nullptr);
  }
  void add(const std::string& path, const std::string& data) {
    struct archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, path.c_str());
    archive_entry_set_filetype(en, AE_IFREG);
    archive_entry_set_perm(en, 0644);
    archive_entry_set_mtime(en, 1700000000, 0);
    archive_entry_set_size(en, static_cast<la_int64_t>(data.size()));
    archive_write_header(a, en);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(en);
  }
  void add_dir(const std::string& path) {
    struct archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, path.c_str());
    archive_entry_set_filetype(en, AE_IFDIR);
    archive_entry_set_perm(en, 0755);
    archive_write_header(a, en);
    archive_entry_free(en);
  }
  std::string finish() {
    archive_write_close(a);
    archive_write_free(a);
    return std::move(out);
  }
};
}  // namespace

std::string docker_archive(std::vector<TestImage>& images, Compression lc) {
  using nlohmann::json;
  TarOut t;
  json manifest = json::array();
  json repos = json::object();
  std::map<std::string, bool> written;
  for (auto& img : images) {
    finish_config(img);
    std::string id = img.image_id.substr(7);
    json layers = json::array();
    for (size_t i = 0; i < img.layers.size(); i++) {
      std::string dir = sha256_digest(img.image_id + std::to_string(i)).substr(7);
      if (!written[dir]) {
        t.add_dir(dir);
        t.add(dir + "/VERSION", "1.0");
        t.add(dir + "/layer.tar", compress(img.layers[i], lc));
        written[dir] = true;
      }
      layers.push_back(dir + "/layer.tar");
    }
    t.add(id + ".json", img.config_json);
    manifest.push_back({{"Config", id + ".json"}, {"RepoTags", img.repo_tags}, {"Layers", layers}});
    for (const auto& rt : img.repo_tags) {
      auto colon = rt.rfind(':');
      repos[rt.substr(0, colon)][rt.substr(colon + 1)] = id;
    }
  }
  t.add("manifest.json", manifest.dump());
  t.add("repositories", repos.dump());
  return t.finish();
}

std::string oci_archive(std::vector<TestImage>& images, Compression lc) {
  using nlohmann::json;
  TarOut t;
  t.add_dir("blobs");
  t.add_dir("blobs/sha256");
  std::map<std::string, bool> written;
  auto blob = [&](const std::string& data) {
    std::string d = sha256_digest(data);
    if (!written[d]) {
      t.add("blobs/sha256/" + d.substr(7), data);
      written[d] = true;
    }
    return d;
  };
  json index = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}};
  index["manifests"] = json::array();
  for (auto& img : images) {
    finish_config(img);
    json m = {{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"}};
    m["config"] = {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                   {"digest", blob(img.config_json)},
                   {"size", img.config_json.size()}};
    m["layers"] = json::array();
    for (const auto& l : img.layers) {
      std::string data = compress(l, lc);
      std::string mt = "application/vnd.oci.image.layer.v1.tar";
      if (lc == Compression::gzip) mt += "+gzip";
      if (lc == Compression::zstd) mt += "+zstd";
      m["layers"].push_back({{"mediaType", mt}, {"digest", blob(data)}, {"size", data.size()}});
    }
    std::string mj = m.dump();
    json desc = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                 {"digest", blob(mj)},
                 {"size", mj.size()},
                 {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}};
    if (!img.repo_tags.empty()) desc["annotations"] = {{"io.containerd.image.name", "docker.io/" + img.repo_tags[0]},
                                                       {"org.opencontainers.image.ref.name", img.repo_tags[0]}};
    index["manifests"].push_back(desc);
  }
  t.add("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  t.add("index.json", index.dump());
  return t.finish();
}

}  // namespace minirun::test

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

namespace minirun::test {

CmdResult run_cmd(const std::vector<std::string>& argv, const std::string& input, int timeout_s) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  CmdResult r;
  size_t written = 0;
  if (input.empty()) {
    close(in[1]);
    in[1] = -1;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    struct pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}, {in[1], POLLOUT, 0}};
    int n = poll(fds, in[1] >= 0 ? 3 : 2, 200);
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      break;
    }
    if (n <= 0) continue;
    char buf[65536];
    for (int i = 0; i < 2; i++) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t k = read(fds[i].fd, buf, sizeof buf);
      if (k <= 0) (i == 0 ? out_open : err_open) = false, fds[i].fd = -1;
      else (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(k));
    }
    if (in[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR))) {
      ssize_t k = write(in[1], input.data() + written, input.size() - written);
      if (k > 0) written += static_cast<size_t>(k);
      if (k < 0 || written == input.size()) {
        close(in[1]);
        in[1] = -1;
      }
    }
    if (!out_open && !err_open) break;
  }
  if (in[1] >= 0) close(in[1]);
  close(out[0]);
  close(err[0]);
  int st = 0;
  struct rusage ru = {};
  wait4(pid, &st, 0, &ru);
  r.max_rss_kb = ru.ru_maxrss;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

std::string ustar(const std::string& name, char type, const std::string& data, const std::string* size_field,
                  bool fix_sum) {
  char h[512] = {};
  std::snprintf(h, 100, "%s", name.c_str());
  std::snprintf(h + 100, 8, "%07o", 0644);
  std::snprintf(h + 108, 8, "%07o", 0);
  std::snprintf(h + 116, 8, "%07o", 0);
  if (size_field) std::memcpy(h + 124, size_field->data(), std::min<size_t>(12, size_field->size()));
  else std::snprintf(h + 124, 12, "%011llo", static_cast<unsigned long long>(data.size()));
  std::snprintf(h + 136, 12, "%011o", 0);
  h[156] = type;
  std::memcpy(h + 257, "ustar\0" "00", 8);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", fix_sum ? sum : sum + 1);
  std::string out(h, 512);
  out += data;
  out.append((512 - data.size() % 512) % 512, '\0');
  return out;
}

pid_t spawn_cmd(const std::vector<std::string>& argv, const std::string& log, const std::function<void()>& in_child) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null < 0 || out < 0) _exit(120);
    dup2(null, 0), dup2(out, 1), dup2(out, 2);
    if (in_child) in_child();
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

TarBuilder busybox_rootfs() {
  TarBuilder t;
  t.dir("bin").dir("etc").dir("tmp", TarMeta{01777}).dir("root", TarMeta{0700}).dir("home").dir("home/app", TarMeta{0755, 1000, 1000});
  t.file("bin/busybox", read_file("/bin/busybox"), TarMeta{0755});
  for (const char* app : {"sh", "echo", "cat", "ls", "id", "hostname", "touch", "mknod", "chroot", "mount", "grep", "ip",
                          "ifconfig", "pwd", "sleep", "head", "dd", "wc", "true", "vi", "rm", "mkdir", "chmod", "mv"})
    t.symlink(std::string("bin/") + app, "busybox");
  t.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
  t.file("etc/group", "root:x:0:\napp:x:1000:\nwheel:x:10:app\n");
  return t;
}

TestImage deep_image(int n, const std::string& tag) {
  TestImage img;
  img.layers.push_back(busybox_rootfs().build());
  for (int i = 1; i < n; i++) {
    TarBuilder l;
    l.dir("etc").file("etc/layer-" + std::to_string(i), std::to_string(i) + "\n");
    if (i == n - 1) l.file("etc/.wh.group", "");
    img.layers.push_back(l.build());
  }
  img.repo_tags = {tag};
  return img;
}

std::string find_in_path(const std::string& name) {
  const char* p = std::getenv("PATH");
  std::string path = p ? p : "/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string cand = path.substr(start, end - start) + "/" + name;
    if (!cand.empty() && ::access(cand.c_str(), X_OK) == 0) return cand;
    start = end + 1;
  }
  return {};
}

std::vector<pid_t> processes_mentioning(const std::string& needle) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (cmdline.find(needle) != std::string::npos && std::stoi(name) != ::getpid()) out.push_back(std::stoi(name));
  }
  return out;
}

void stop_daemon(pid_t daemon, const std::string& dir) {
  if (daemon <= 0) return;
  ::kill(daemon, SIGTERM);
  int st = 0;
  for (int i = 0; i < 300 && ::waitpid(daemon, &st, WNOHANG) == 0; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(daemon, SIGKILL);
  ::waitpid(daemon, &st, 0);
  for (pid_t p : processes_mentioning(dir)) ::kill(p, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto left = mounts_under(dir);
  for (auto it = left.rbegin(); it != left.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
}

}  // namespace minirun::test

#include "minirun/build/context_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "minirun/util/error.h"
#include "minirun/util/fsutil.h"

namespace minirun::build {

namespace {

bool is_wildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// "a/./b/../c", "/x", "./" → a context-relative path with no leading slash ("" for the root).
std::string relative_clean(const std::string& p) {
  std::string c = dockerfile::clean_path("/" + p);
  while (!c.empty() && c[0] == '/') c.erase(0, 1);
  return c;
}

std::string base_name(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

bool is_whiteout(const std::string& name) { return name.rfind(".wh.", 0) == 0; }

// The host path of rel (context-relative) with every symbolic link on the way, the last one
// included, resolved inside root: an absolute target or ".." never leaves it. This is how
// BuildKit reads a COPY source (FollowSymlinks): a source that is a link gives the file or the
// directory it points to. Empty when that does not exist (a dangling link).
std::string resolve_in_root(const std::string& root, const std::string& rel) {
  int rfd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) throw sys_error(root);
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, rfd, rel.empty() ? "." : rel.c_str(), &how, sizeof how));
  ::close(rfd);
  if (fd < 0) return {};
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  std::string out(4096, '\0');
  ssize_t n = ::readlink(link.c_str(), out.data(), out.size());
  ::close(fd);
  if (n <= 0 || static_cast<size_t>(n) >= out.size()) return {};
  out.resize(static_cast<size_t>(n));
  return out;
}

class Copier {
 public:
  Copier(const CopySpec& spec, std::string upper) : spec_(spec), upper_(std::move(upper)) {}

  // Makes image_path (absolute) and its missing parents directories in the layer.
  void mkdir_p(const std::string& image_path) {
    std::string cur = upper_;
    std::string rel = relative_clean(image_path);
    size_t pos = 0;
    while (pos < rel.size()) {
      size_t next = rel.find('/', pos);
      if (next == std::string::npos) next = rel.size();
      cur += "/" + rel.substr(pos, next - pos);
      struct stat st;
      if (::lstat(cur.c_str(), &st) != 0) {
        if (::mkdir(cur.c_str(), 0755) != 0) throw sys_error(cur);
        ::chmod(cur.c_str(), 0755);
        std::optional<struct stat> in_image;
        if (spec_.image_dir) in_image = spec_.image_dir("/" + rel.substr(0, next));
        if (in_image) {
          // A directory the image has: the layer keeps its owner, mode and times.
          if (::lchown(cur.c_str(), in_image->st_uid, in_image->st_gid) != 0) throw sys_error(cur);
          if (::chmod(cur.c_str(), in_image->st_mode & 07777) != 0) throw sys_error(cur);
          struct timespec ts[2] = {in_image->st_atim, in_image->st_mtim};
          ::utimensat(AT_FDCWD, cur.c_str(), ts, AT_SYMLINK_NOFOLLOW);
        }
      } else if (!S_ISDIR(st.st_mode)) {
        ::unlink(cur.c_str());
        if (::mkdir(cur.c_str(), 0755) != 0) throw sys_error(cur);
      }
      pos = next + 1;
    }
  }

  // Copies src (a path on the host) to image path dst (absolute), recursively.
  void copy_entry(const std::string& src, const std::string& rel, const std::string& dst, bool contents_only) {
    struct stat st;
    if (::lstat(src.c_str(), &st) != 0) throw sys_error(src);
    std::string out = upper_ + "/" + relative_clean(dst);
    if (S_ISDIR(st.st_mode)) {
      if (contents_only) {
        mkdir_p(dst);
      } else {
        struct stat ost;
        if (::lstat(out.c_str(), &ost) == 0 && !S_ISDIR(ost.st_mode)) ::unlink(out.c_str());
        if (::mkdir(out.c_str(), 0700) != 0 && errno != EEXIST) throw sys_error(out);
      }
      std::vector<std::string> names;
      if (DIR* d = ::opendir(src.c_str())) {
        while (struct dirent* e = ::readdir(d)) {
          std::string n = e->d_name;
          if (n != "." && n != "..") names.push_back(n);
        }
        ::closedir(d);
      } else {
        throw sys_error(src);
      }
      std::sort(names.begin(), names.end());
      for (const auto& n : names) {
        if (spec_.layers && is_whiteout(n)) continue;
        std::string child_rel = rel.empty() ? n : rel + "/" + n;
        if (ignored(child_rel, src + "/" + n)) continue;
        copy_entry(src + "/" + n, child_rel, (dst == "/" ? "" : dst) + "/" + n, false);
      }
      if (!contents_only) finish(out, st, false);
      return;
    }
    struct stat ost;
    if (::lstat(out.c_str(), &ost) == 0) {
      if (S_ISDIR(ost.st_mode)) remove_tree(out);
      else ::unlink(out.c_str());
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
      if (n < 0) throw sys_error(src);
      target.resize(static_cast<size_t>(n));
      if (::symlink(target.c_str(), out.c_str()) != 0) throw sys_error(out);
      finish(out, st, true);
    } else if (S_ISREG(st.st_mode)) {
      int fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw sys_error(src);
      std::string dir = out.substr(0, out.rfind('/'));
      int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0) {
        ::close(fd);
        throw sys_error(dir);
      }
      try {
        copy_regular_file(fd, st, dfd, base_name(out), "COPY " + rel);
      } catch (...) {
        ::close(fd);
        ::close(dfd);
        throw;
      }
      ::close(fd);
      ::close(dfd);
      finish(out, st, false);
    } else {
      if (::mknod(out.c_str(), st.st_mode, st.st_rdev) != 0) throw sys_error(out);
      finish(out, st, false);
    }
  }

  bool ignored(const std::string& rel, const std::string& host_path) const {
    if (!spec_.ignore || !spec_.ignore->excluded(rel)) return false;
    struct stat st;
    if (::lstat(host_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && spec_.ignore->may_include_below(rel))
      return false;
    return true;
  }

 private:
  void finish(const std::string& out, const struct stat& st, bool link) {
    uid_t uid = spec_.keep_owner ? st.st_uid : spec_.uid;
    gid_t gid = spec_.keep_owner ? st.st_gid : spec_.gid;
    if (::lchown(out.c_str(), uid, gid) != 0) throw sys_error(out);
    mode_t mode = spec_.mode ? *spec_.mode : st.st_mode & 07777;
    if (!link && ::chmod(out.c_str(), mode) != 0) throw sys_error(out);
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    ::utimensat(AT_FDCWD, out.c_str(), ts, AT_SYMLINK_NOFOLLOW);
  }

  const CopySpec& spec_;
  std::string upper_;
};

}  // namespace

std::optional<mode_t> parse_chmod(const std::string& chmod, const std::string& instruction) {
  if (chmod.empty()) return std::nullopt;
  if (chmod.size() > 4 || chmod.find_first_not_of("01234567") != std::string::npos)
    throw Error(instruction + " --chmod=" + chmod + ": the mode must be octal (such as 0755)", 1);
  return static_cast<mode_t>(std::stoul(chmod, nullptr, 8));
}

void copy_tree_into_layer(const std::string& src, const std::string& upper, const std::string& dest) {
  CopySpec spec;
  spec.keep_owner = true;
  Copier(spec, upper).copy_entry(src, "", dest, true);
}

void make_dir_in_layer(const std::string& upper, const std::string& image_path) {
  CopySpec none;
  Copier(none, upper).mkdir_p(image_path);
}

void copy_into_layer(const CopySpec& spec, const std::string& upper,
                     const std::function<bool(const std::string& image_path)>& dest_is_dir) {
  // Each source's matches (context-relative), in order, each once.
  std::vector<std::string> matches;
  std::set<std::string> seen;
  for (const auto& s : spec.sources) {
    std::string rel = relative_clean(s);
    std::vector<std::string> found;
    for (const auto& root : spec.roots) {
      if (is_wildcard(rel)) {
        glob_t g{};
        std::string pat = root + "/" + rel;
        if (::glob(pat.c_str(), 0, nullptr, &g) == 0) {
          for (size_t i = 0; i < g.gl_pathc; i++) {
            std::string m = g.gl_pathv[i];
            found.push_back(relative_clean(m.substr(root.size())));
          }
        }
        ::globfree(&g);
      } else {
        struct stat st;
        if (::lstat((root + "/" + rel).c_str(), &st) == 0) found.push_back(rel);
      }
    }
    size_t kept = 0;
    for (const auto& f : found) {
      if (spec.ignore && !f.empty() && spec.ignore->excluded(f)) continue;
      kept++;
      if (seen.insert(f).second) matches.push_back(f);
    }
    if (kept == 0)
      throw Error("COPY failed: file not found in build context or excluded by .dockerignore: stat " + rel +
                      ": file does not exist",
                  1);
  }
  std::string dest = spec.dest;
  bool to_dir = spec.dest_has_slash || dest_is_dir(dest);
  if (matches.size() > 1 && !spec.dest_has_slash && !dest_is_dir(dest))
    throw Error("When using COPY with more than one source file, the destination must be a directory and end with a /", 1);
  Copier c(spec, upper);
  for (const auto& m : matches) {
    for (const auto& root : spec.roots) {
      std::string host = m.empty() ? root : root + "/" + m;
      if (!spec.layers) {
        // The context: links followed inside it (a stage's layers are copied as they are).
        std::string resolved = resolve_in_root(root, m);
        if (!resolved.empty()) host = resolved;
      }
      struct stat st;
      if (::lstat(host.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        c.copy_entry(host, m, dest, true);
      } else {
        if (spec.unpack && S_ISREG(st.st_mode) && spec.unpack(host, upper, dest)) continue;
        std::string target = to_dir ? (dest == "/" ? "" : dest) + "/" + base_name(m) : dest;
        c.mkdir_p(target.substr(0, target.rfind('/')));
        c.copy_entry(host, m, target, false);
      }
    }
  }
}

}  // namespace minirun::build

#include "minirun/image/tar_index.h"

#include <unistd.h>

#include <cstring>
#include <vector>

#include "minirun/util/error.h"

namespace minirun {

uint64_t tar_number(const char* p, size_t n) {
  if (static_cast<unsigned char>(p[0]) & 0x80) {  // GNU base-256
    uint64_t v = static_cast<unsigned char>(p[0]) & 0x7f;
    for (size_t i = 1; i < n; i++) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == 0)) i++;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) v = v * 8 + static_cast<uint64_t>(p[i] - '0');
  return v;
}

bool tar_number_strict(const char* p, size_t n, uint64_t& out) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  out = 0;
  if (u[0] & 0x80) {  // GNU base-256: two's complement, big-endian; a negative value (0xff…) is refused
    if (u[0] != 0x80) return false;
    for (size_t i = 1; i < n; i++) {
      if (out >> 55) return false;  // would not fit in 63 bits
      out = (out << 8) | u[i];
    }
    return true;
  }
  size_t i = 0;
  while (i < n && p[i] == ' ') i++;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
    if (out >> 60) return false;
    out = out * 8 + static_cast<uint64_t>(p[i] - '0');
  }
  for (; i < n; i++)  // only a terminator may follow the digits
    if (p[i] != ' ' && p[i] != 0) return false;
  return true;
}

namespace {

constexpr size_t kMaxResolvedPath = 64 * 1024;

std::string field(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

void read_at(int fd, void* buf, size_t n, uint64_t off) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, static_cast<char*>(buf) + done, n - done, static_cast<off_t>(off + done));
    if (r < 0) throw sys_error("archive: read");
    if (r == 0) throw Error("archive: truncated at byte " + std::to_string(off + done));
    done += static_cast<size_t>(r);
  }
}

[[maybe_unused]] bool checksum_ok(const unsigned char* h) {
  uint64_t want = tar_number(reinterpret_cast<const char*>(h) + 148, 8);
  uint64_t sum = 0;
  for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return sum == want;
}

}  // namespace

// PAX records "len key=value\n": len is the decimal length of the whole record, newline
// included. Anything else (a length past the data, no space, no newline, a size that is not a
// decimal number) is refused rather than guessed at.
void parse_pax(const std::string& data, std::string& path, std::string& link, uint64_t& size, bool& has_size) {
  size_t pos = 0;
  while (pos < data.size()) {
    size_t len = 0, i = pos;
    for (; i < data.size() && data[i] >= '0' && data[i] <= '9' && i - pos < 12; i++)
      len = len * 10 + static_cast<size_t>(data[i] - '0');
    if (i == pos || i >= data.size() || data[i] != ' ' || len > data.size() - pos || i + 1 >= pos + len ||
        data[pos + len - 1] != '\n')
      throw Error("archive: malformed PAX header");
    std::string rec = data.substr(i + 1, pos + len - i - 2);
    size_t eq = rec.find('=');
    if (eq == std::string::npos) throw Error("archive: malformed PAX header");
    std::string k = rec.substr(0, eq), v = rec.substr(eq + 1);
    if (k == "path") path = v;
    else if (k == "linkpath") link = v;
    else if (k == "size") {
      uint64_t n = 0;
      if (v.empty() || v.size() > 19) throw Error("archive: PAX size \"" + v.substr(0, 40) + "\" is not a size");
      for (char c : v) {
        if (c < '0' || c > '9') throw Error("archive: PAX size \"" + v.substr(0, 40) + "\" is not a size");
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      size = n, has_size = true;
    }
    pos += len;
  }
}

std::string normalize_archive_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (c == "..") {
      if (parts.empty()) throw Error("archive: path \"" + path + "\" leaves the archive");
      parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

TarIndex TarIndex::build(int fd, uint64_t file_size) {
  TarIndex idx;
  uint64_t off = 0;
  std::string long_name, long_link, pax_path, pax_link;
  uint64_t pax_size = 0;
  bool pax_has_size = false;
  unsigned char h[512];
  while (off + 512 <= file_size) {
    read_at(fd, h, 512, off);
    bool zero = true;
    for (unsigned char c : h)
      if (c) {
        zero = false;
        break;
      }
    if (zero) return idx;  // end-of-archive marker
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION  // the fuzzers could hardly ever get past it
    if (!checksum_ok(h)) throw Error("archive: bad tar header checksum at byte " + std::to_string(off));
#endif
    const char* hc = reinterpret_cast<const char*>(h);
    char type = hc[156] ? hc[156] : '0';
    uint64_t size = 0;
    if (!tar_number_strict(hc + 124, 12, size))
      throw Error("archive: invalid size field in the tar header at byte " + std::to_string(off));
    if (pax_has_size) size = pax_size;
    uint64_t data = off + 512;
    // Compared without overflow: a huge size must not wrap around to a small offset.
    if (size > file_size - data)
      throw Error("archive: entry at byte " + std::to_string(off) + " runs past the end of the archive (truncated)");
    uint64_t next = data + ((size + 511) / 512) * 512;
    if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
      if (size > (16u << 20)) throw Error("archive: oversized extended header");
      std::string buf(size, '\0');
      read_at(fd, buf.data(), size, data);
      if (type == 'L') long_name = field(buf.data(), buf.size());
      else if (type == 'K') long_link = field(buf.data(), buf.size());
      else if (type == 'x') {
        try {
          parse_pax(buf, pax_path, pax_link, pax_size, pax_has_size);
        } catch (const Error& e) {
          throw Error(std::string(e.what()) + " at byte " + std::to_string(off));
        }
      }
      off = next;
      continue;
    }
    std::string name = field(hc, 100);
    if (std::memcmp(hc + 257, "ustar", 5) == 0 && hc[345]) name = field(hc + 345, 155) + "/" + name;
    if (!long_name.empty()) name = long_name;
    if (!pax_path.empty()) name = pax_path;
    std::string link = field(hc + 157, 100);
    if (!long_link.empty()) link = long_link;
    if (!pax_link.empty()) link = pax_link;
    TarEntry e;
    try {
      e.name = normalize_archive_path(name);
    } catch (const Error&) {
      e.name.clear();  // an entry outside the archive root is never looked up
    }
    e.type = type;
    e.offset = data;
    e.size = (type == '0' || type == '7') ? size : 0;
    e.link = link;
    if (!e.name.empty()) idx.entries_[e.name] = e;
    long_name.clear(), long_link.clear(), pax_path.clear(), pax_link.clear();
    pax_has_size = false;
    off = next;
  }
  if (off < file_size || idx.entries_.empty()) {
    if (idx.entries_.empty()) throw Error("archive: not a tar archive, or empty");
  }
  return idx;
}

const TarEntry* TarIndex::resolve(const std::string& path) const {
  std::string cur;
  try {
    cur = normalize_archive_path(path);
  } catch (const Error&) {
    return nullptr;
  }
  for (int hops = 0; hops < 40; hops++) {
    // Find the first component (prefix) that is a symlink, and substitute it.
    size_t pos = 0;
    bool replaced = false;
    while (pos <= cur.size()) {
      size_t slash = cur.find('/', pos);
      std::string prefix = cur.substr(0, slash);
      auto it = entries_.find(prefix);
      if (it != entries_.end() && (it->second.type == '2' || (it->second.type == '1' && slash == std::string::npos))) {
        const TarEntry& e = it->second;
        std::string rest = slash == std::string::npos ? "" : cur.substr(slash);
        std::string base;
        if (e.type == '2' && !e.link.empty() && e.link[0] != '/') {
          auto ds = prefix.rfind('/');
          base = ds == std::string::npos ? "" : prefix.substr(0, ds + 1);
        }
        try {
          cur = normalize_archive_path(base + e.link + rest);
        } catch (const Error&) {
          return nullptr;
        }
        if (cur.size() > kMaxResolvedPath) return nullptr;  // links that keep growing the path
        replaced = true;
        break;
      }
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
    if (!replaced) {
      auto it = entries_.find(cur);
      return it == entries_.end() ? nullptr : &it->second;
    }
  }
  return nullptr;
}

std::string clean_entry_path(const std::string& p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string c = p.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(std::move(c));
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& c : parts) out += (out.empty() ? "" : "/") + c;
  return out;
}

}  // namespace minirun

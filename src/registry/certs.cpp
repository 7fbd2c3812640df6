// certs.cpp — see certs.h.
#include "minirun/registry/certs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace minirun::registry {

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void read_dir(const fs::path& dir, TlsSettings& t) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string ext = f.extension();
    if (ext == ".crt") {
      std::string pem = slurp(f);
      if (!pem.empty() && pem.back() != '\n') pem += '\n';
      t.ca_pem += pem;
    } else if (ext == ".cert" && t.client_cert.empty()) {
      fs::path key = f;
      key.replace_extension(".key");
      if (fs::exists(key, ec)) {
        t.client_cert = f;
        t.client_key = key;
      }
    }
  }
}

// A CA given as a blob replaces libcurl's default bundle: keep the system's trusted too.
void add_system_bundle(TlsSettings& t) {
  if (t.ca_pem.empty()) return;
  for (const char* bundle : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"}) {
    std::error_code ec;
    if (fs::exists(bundle, ec)) {
      t.ca_pem += slurp(bundle);
      return;
    }
  }
}

}  // namespace

TlsSettings tls_settings_from_dir(const std::string& dir) {
  TlsSettings t;
  read_dir(dir, t);
  add_system_bundle(t);
  return t;
}

std::vector<std::string> default_certs_dirs() { return {"/etc/containers/certs.d", "/etc/docker/certs.d"}; }

TlsSettings tls_settings_for(const std::vector<std::string>& dirs, std::string_view host) {
  TlsSettings t;
  for (const auto& d : dirs) read_dir(fs::path(d) / std::string(host), t);
  add_system_bundle(t);
  return t;
}

}  // namespace minirun::registry

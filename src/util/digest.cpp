// The low-level SHA256_* calls go straight to OpenSSL's (SHA-NI) block function. The EVP
// interface would first initialise OpenSSL 3's provider machinery, about 1.5 ms of every
// `minirun run` — most of its user time. They are deprecated, not removed, in OpenSSL 3.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "minirun/util/digest.h"

#include <array>

#include <openssl/sha.h>

#include "minirun/util/error.h"

namespace minirun {

struct Sha256::Impl {
  SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (SHA256_Init(&impl_->ctx) != 1) throw Error("sha256: cannot initialise");
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t len) {
  if (len) SHA256_Update(&impl_->ctx, data, len);
}

std::string Sha256::final_digest() {
  unsigned char md[SHA256_DIGEST_LENGTH];
  unsigned int n = SHA256_DIGEST_LENGTH;
  SHA256_Final(md, &impl_->ctx);
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned i = 0; i < n; i++) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string sha256_digest(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.final_digest();
}

bool is_valid_digest(std::string_view d) {
  // Called for every layer of every image that is run (twice for 500 layers: 64,000 characters).
  static constexpr auto kHex = [] {
    std::array<unsigned char, 256> t{};
    for (int c = '0'; c <= '9'; c++) t[c] = 1;
    for (int c = 'a'; c <= 'f'; c++) t[c] = 1;
    return t;
  }();
  if (d.size() != 71 || d.compare(0, 7, "sha256:") != 0) return false;
  unsigned ok = 1;
  for (size_t i = 7; i < 71; i++) ok &= kHex[static_cast<unsigned char>(d[i])];
  return ok != 0;
}

std::string digest_hex(std::string_view d) {
  if (!is_valid_digest(d)) throw Error("invalid digest \"" + std::string(d.substr(0, 80)) + "\"");
  return std::string(d.substr(7));
}

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
  std::vector<std::string> out;
  out.reserve(diff_ids.size());
  for (const auto& d : diff_ids) {
    if (out.empty())
      out.push_back(d);
    else
      out.push_back(sha256_digest(out.back() + " " + d));
  }
  return out;
}

}  // namespace minirun

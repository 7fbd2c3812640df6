#include "minirun/digest.h"

#include <openssl/evp.h>

#include "minirun/error.h"

namespace minirun {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
    throw Error("sha256: cannot initialise OpenSSL digest");
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::update(const void* data, size_t len) {
  if (len) EVP_DigestUpdate(impl_->ctx, data, len);
}

std::string Sha256::final_digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &n);
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
  if (d.size() != 71 || d.substr(0, 7) != "sha256:") return false;
  for (char c : d.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
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

// digest.h — sha256 digests (OpenSSL) and the image-spec identities built on them.
//
// Owns: streaming sha256, the "sha256:<64 hex>" digest syntax (validated before a digest is
// ever used as a file name, CVE-2014-9358), and ChainID computation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace minirun {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Finishes and returns "sha256:<hex>". The object must not be used afterwards.
  std::string final_digest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "sha256:<hex>" of a byte string.
std::string sha256_digest(std::string_view data);

// True for "sha256:" followed by exactly 64 lowercase hex characters.
bool is_valid_digest(std::string_view digest);

// The 64 hex characters of a valid digest; throws Error otherwise.
std::string digest_hex(std::string_view digest);

// ChainIDs for a list of DiffIDs: out[0] = diff_ids[0],
// out[n] = sha256(out[n-1] + " " + diff_ids[n]).
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

}  // namespace minirun

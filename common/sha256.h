// SHA-256 over OpenSSL EVP: an incremental hasher and one-shot helpers.
//
// Sha256 owns one EVP context; it is movable, not copyable, and not thread-safe
// (one hasher per stream). Digests travel as lowercase hex strings everywhere in
// shardcast (manifests, wire types, logs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace shardcast {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t len);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Finishes the digest and returns it as 64 lowercase hex characters. The hasher
  // is reset and may be reused.
  std::string finishHex();

 private:
  void* ctx_;  // EVP_MD_CTX*, owned
};

std::string sha256Hex(std::string_view data);
std::string sha256Hex(const void* data, size_t len);
// Hashes `length` bytes of an open file from `offset` (pread), or the whole file when
// length is UINT64_MAX.
Result<std::string> sha256File(int fd, uint64_t offset = 0, uint64_t length = UINT64_MAX);
Result<std::string> sha256Path(const std::string& path);
// True for 64 lowercase hex characters.
bool isSha256Hex(std::string_view s);

}  // namespace shardcast

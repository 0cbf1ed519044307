#include "common/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace shardcast {
namespace {

EVP_MD_CTX* asCtx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

std::string toHex(const unsigned char* d, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 0xf];
  }
  return out;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(asCtx(ctx_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() {
  if (ctx_) EVP_MD_CTX_free(asCtx(ctx_));
}

Sha256::Sha256(Sha256&& other) noexcept : ctx_(other.ctx_) { other.ctx_ = nullptr; }

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  if (this != &other) {
    if (ctx_) EVP_MD_CTX_free(asCtx(ctx_));
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

void Sha256::update(const void* data, size_t len) {
  EVP_DigestUpdate(asCtx(ctx_), data, len);
}

std::string Sha256::finishHex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(asCtx(ctx_), md, &n);
  EVP_DigestInit_ex(asCtx(ctx_), EVP_sha256(), nullptr);
  return toHex(md, n);
}

std::string sha256Hex(const void* data, size_t len) {
  Sha256 h;
  h.update(data, len);
  return h.finishHex();
}

std::string sha256Hex(std::string_view data) { return sha256Hex(data.data(), data.size()); }

Result<std::string> sha256File(int fd, uint64_t offset, uint64_t length) {
  Sha256 h;
  std::vector<char> buf(1 << 20);
  uint64_t left = length;
  while (left > 0) {
    size_t want = left < buf.size() ? static_cast<size_t>(left) : buf.size();
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("read", errno);
    }
    if (n == 0) {
      if (length == UINT64_MAX) break;
      return ioError("file is shorter than expected");
    }
    h.update(buf.data(), static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
    if (length != UINT64_MAX) left -= static_cast<uint64_t>(n);
  }
  return h.finishHex();
}

Result<std::string> sha256Path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("open " + path, errno);
  auto r = sha256File(fd);
  ::close(fd);
  return r;
}

bool isSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace shardcast

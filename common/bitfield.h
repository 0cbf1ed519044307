// A fixed-size set of piece indices, stored MSB-first in bytes like BitTorrent's
// bitfield, so it travels as raw bytes on the peer API.
//
// A value type; not thread-safe (owners lock around it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace shardcast {

class Bitfield {
 public:
  Bitfield() = default;
  explicit Bitfield(uint32_t size) : size_(size), bytes_((size + 7) / 8, 0) {}

  uint32_t size() const { return size_; }
  bool get(uint32_t i) const { return (bytes_[i >> 3] >> (7 - (i & 7))) & 1; }
  void set(uint32_t i);
  void clear(uint32_t i);
  uint32_t count() const { return count_; }
  bool complete() const { return count_ == size_; }

  // Raw bytes, ceil(size/8) long; spare trailing bits are zero.
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::string toBytes() const { return std::string(bytes_.begin(), bytes_.end()); }
  // InvalidArgument when the length does not match `size` or spare bits are set.
  static Result<Bitfield> fromBytes(uint32_t size, const std::string& raw);

  bool operator==(const Bitfield& o) const { return size_ == o.size_ && bytes_ == o.bytes_; }

 private:
  uint32_t size_ = 0;
  uint32_t count_ = 0;
  std::vector<uint8_t> bytes_;
};

}  // namespace shardcast

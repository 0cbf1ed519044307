#include "common/bitfield.h"

#include <bit>

namespace shardcast {

void Bitfield::set(uint32_t i) {
  uint8_t mask = static_cast<uint8_t>(0x80u >> (i & 7));
  if (!(bytes_[i >> 3] & mask)) {
    bytes_[i >> 3] |= mask;
    ++count_;
  }
}

void Bitfield::clear(uint32_t i) {
  uint8_t mask = static_cast<uint8_t>(0x80u >> (i & 7));
  if (bytes_[i >> 3] & mask) {
    bytes_[i >> 3] &= static_cast<uint8_t>(~mask);
    --count_;
  }
}

Result<Bitfield> Bitfield::fromBytes(uint32_t size, const std::string& raw) {
  Bitfield b(size);
  if (raw.size() != b.bytes_.size()) {
    return invalidArgument("bitfield has " + std::to_string(raw.size()) + " bytes, want " +
                           std::to_string(b.bytes_.size()));
  }
  for (size_t i = 0; i < raw.size(); ++i) b.bytes_[i] = static_cast<uint8_t>(raw[i]);
  if (size % 8 != 0 && !b.bytes_.empty()) {
    uint8_t spare = static_cast<uint8_t>(0xffu >> (size % 8));
    if (b.bytes_.back() & spare) return invalidArgument("bitfield has spare bits set");
  }
  for (uint8_t byte : b.bytes_) b.count_ += static_cast<uint32_t>(std::popcount(byte));
  return b;
}

}  // namespace shardcast

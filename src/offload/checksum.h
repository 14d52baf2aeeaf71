// The Internet checksum (RFC 1071) as the offload code needs it: partial
// sums that can be combined, folded and complemented, and the TCP/UDP
// pseudo-header sums of IPv4 and IPv6.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace etherip {

// A running one's-complement sum, wide enough that it never overflows for
// inputs up to 64 KiB many times over; fold it before use.
using ChecksumAccumulator = uint64_t;

// Adds the bytes as big-endian 16-bit words; an odd last byte is padded
// with zero. When sums of pieces are combined, every piece but the last
// must have an even length. Sums 4 bytes at a time in host order and swaps
// the folded result (the one's-complement sum commutes with byte swapping,
// RFC 1071 section 2(B)): this runs over every byte of every segment.
inline ChecksumAccumulator ChecksumAdd(ChecksumAccumulator sum,
                                       std::span<const uint8_t> bytes) {
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  uint64_t native = 0;
  while (n >= 4) {
    uint32_t word;
    std::memcpy(&word, p, 4);
    native += word;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t half;
    std::memcpy(&half, p, 2);
    native += half;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    const uint8_t last[2] = {*p, 0};
    uint16_t half;
    std::memcpy(&half, last, 2);
    native += half;
  }
  while (native >> 16) native = (native & 0xffff) + (native >> 16);
  uint16_t folded = static_cast<uint16_t>(native);
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<uint16_t>((folded >> 8) | (folded << 8));
  }
  return sum + folded;
}

inline ChecksumAccumulator ChecksumAdd16(ChecksumAccumulator sum,
                                         uint16_t word) {
  return sum + word;
}

// Folds to 16 bits (not complemented).
inline uint16_t ChecksumFold(ChecksumAccumulator sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The value to store in a checksum field.
inline uint16_t ChecksumFinish(ChecksumAccumulator sum) {
  return static_cast<uint16_t>(~ChecksumFold(sum));
}

// Pseudo-header sums (not folded, not complemented). `source` and
// `destination` are 4 bytes (IPv4) or 16 bytes (IPv6) in network order.
inline ChecksumAccumulator PseudoHeaderSum(std::span<const uint8_t> source,
                                           std::span<const uint8_t> destination,
                                           uint8_t protocol,
                                           uint32_t l4_length) {
  ChecksumAccumulator sum = 0;
  sum = ChecksumAdd(sum, source);
  sum = ChecksumAdd(sum, destination);
  sum += protocol;
  sum += l4_length >> 16;
  sum += l4_length & 0xffff;
  return sum;
}

// Big-endian 16- and 32-bit fields.
inline uint16_t LoadBe16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline void StoreBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | p[3];
}
inline void StoreBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace etherip

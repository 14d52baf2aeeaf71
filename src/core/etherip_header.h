// The 2-byte EtherIP header of RFC 3378 (SPEC 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace etherip {

inline constexpr size_t kEtherIpHeaderSize = 2;
inline constexpr uint8_t kEtherIpVersion = 3;
inline constexpr uint8_t kIpProtocolEtherIp = 97;
inline constexpr size_t kEthernetHeaderSize = 14;

// Writes 0x30 0x00.
inline void EncodeEtherIpHeader(std::span<uint8_t, kEtherIpHeaderSize> out) {
  out[0] = kEtherIpVersion << 4;
  out[1] = 0;
}

// True when the payload starts with an acceptable header: at least 2 bytes,
// version 3 in the high nibble of byte 0, byte 1 zero. The low nibble of
// byte 0 is ignored, as the reference does.
inline bool HasValidEtherIpHeader(std::span<const uint8_t> payload) {
  return payload.size() >= kEtherIpHeaderSize &&
         (payload[0] >> 4) == kEtherIpVersion && payload[1] == 0;
}

}  // namespace etherip

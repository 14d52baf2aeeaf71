// The 2-byte EtherIP header of RFC 3378 (SPEC 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/error.h"

namespace etherip {

inline constexpr size_t kEtherIpHeaderSize = 2;
inline constexpr uint8_t kEtherIpVersion = 3;
inline constexpr uint8_t kIpProtocolEtherIp = 97;
inline constexpr size_t kEthernetHeaderSize = 14;

// Which form of the header an interface sends and accepts (SPEC 6,
// `header`). RFC 3378 puts the version in the high nibble of byte 0;
// NetBSD, early OpenBSD and FreeBSD 6.1-7.2 put it in the low nibble.
enum class HeaderMode : uint8_t {
  kStandard,  // send 30 00; accept version 3 in the high nibble
  kReversed,  // send 03 00; accept version 3 in the low nibble
  kAny,       // send 30 00; accept version 3 in either nibble
};

std::string_view HeaderModeName(HeaderMode mode);  // "standard", ...
// EINVAL naming `text` when it is not one of the names.
Result<HeaderMode> ParseHeaderMode(std::string_view text);

// Writes the header `mode` sends: 0x30 0x00, or 0x03 0x00 when reversed.
inline void EncodeEtherIpHeader(std::span<uint8_t, kEtherIpHeaderSize> out,
                                HeaderMode mode = HeaderMode::kStandard) {
  out[0] =
      mode == HeaderMode::kReversed ? kEtherIpVersion : kEtherIpVersion << 4;
  out[1] = 0;
}

// True when the payload starts with a header `mode` accepts: at least 2
// bytes, version 3 in the nibble of byte 0 that the mode says, byte 1
// zero. The other nibble of byte 0 is ignored, as the reference ignores
// the low one.
inline bool HasValidEtherIpHeader(std::span<const uint8_t> payload,
                                  HeaderMode mode = HeaderMode::kStandard) {
  if (payload.size() < kEtherIpHeaderSize || payload[1] != 0) return false;
  const bool standard = (payload[0] >> 4) == kEtherIpVersion;
  const bool reversed = (payload[0] & 0x0f) == kEtherIpVersion;
  switch (mode) {
    case HeaderMode::kStandard:
      return standard;
    case HeaderMode::kReversed:
      return reversed;
    case HeaderMode::kAny:
      return standard || reversed;
  }
  return false;
}

// MikroTik EoIPv6 (SPEC 8, "EoIP"): protocol 97 with version 3 in the low
// nibble of byte 0 and a 12-bit tunnel ID in the other 12 bits:
// byte 0 = (id >> 8) << 4 | 3, byte 1 = id & 0xff. A packet with nothing
// after the header is a keepalive.
inline constexpr uint16_t kMaxEoipId = 4095;

inline void EncodeEoipHeader(std::span<uint8_t, kEtherIpHeaderSize> out,
                             uint16_t id) {
  out[0] = static_cast<uint8_t>((id >> 8) << 4 | kEtherIpVersion);
  out[1] = static_cast<uint8_t>(id & 0xff);
}

// The EoIP tunnel ID of a payload whose header has the EoIP form (at least
// 2 bytes, version 3 in the low nibble of byte 0); nullopt otherwise.
inline std::optional<uint16_t> EoipIdOf(std::span<const uint8_t> payload) {
  if (payload.size() < kEtherIpHeaderSize ||
      (payload[0] & 0x0f) != kEtherIpVersion) {
    return std::nullopt;
  }
  return static_cast<uint16_t>((payload[0] >> 4) << 8 | payload[1]);
}

}  // namespace etherip

// The virtio-net header (struct virtio_net_hdr of <linux/virtio_net.h>) that
// a TAP opened with IFF_VNET_HDR puts in front of every frame, as a value.
// The TAP is switched to little-endian headers (TUNSETVNETLE), so the wire
// form here is little-endian on every host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace etherip {

struct VirtioNetHeader {
  static constexpr size_t kSize = 10;

  // flags
  static constexpr uint8_t kNeedsChecksum = 1;  // complete the L4 checksum
  static constexpr uint8_t kDataValid = 2;      // checksum already verified
  // gso_type (low 7 bits), plus the ECN bit
  static constexpr uint8_t kGsoNone = 0;
  static constexpr uint8_t kGsoTcpV4 = 1;
  static constexpr uint8_t kGsoUdp =
      3;  // UFO (IP fragmentation): never offered
  static constexpr uint8_t kGsoTcpV6 = 4;
  static constexpr uint8_t kGsoUdpL4 = 5;  // USO (Linux 6.2+)
  static constexpr uint8_t kGsoEcn = 0x80;

  uint8_t flags = 0;
  uint8_t gso_type = kGsoNone;
  uint16_t header_length = 0;    // Ethernet + IP + TCP/UDP headers (a hint)
  uint16_t gso_size = 0;         // L4 payload bytes per segment
  uint16_t checksum_start = 0;   // where the L4 checksum's coverage begins
  uint16_t checksum_offset = 0;  // of the checksum field, from checksum_start

  uint8_t gso_kind() const { return gso_type & ~kGsoEcn; }
  bool is_gso() const { return gso_kind() != kGsoNone; }

  static VirtioNetHeader Decode(std::span<const uint8_t, kSize> in) {
    auto le16 = [&](size_t at) {
      return static_cast<uint16_t>(in[at] | (in[at + 1] << 8));
    };
    return {in[0], in[1], le16(2), le16(4), le16(6), le16(8)};
  }
  void Encode(std::span<uint8_t, kSize> out) const {
    auto le16 = [&](size_t at, uint16_t v) {
      out[at] = static_cast<uint8_t>(v);
      out[at + 1] = static_cast<uint8_t>(v >> 8);
    };
    out[0] = flags;
    out[1] = gso_type;
    le16(2, header_length);
    le16(4, gso_size);
    le16(6, checksum_start);
    le16(8, checksum_offset);
  }
  friend bool operator==(const VirtioNetHeader&,
                         const VirtioNetHeader&) = default;
};

}  // namespace etherip

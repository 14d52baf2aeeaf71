// Where the headers of an Ethernet frame carrying TCP or UDP over IPv4 or
// IPv6 are: the layer-2 part (Ethernet, then 802.1Q / 802.1ad tags), the IP
// header (IPv4 with options, IPv6 with extension headers) and the TCP or
// UDP header. Shared by segmentation (send side) and coalescing (receive
// side). Pure: byte spans in, offsets out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"

namespace etherip {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // 802.1Q
inline constexpr uint16_t kEtherTypeQinQ = 0x88a8;  // 802.1ad
inline constexpr uint8_t kIpProtocolTcp = 6;
inline constexpr uint8_t kIpProtocolUdp = 17;
inline constexpr size_t kMaxVlanTags = 2;
inline constexpr size_t kVlanTagSize = 4;

struct FrameLayout {
  size_t vlan_tags = 0;      // 0..kMaxVlanTags
  size_t l3_offset = 0;      // IP header: 14 + 4 * vlan_tags
  uint8_t ip_version = 0;    // 4 or 6
  size_t l4_offset = 0;      // TCP or UDP header
  uint8_t l4_protocol = 0;   // kIpProtocolTcp or kIpProtocolUdp
  size_t header_length = 0;  // through the TCP header (options) or UDP's 8
  // The IP packet's end as its header says (IPv4 total length, IPv6
  // payload length + 40), from the frame's start. May be less than the
  // frame (Ethernet padding) but never more.
  size_t ip_end = 0;
};

// The number of 802.1Q / 802.1ad tags after the MAC addresses (at most
// kMaxVlanTags are counted), for the size limit of a frame: the interface
// MTU + 14 + 4 per tag.
size_t CountVlanTags(std::span<const uint8_t> frame);

// The largest frame an interface of `mtu` sends, for a frame like `frame`.
inline size_t MaxFrameSize(size_t mtu, std::span<const uint8_t> frame) {
  return mtu + 14 + kVlanTagSize * CountVlanTags(frame);
}

// Parses the headers of `frame`. Fails with EINVAL (the message says what
// is wrong) for: a frame too short for its headers, an EtherType other than
// IPv4/IPv6 after at most two VLAN tags, an IP version that does not match
// the EtherType, an IPv4 header with IHL < 5, an IPv4 fragment (MF set or
// offset non-zero), an IPv6 fragment header or an unknown extension header
// (hop-by-hop 0, routing 43 and destination options 60 are walked), an
// upper protocol other than TCP or UDP, a TCP data offset < 5, or an IP
// length field that is larger than the frame or smaller than its headers.
Result<FrameLayout> ParseFrameLayout(std::span<const uint8_t> frame);

}  // namespace etherip

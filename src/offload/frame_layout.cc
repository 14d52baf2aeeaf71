#include "offload/frame_layout.h"

#include <fmt/format.h>

#include <cerrno>

#include "offload/checksum.h"

namespace etherip {
namespace {

constexpr size_t kEthernetSize = 14;
constexpr size_t kIpv4MinSize = 20;
constexpr size_t kIpv6Size = 40;
constexpr size_t kTcpMinSize = 20;
constexpr size_t kUdpSize = 8;

tl::unexpected<Error> Bad(const char* what) {
  return Fail(EINVAL, fmt::format("frame: {}", what));
}

bool IsVlanType(uint16_t type) {
  return type == kEtherTypeVlan || type == kEtherTypeQinQ;
}

}  // namespace

size_t CountVlanTags(std::span<const uint8_t> frame) {
  size_t tags = 0;
  size_t at = 12;
  while (tags < kMaxVlanTags && at + 2 <= frame.size() &&
         IsVlanType(LoadBe16(&frame[at]))) {
    ++tags;
    at += kVlanTagSize;
  }
  return tags;
}

Result<FrameLayout> ParseFrameLayout(std::span<const uint8_t> frame) {
  FrameLayout layout;
  if (frame.size() < kEthernetSize) return Bad("shorter than Ethernet");
  size_t at = 12;
  uint16_t type = LoadBe16(&frame[at]);
  while (IsVlanType(type)) {
    if (layout.vlan_tags == kMaxVlanTags) return Bad("too many VLAN tags");
    if (frame.size() < at + kVlanTagSize + 2) return Bad("short VLAN tag");
    ++layout.vlan_tags;
    at += kVlanTagSize;
    type = LoadBe16(&frame[at]);
  }
  layout.l3_offset = at + 2;
  const size_t l3 = layout.l3_offset;
  uint8_t protocol;
  if (type == kEtherTypeIpv4) {
    if (frame.size() < l3 + kIpv4MinSize) return Bad("short IPv4 header");
    if ((frame[l3] >> 4) != 4) return Bad("IPv4 EtherType, not version 4");
    const size_t ihl = static_cast<size_t>(frame[l3] & 0x0f) * 4;
    if (ihl < kIpv4MinSize) return Bad("IPv4 IHL < 5");
    if (frame.size() < l3 + ihl) return Bad("short IPv4 options");
    const size_t total = LoadBe16(&frame[l3 + 2]);
    if (total < ihl || l3 + total > frame.size())
      return Bad("IPv4 total length");
    if ((LoadBe16(&frame[l3 + 6]) & 0x3fff) != 0) return Bad("IPv4 fragment");
    layout.ip_version = 4;
    layout.ip_end = l3 + total;
    protocol = frame[l3 + 9];
    layout.l4_offset = l3 + ihl;
  } else if (type == kEtherTypeIpv6) {
    if (frame.size() < l3 + kIpv6Size) return Bad("short IPv6 header");
    if ((frame[l3] >> 4) != 6) return Bad("IPv6 EtherType, not version 6");
    const size_t payload = LoadBe16(&frame[l3 + 4]);
    if (l3 + kIpv6Size + payload > frame.size())
      return Bad("IPv6 payload length");
    layout.ip_version = 6;
    layout.ip_end = l3 + kIpv6Size + payload;
    protocol = frame[l3 + 6];
    size_t next = l3 + kIpv6Size;
    // Hop-by-hop, routing and destination options: 8-byte units after the
    // first 8.
    while (protocol == 0 || protocol == 43 || protocol == 60) {
      if (layout.ip_end < next + 8) return Bad("short IPv6 extension header");
      const uint8_t following = frame[next];
      next += (size_t{frame[next + 1]} + 1) * 8;
      protocol = following;
    }
    if (protocol == 44) return Bad("IPv6 fragment");
    layout.l4_offset = next;
  } else {
    return Bad("not IPv4 or IPv6");
  }
  const size_t l4 = layout.l4_offset;
  if (protocol == kIpProtocolTcp) {
    if (layout.ip_end < l4 + kTcpMinSize) return Bad("short TCP header");
    const size_t data_offset = static_cast<size_t>(frame[l4 + 12] >> 4) * 4;
    if (data_offset < kTcpMinSize) return Bad("TCP data offset < 5");
    if (layout.ip_end < l4 + data_offset) return Bad("short TCP options");
    layout.header_length = l4 + data_offset;
  } else if (protocol == kIpProtocolUdp) {
    if (layout.ip_end < l4 + kUdpSize) return Bad("short UDP header");
    layout.header_length = l4 + kUdpSize;
  } else {
    return Bad("not TCP or UDP");
  }
  layout.l4_protocol = protocol;
  return layout;
}

}  // namespace etherip

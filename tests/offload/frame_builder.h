// Builds Ethernet frames carrying TCP or UDP over IPv4 or IPv6 for the
// offload tests (segmentation and coalescing), and checks their checksums.
//
// Independent of the code under test on purpose: offsets are computed here
// from the spec, and every checksum is a naive byte-by-byte RFC 1071 sum
// (NaiveSum), not checksum.h's, so a bug there cannot hide in both the
// expected and the actual value.
//
// Usage:
//   FrameSpec spec;                       // TCP/IPv4, ACK, no payload
//   spec.payload = PatternPayload(3000);
//   spec.vlan_tags = {{kEtherTypeVlan, 100}};
//   BuiltFrame frame = BuildFrame(spec);  // checksums complete
//   EXPECT_TRUE(L4ChecksumVerifies(frame.bytes, frame.offsets));
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "offload/frame_layout.h"
#include "offload/virtio_net_header.h"

namespace etherip {
namespace testing_support {

// TCP flag bits (byte 13 of the TCP header).
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;
inline constexpr uint8_t kTcpUrg = 0x20;
inline constexpr uint8_t kTcpEce = 0x40;
inline constexpr uint8_t kTcpCwr = 0x80;

// IPv6 extension header types ParseFrameLayout walks.
inline constexpr uint8_t kIpv6HopByHop = 0;
inline constexpr uint8_t kIpv6Routing = 43;
inline constexpr uint8_t kIpv6Fragment = 44;
inline constexpr uint8_t kIpv6DestinationOptions = 60;

struct VlanTag {
  uint16_t tpid = kEtherTypeVlan;  // or kEtherTypeQinQ for an outer S-tag
  uint16_t tci = 0;                // priority, DEI and VLAN ID
};

struct Ipv6ExtensionHeader {
  uint8_t type = kIpv6HopByHop;
  // What follows the next-header and length bytes; zero-padded so the
  // header is a multiple of 8 bytes (6 bytes of body make the smallest).
  std::vector<uint8_t> body = std::vector<uint8_t>(6, 0);
};

// How the L4 checksum field is left.
enum class L4Checksum {
  kComplete,      // a valid checksum, as on the wire
  kPseudoHeader,  // the folded pseudo-header sum, not complemented, as a
                  // NEEDS_CSUM sender (the kernel) leaves it
  kZero,
};

// Everything a frame is built from; the defaults make a valid TCP/IPv4
// frame with ACK set and no payload.
struct FrameSpec {
  std::array<uint8_t, 6> destination_mac = {0x02, 0, 0, 0, 0, 0x02};
  std::array<uint8_t, 6> source_mac = {0x02, 0, 0, 0, 0, 0x01};
  std::vector<VlanTag> vlan_tags;  // outermost first; more than 2 allowed

  uint8_t ip_version = 4;  // 4 or 6; the EtherType follows
  // Overrides the EtherType after the tags when non-zero (e.g. ARP), to
  // build frames that must be refused.
  uint16_t ether_type_override = 0;
  uint8_t ttl = 64;           // hop limit for IPv6
  uint8_t traffic_class = 0;  // IPv4 TOS
  uint32_t flow_label = 0;    // IPv6 only
  uint16_t ipv4_id = 0x1234;
  bool dont_fragment = true;
  uint16_t ipv4_fragment_bits = 0;  // ORed into flags/offset (MF 0x2000)
  std::array<uint8_t, 4> ipv4_source = {192, 0, 2, 1};
  std::array<uint8_t, 4> ipv4_destination = {198, 51, 100, 2};
  std::vector<uint8_t> ipv4_options;  // zero-padded to a multiple of 4
  std::array<uint8_t, 16> ipv6_source = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0,    0,    0,    0,    0, 0, 0, 1};
  std::array<uint8_t, 16> ipv6_destination = {
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  std::vector<Ipv6ExtensionHeader> ipv6_extension_headers;

  uint8_t l4_protocol = kIpProtocolTcp;  // any value; only TCP/UDP get a
                                         // header and checksum
  uint16_t source_port = 40000;
  uint16_t destination_port = 5001;
  uint32_t tcp_sequence = 0x10000000;
  uint32_t tcp_acknowledgement = 0x20000000;
  uint8_t tcp_flags = kTcpAck;
  uint16_t tcp_window = 0xfff0;
  uint16_t tcp_urgent_pointer = 0;
  std::vector<uint8_t> tcp_options;  // zero-padded to a multiple of 4

  std::vector<uint8_t> payload;
  L4Checksum l4_checksum = L4Checksum::kComplete;
  size_t ethernet_padding = 0;  // bytes after the IP packet (value 0)
};

// Where a built frame's parts are, from the frame's start.
struct FrameOffsets {
  size_t l3 = 0;
  uint8_t ip_version = 0;
  size_t l4 = 0;
  uint8_t l4_protocol = 0;
  size_t payload = 0;  // = the headers' length
  size_t ip_end = 0;   // end of the IP packet (before Ethernet padding)
};

struct BuiltFrame {
  std::vector<uint8_t> bytes;
  FrameOffsets offsets;
};

// Bytes 0, 1, 2, ... (mod 251, so that no period lines up with a segment
// size): a payload whose every slice is recognizable.
inline std::vector<uint8_t> PatternPayload(size_t size) {
  std::vector<uint8_t> payload(size);
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<uint8_t>(i % 251);
  return payload;
}

// The RFC 1071 one's-complement sum of `bytes` as big-endian 16-bit words
// (an odd last byte padded with zero), folded, not complemented, one byte
// at a time. A packet whose checksum is right sums (with its pseudo-header)
// to 0xffff.
inline uint16_t NaiveSum(std::span<const uint8_t> bytes, uint32_t initial = 0) {
  uint32_t sum = initial;
  for (size_t i = 0; i < bytes.size(); ++i) {
    sum += (i % 2 == 0) ? uint32_t{bytes[i]} << 8 : uint32_t{bytes[i]};
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

inline uint16_t ReadBe16(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}
inline uint32_t ReadBe32(std::span<const uint8_t> bytes, size_t at) {
  return uint32_t{bytes[at]} << 24 | uint32_t{bytes[at + 1]} << 16 |
         uint32_t{bytes[at + 2]} << 8 | bytes[at + 3];
}
inline void WriteBe16(std::span<uint8_t> bytes, size_t at, uint16_t value) {
  bytes[at] = static_cast<uint8_t>(value >> 8);
  bytes[at + 1] = static_cast<uint8_t>(value);
}

// The pseudo-header of RFC 768 / RFC 793 (IPv4, 12 bytes) or RFC 8200
// (IPv6, 40 bytes), with the addresses of the IP header at `offsets.l3`.
inline std::vector<uint8_t> PseudoHeader(std::span<const uint8_t> frame,
                                         const FrameOffsets& offsets,
                                         uint32_t l4_length) {
  std::vector<uint8_t> pseudo;
  if (offsets.ip_version == 4) {
    const auto addresses = frame.subspan(offsets.l3 + 12, 8);
    pseudo.assign(addresses.begin(), addresses.end());
    pseudo.push_back(0);
    pseudo.push_back(offsets.l4_protocol);
    pseudo.push_back(static_cast<uint8_t>(l4_length >> 8));
    pseudo.push_back(static_cast<uint8_t>(l4_length));
  } else {
    const auto addresses = frame.subspan(offsets.l3 + 8, 32);
    pseudo.assign(addresses.begin(), addresses.end());
    pseudo.push_back(static_cast<uint8_t>(l4_length >> 24));
    pseudo.push_back(static_cast<uint8_t>(l4_length >> 16));
    pseudo.push_back(static_cast<uint8_t>(l4_length >> 8));
    pseudo.push_back(static_cast<uint8_t>(l4_length));
    pseudo.insert(pseudo.end(), {0, 0, 0, offsets.l4_protocol});
  }
  return pseudo;
}

// The one's-complement sum of the pseudo-header and the L4 bytes
// [offsets.l4, offsets.ip_end) of `frame`: 0xffff when the checksum in it
// is right.
inline uint16_t L4ChecksumSum(std::span<const uint8_t> frame,
                              const FrameOffsets& offsets) {
  const auto l4 = frame.subspan(offsets.l4, offsets.ip_end - offsets.l4);
  const std::vector<uint8_t> pseudo =
      PseudoHeader(frame, offsets, static_cast<uint32_t>(l4.size()));
  return NaiveSum(l4, NaiveSum(pseudo));  // the pseudo-header is even
}

inline bool L4ChecksumVerifies(std::span<const uint8_t> frame,
                               const FrameOffsets& offsets) {
  return L4ChecksumSum(frame, offsets) == 0xffff;
}

inline bool Ipv4HeaderChecksumVerifies(std::span<const uint8_t> frame,
                                       const FrameOffsets& offsets) {
  return NaiveSum(frame.subspan(offsets.l3, offsets.l4 - offsets.l3)) == 0xffff;
}

// Where the L4 checksum field is, from the frame's start.
inline size_t L4ChecksumAt(const FrameOffsets& offsets) {
  return offsets.l4 + (offsets.l4_protocol == kIpProtocolUdp ? 6 : 16);
}

inline BuiltFrame BuildFrame(const FrameSpec& spec) {
  BuiltFrame built;
  std::vector<uint8_t>& out = built.bytes;
  FrameOffsets& offsets = built.offsets;
  auto put16 = [&](uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
  };
  auto put32 = [&](uint32_t v) {
    put16(static_cast<uint16_t>(v >> 16));
    put16(static_cast<uint16_t>(v));
  };
  auto pad_to = [&](size_t from, size_t multiple) {
    while ((out.size() - from) % multiple != 0) out.push_back(0);
  };

  out.insert(out.end(), spec.destination_mac.begin(),
             spec.destination_mac.end());
  out.insert(out.end(), spec.source_mac.begin(), spec.source_mac.end());
  for (const VlanTag& tag : spec.vlan_tags) {
    put16(tag.tpid);
    put16(tag.tci);
  }
  const uint16_t ether_type = spec.ether_type_override != 0
                                  ? spec.ether_type_override
                              : spec.ip_version == 4 ? kEtherTypeIpv4
                                                     : kEtherTypeIpv6;
  put16(ether_type);

  offsets.l3 = out.size();
  offsets.ip_version = spec.ip_version;
  offsets.l4_protocol = spec.l4_protocol;
  if (spec.ip_version == 4) {
    out.resize(out.size() + 20);
    out.insert(out.end(), spec.ipv4_options.begin(), spec.ipv4_options.end());
    pad_to(offsets.l3, 4);
  } else {
    out.resize(out.size() + 40);
    for (const Ipv6ExtensionHeader& extension : spec.ipv6_extension_headers) {
      const size_t start = out.size();
      out.push_back(0);  // next header, linked below
      out.push_back(0);  // length, set below
      out.insert(out.end(), extension.body.begin(), extension.body.end());
      pad_to(start, 8);
      out[start + 1] = static_cast<uint8_t>((out.size() - start) / 8 - 1);
    }
  }

  offsets.l4 = out.size();
  if (spec.l4_protocol == kIpProtocolTcp) {
    put16(spec.source_port);
    put16(spec.destination_port);
    put32(spec.tcp_sequence);
    put32(spec.tcp_acknowledgement);
    const size_t data_offset_at = out.size();
    put16(spec.tcp_flags);  // data offset set below
    put16(spec.tcp_window);
    put16(0);  // checksum
    put16(spec.tcp_urgent_pointer);
    out.insert(out.end(), spec.tcp_options.begin(), spec.tcp_options.end());
    pad_to(offsets.l4, 4);
    out[data_offset_at] =
        static_cast<uint8_t>((out.size() - offsets.l4) / 4 << 4);
  } else if (spec.l4_protocol == kIpProtocolUdp) {
    put16(spec.source_port);
    put16(spec.destination_port);
    put16(static_cast<uint16_t>(8 + spec.payload.size()));
    put16(0);  // checksum
  }
  offsets.payload = out.size();
  out.insert(out.end(), spec.payload.begin(), spec.payload.end());
  offsets.ip_end = out.size();
  out.resize(out.size() + spec.ethernet_padding, 0);

  // The IP header, now that the lengths are known.
  const std::span<uint8_t> ip = std::span<uint8_t>(out).subspan(offsets.l3);
  if (spec.ip_version == 4) {
    const size_t header_length = offsets.l4 - offsets.l3;
    ip[0] = static_cast<uint8_t>(0x40 | header_length / 4);
    ip[1] = spec.traffic_class;
    WriteBe16(ip, 2, static_cast<uint16_t>(offsets.ip_end - offsets.l3));
    WriteBe16(ip, 4, spec.ipv4_id);
    WriteBe16(ip, 6,
              static_cast<uint16_t>((spec.dont_fragment ? 0x4000 : 0) |
                                    spec.ipv4_fragment_bits));
    ip[8] = spec.ttl;
    ip[9] = spec.l4_protocol;
    std::copy(spec.ipv4_source.begin(), spec.ipv4_source.end(), &ip[12]);
    std::copy(spec.ipv4_destination.begin(), spec.ipv4_destination.end(),
              &ip[16]);
    WriteBe16(
        ip, 10,
        static_cast<uint16_t>(~NaiveSum(
            std::span<const uint8_t>(out).subspan(offsets.l3, header_length))));
  } else {
    const uint32_t first_word = 6u << 28 | uint32_t{spec.traffic_class} << 20 |
                                (spec.flow_label & 0xfffff);
    for (int i = 0; i < 4; ++i) {
      ip[i] = static_cast<uint8_t>(first_word >> (24 - 8 * i));
    }
    WriteBe16(ip, 4, static_cast<uint16_t>(offsets.ip_end - offsets.l3 - 40));
    ip[7] = spec.ttl;
    std::copy(spec.ipv6_source.begin(), spec.ipv6_source.end(), &ip[8]);
    std::copy(spec.ipv6_destination.begin(), spec.ipv6_destination.end(),
              &ip[24]);
    // Chain the next-header fields: IPv6 -> extensions... -> L4.
    size_t next_header_at = offsets.l3 + 6;
    size_t at = offsets.l3 + 40;
    for (const Ipv6ExtensionHeader& extension : spec.ipv6_extension_headers) {
      out[next_header_at] = extension.type;
      next_header_at = at;
      at += (size_t{out[at + 1]} + 1) * 8;
    }
    out[next_header_at] = spec.l4_protocol;
  }

  if (spec.l4_protocol == kIpProtocolTcp ||
      spec.l4_protocol == kIpProtocolUdp) {
    const size_t checksum_at = L4ChecksumAt(offsets);
    const uint32_t l4_length =
        static_cast<uint32_t>(offsets.ip_end - offsets.l4);
    const uint16_t pseudo_sum = NaiveSum(PseudoHeader(out, offsets, l4_length));
    switch (spec.l4_checksum) {
      case L4Checksum::kComplete: {
        uint16_t checksum = static_cast<uint16_t>(~L4ChecksumSum(out, offsets));
        if (checksum == 0 && spec.l4_protocol == kIpProtocolUdp) {
          checksum = 0xffff;
        }
        WriteBe16(out, checksum_at, checksum);
        break;
      }
      case L4Checksum::kPseudoHeader:
        WriteBe16(out, checksum_at, pseudo_sum);
        break;
      case L4Checksum::kZero:
        break;
    }
  }
  return built;
}

// The virtio-net header a TSO/USO sender puts in front of `frame`: GSO type
// from its IP version and L4 protocol, NEEDS_CSUM at the L4 checksum.
inline VirtioNetHeader GsoHeaderFor(const BuiltFrame& frame,
                                    uint16_t gso_size) {
  const FrameOffsets& offsets = frame.offsets;
  VirtioNetHeader header;
  header.flags = VirtioNetHeader::kNeedsChecksum;
  header.gso_type = offsets.l4_protocol == kIpProtocolUdp
                        ? VirtioNetHeader::kGsoUdpL4
                    : offsets.ip_version == 4 ? VirtioNetHeader::kGsoTcpV4
                                              : VirtioNetHeader::kGsoTcpV6;
  header.header_length = static_cast<uint16_t>(offsets.payload);
  header.gso_size = gso_size;
  header.checksum_start = static_cast<uint16_t>(offsets.l4);
  header.checksum_offset =
      static_cast<uint16_t>(L4ChecksumAt(offsets) - offsets.l4);
  return header;
}

}  // namespace testing_support
}  // namespace etherip

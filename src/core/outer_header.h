// Outer IPv4/IPv6 headers around EtherIP payloads.
//
// Parsing serves the receive side: Linux raw IPv4 sockets hand over the IPv4
// header (options included), and the in-memory backend hands over whole
// packets of either family. Building serves the in-memory backend and the
// tests; on Linux the kernel builds the outer header (it must, to fragment).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/etherip_header.h"
#include "core/ip_address.h"

namespace etherip {

inline constexpr size_t kIpv4HeaderSize = 20;  // without options
inline constexpr size_t kIpv6HeaderSize = 40;
inline constexpr uint8_t kOuterTtl = 64;
inline constexpr uint8_t kOuterIpv4Tos = 0x10;  // IPTOS_LOWDELAY
inline constexpr uint8_t kOuterIpv6Tclass = 0;

// What a tunnel asks of the outer IP header of a packet beyond its
// addresses (SPEC 8, "Outer header options"). Default-constructed: SPEC 1's
// header, as the outer sockets send without being told anything.
struct OuterFields {
  uint8_t ttl = kOuterTtl;  // TTL (IPv4) or hop limit (IPv6)
  // TOS (IPv4) or traffic class (IPv6); unset: the family's default
  // (kOuterIpv4Tos, kOuterIpv6Tclass).
  std::optional<uint8_t> tos = std::nullopt;
  // IPv4: DF set; both: the source does not fragment (a packet over the
  // path MTU fails).
  bool df = false;
  uint32_t fwmark = 0;  // firewall mark of the packet; 0: none
  friend bool operator==(const OuterFields&, const OuterFields&) = default;
};

// The TOS or traffic class `fields` give a packet of `family`.
inline uint8_t OuterTosFor(Family family, const OuterFields& fields) {
  if (fields.tos) return *fields.tos;
  return family == Family::kIpv4 ? kOuterIpv4Tos : kOuterIpv6Tclass;
}

// An outer packet reduced to what the receive decision needs.
struct OuterPacket {
  IpAddress source;
  IpAddress destination;
  std::span<const uint8_t> payload;  // from the EtherIP header on
  // The index of the interface it came in through, in the domain it
  // arrived in; 0: not known. Checked against a zoned tunnel's scope.
  uint32_t ingress = 0;
};

// An outer IPv4 packet as views into its bytes: what the receive path
// needs, with nothing copied.
struct Ipv4Fields {
  const uint8_t* source;       // 4 bytes
  const uint8_t* destination;  // 4 bytes
  std::span<const uint8_t> payload;
};

// Accepts version 4, IHL >= 5 within the buffer, total length within the
// buffer (bytes past it are ignored), protocol 97, and no fragment (the
// kernel reassembles before delivery). Options are skipped. Inline: it runs
// for every received IPv4 packet.
inline std::optional<Ipv4Fields> ParseIpv4Fields(
    std::span<const uint8_t> packet) {
  if (packet.size() < kIpv4HeaderSize || (packet[0] >> 4) != 4) {
    return std::nullopt;
  }
  const size_t header_size = static_cast<size_t>(packet[0] & 0x0f) * 4;
  const size_t total_size = static_cast<size_t>(packet[2] << 8 | packet[3]);
  if (header_size < kIpv4HeaderSize || header_size > total_size ||
      total_size > packet.size()) {
    return std::nullopt;
  }
  const bool more_fragments = packet[6] & 0x20;
  const bool offset = (packet[6] & 0x1f) != 0 || packet[7] != 0;
  if (more_fragments || offset || packet[9] != kIpProtocolEtherIp) {
    return std::nullopt;
  }
  return Ipv4Fields{&packet[12], &packet[16],
                    packet.subspan(header_size, total_size - header_size)};
}

// ParseIpv4Fields, as addresses.
std::optional<OuterPacket> ParseIpv4Packet(std::span<const uint8_t> packet);

// Accepts version 6, next header 97 (no extension headers: the kernel
// consumes them before a raw socket sees the payload), payload length within
// the buffer.
std::optional<OuterPacket> ParseIpv6Packet(std::span<const uint8_t> packet);

// Dispatches on the version nibble.
std::optional<OuterPacket> ParseIpPacket(std::span<const uint8_t> packet);

// Writes a 20-byte IPv4 header: protocol 97, the given identification,
// correct checksum, and TOS, TTL and DF as `fields` say (by default as the
// reference does: TOS low delay, TTL 64, DF clear).
void BuildIpv4Header(std::span<uint8_t, kIpv4HeaderSize> out,
                     const IpAddress& source, const IpAddress& destination,
                     size_t payload_size, uint16_t identification,
                     const OuterFields& fields = {});

// Writes a 40-byte IPv6 header: flow label 0, next header 97, and traffic
// class and hop limit as `fields` say (by default 0 and 64).
void BuildIpv6Header(std::span<uint8_t, kIpv6HeaderSize> out,
                     const IpAddress& source, const IpAddress& destination,
                     size_t payload_size, const OuterFields& fields = {});

// The Internet checksum (RFC 1071) of a header.
uint16_t InternetChecksum(std::span<const uint8_t> bytes);

}  // namespace etherip

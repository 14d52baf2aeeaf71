#include "core/outer_header.h"

#include <algorithm>

#include "core/etherip_header.h"

namespace etherip {
namespace {

uint16_t LoadBe16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

void StoreBe16(uint8_t* p, uint16_t value) {
  p[0] = static_cast<uint8_t>(value >> 8);
  p[1] = static_cast<uint8_t>(value);
}

}  // namespace

std::optional<OuterPacket> ParseIpv4Packet(std::span<const uint8_t> packet) {
  const auto fields = ParseIpv4Fields(packet);
  if (!fields) return std::nullopt;
  return OuterPacket{
      IpAddress::V4(std::span<const uint8_t, 4>(fields->source, 4)),
      IpAddress::V4(std::span<const uint8_t, 4>(fields->destination, 4)),
      fields->payload};
}

std::optional<OuterPacket> ParseIpv6Packet(std::span<const uint8_t> packet) {
  if (packet.size() < kIpv6HeaderSize) return std::nullopt;
  if ((packet[0] >> 4) != 6) return std::nullopt;
  if (packet[6] != kIpProtocolEtherIp) return std::nullopt;
  const size_t payload_size = LoadBe16(&packet[4]);
  if (payload_size > packet.size() - kIpv6HeaderSize) return std::nullopt;
  OuterPacket outer;
  outer.source = IpAddress::V6(packet.subspan<8, 16>());
  outer.destination = IpAddress::V6(packet.subspan<24, 16>());
  outer.payload = packet.subspan(kIpv6HeaderSize, payload_size);
  return outer;
}

std::optional<OuterPacket> ParseIpPacket(std::span<const uint8_t> packet) {
  if (packet.empty()) return std::nullopt;
  switch (packet[0] >> 4) {
    case 4:
      return ParseIpv4Packet(packet);
    case 6:
      return ParseIpv6Packet(packet);
    default:
      return std::nullopt;
  }
}

uint16_t InternetChecksum(std::span<const uint8_t> bytes) {
  uint32_t sum = 0;
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += LoadBe16(&bytes[i]);
  if (i < bytes.size()) sum += static_cast<uint32_t>(bytes[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void BuildIpv4Header(std::span<uint8_t, kIpv4HeaderSize> out,
                     const IpAddress& source, const IpAddress& destination,
                     size_t payload_size, uint16_t identification,
                     const OuterFields& fields) {
  out[0] = 0x45;  // version 4, IHL 5
  out[1] = OuterTosFor(Family::kIpv4, fields);
  StoreBe16(&out[2], static_cast<uint16_t>(kIpv4HeaderSize + payload_size));
  StoreBe16(&out[4], identification);
  StoreBe16(&out[6], fields.df ? 0x4000 : 0);  // DF as asked, no fragment
  out[8] = fields.ttl;
  out[9] = kIpProtocolEtherIp;
  StoreBe16(&out[10], 0);
  std::copy_n(source.bytes().begin(), 4, &out[12]);
  std::copy_n(destination.bytes().begin(), 4, &out[16]);
  StoreBe16(&out[10], InternetChecksum(out));
}

void BuildIpv6Header(std::span<uint8_t, kIpv6HeaderSize> out,
                     const IpAddress& source, const IpAddress& destination,
                     size_t payload_size, const OuterFields& fields) {
  const uint8_t tclass = OuterTosFor(Family::kIpv6, fields);
  out[0] = static_cast<uint8_t>(0x60 | tclass >> 4);  // version 6
  out[1] = static_cast<uint8_t>(tclass << 4);         // flow label 0
  out[2] = 0;
  out[3] = 0;
  StoreBe16(&out[4], static_cast<uint16_t>(payload_size));
  out[6] = kIpProtocolEtherIp;
  out[7] = fields.ttl;
  std::copy_n(source.bytes().begin(), 16, &out[8]);
  std::copy_n(destination.bytes().begin(), 16, &out[24]);
}

}  // namespace etherip

#include "core/outer_header.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "core/core_fixtures.h"
#include "core/etherip_header.h"

namespace etherip {
namespace {

using testing_support::Ip;
using testing_support::Ipv4Packet;
using testing_support::Ipv6Packet;

std::vector<uint8_t> Payload(size_t size) {
  std::vector<uint8_t> payload(size);
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<uint8_t>(i);
  return payload;
}

bool SameBytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

TEST(OuterHeader, ConstantsAreTheReferenceDefaults) {
  EXPECT_EQ(kOuterTtl, 64);
  EXPECT_EQ(kOuterIpv4Tos, 0x10);  // IPTOS_LOWDELAY
  EXPECT_EQ(kIpv4HeaderSize, 20u);
  EXPECT_EQ(kIpv6HeaderSize, 40u);
}

TEST(OuterHeader, BuildIpv4HeaderWritesEveryByte) {
  std::array<uint8_t, kIpv4HeaderSize> out;
  out.fill(0xee);
  BuildIpv4Header(out, Ip("192.0.2.1"), Ip("198.51.100.2"), 100, 0x1234);
  const std::array<uint8_t, kIpv4HeaderSize> expected = {
      0x45,                    // version 4, IHL 5
      0x10,                    // TOS low delay
      0x00, 0x78,              // total length 120
      0x12, 0x34,              // identification
      0x00, 0x00,              // DF clear, no fragment
      0x40,                    // TTL 64
      0x61,                    // protocol 97
      0x7b, 0xaa,              // header checksum (computed by hand)
      0xc0, 0x00, 0x02, 0x01,  // source
      0xc6, 0x33, 0x64, 0x02,  // destination
  };
  EXPECT_EQ(out, expected);
}

TEST(OuterHeader, BuildIpv4HeaderChecksumVerifiesToZero) {
  for (size_t payload_size : {0u, 16u, 1516u, 65515u}) {
    for (uint16_t id : {0, 1, 0xffff}) {
      std::array<uint8_t, kIpv4HeaderSize> out{};
      BuildIpv4Header(out, Ip("203.0.113.200"), Ip("192.0.2.255"), payload_size,
                      id);
      EXPECT_EQ(InternetChecksum(out), 0) << payload_size << " " << id;
    }
  }
}

TEST(OuterHeader, BuildIpv6HeaderWritesEveryByte) {
  std::array<uint8_t, kIpv6HeaderSize> out;
  out.fill(0xee);
  BuildIpv6Header(out, Ip("2001:db8::1"), Ip("2001:db8:ffff::2"), 1516);
  const std::array<uint8_t, kIpv6HeaderSize> expected = {
      0x60, 0x00, 0x00, 0x00,  // version 6, traffic class 0, flow label 0
      0x05, 0xec,              // payload length 1516
      0x61,                    // next header 97
      0x40,                    // hop limit 64
      0x20, 0x01, 0x0d, 0xb8, 0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
      0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
  };
  EXPECT_EQ(out, expected);
}

TEST(OuterHeader, ParseIpv4RoundTripsBuild) {
  const auto payload = Payload(60);
  const auto packet = Ipv4Packet(Ip("192.0.2.1"), Ip("192.0.2.2"), payload);
  auto outer = ParseIpv4Packet(packet);
  ASSERT_TRUE(outer);
  EXPECT_EQ(outer->source, Ip("192.0.2.1"));
  EXPECT_EQ(outer->destination, Ip("192.0.2.2"));
  EXPECT_TRUE(SameBytes(outer->payload, payload));
  EXPECT_EQ(outer->payload.data(), packet.data() + kIpv4HeaderSize);
}

TEST(OuterHeader, ParseIpv6RoundTripsBuild) {
  const auto payload = Payload(60);
  const auto packet = Ipv6Packet(Ip("2001:db8::1"), Ip("2001:db8::2"), payload);
  auto outer = ParseIpv6Packet(packet);
  ASSERT_TRUE(outer);
  EXPECT_EQ(outer->source, Ip("2001:db8::1"));
  EXPECT_EQ(outer->destination, Ip("2001:db8::2"));
  EXPECT_TRUE(SameBytes(outer->payload, payload));
}

TEST(OuterHeader, ParseIpv4SkipsOptionsForEveryIhlFromSixToFifteen) {
  const auto payload = Payload(40);
  for (size_t words = 1; words <= 10; ++words) {
    const auto packet =
        Ipv4Packet(Ip("192.0.2.1"), Ip("192.0.2.2"), payload, words);
    ASSERT_EQ(packet[0] & 0x0f, 5 + words);
    auto outer = ParseIpv4Packet(packet);
    ASSERT_TRUE(outer) << "IHL " << 5 + words;
    EXPECT_TRUE(SameBytes(outer->payload, payload)) << "IHL " << 5 + words;
  }
}

TEST(OuterHeader, ParseIpv4IgnoresBytesPastTotalLength) {
  const auto payload = Payload(20);
  auto packet = Ipv4Packet(Ip("192.0.2.1"), Ip("192.0.2.2"), payload);
  packet.insert(packet.end(), 6, 0x00);  // link-layer padding
  auto outer = ParseIpv4Packet(packet);
  ASSERT_TRUE(outer);
  EXPECT_TRUE(SameBytes(outer->payload, payload));
}

TEST(OuterHeader, ParseIpv4AcceptsDontFragment) {
  auto packet = Ipv4Packet(Ip("192.0.2.1"), Ip("192.0.2.2"), Payload(20));
  packet[6] = 0x40;
  EXPECT_TRUE(ParseIpv4Packet(packet));
}

class MalformedIpv4 : public ::testing::Test {
 protected:
  std::vector<uint8_t> packet_ =
      Ipv4Packet(Ip("192.0.2.1"), Ip("192.0.2.2"), Payload(20));
};

TEST_F(MalformedIpv4, RefusesOtherVersions) {
  for (int version : {0, 5, 6, 15}) {
    packet_[0] = static_cast<uint8_t>(version << 4 | 5);
    EXPECT_FALSE(ParseIpv4Packet(packet_)) << version;
  }
}

TEST_F(MalformedIpv4, RefusesIhlBelowFive) {
  for (int ihl = 0; ihl < 5; ++ihl) {
    packet_[0] = static_cast<uint8_t>(0x40 | ihl);
    EXPECT_FALSE(ParseIpv4Packet(packet_)) << ihl;
  }
}

TEST_F(MalformedIpv4, RefusesIhlBeyondTotalLength) {
  auto packet = Ipv4Packet(Ip("192.0.2.1"), Ip("192.0.2.2"), Payload(8));
  packet[0] = 0x4f;  // 60-byte header in a 28-byte packet
  EXPECT_FALSE(ParseIpv4Packet(packet));
}

TEST_F(MalformedIpv4, RefusesTotalLengthBeyondTheBuffer) {
  packet_[3] += 1;
  EXPECT_FALSE(ParseIpv4Packet(packet_));
}

TEST_F(MalformedIpv4, RefusesTotalLengthBelowTheHeader) {
  packet_[2] = 0;
  packet_[3] = 19;
  EXPECT_FALSE(ParseIpv4Packet(packet_));
}

TEST_F(MalformedIpv4, RefusesBuffersShorterThanAHeader) {
  EXPECT_FALSE(ParseIpv4Packet({}));
  EXPECT_FALSE(ParseIpv4Packet(std::span(packet_).first(19)));
}

TEST_F(MalformedIpv4, RefusesFirstFragment) {
  packet_[6] = 0x20;  // more fragments
  EXPECT_FALSE(ParseIpv4Packet(packet_));
}

TEST_F(MalformedIpv4, RefusesLaterFragment) {
  packet_[7] = 0x01;  // offset 8 bytes, last fragment
  EXPECT_FALSE(ParseIpv4Packet(packet_));
  packet_[6] = 0x1f;
  packet_[7] = 0x00;
  EXPECT_FALSE(ParseIpv4Packet(packet_));
}

TEST_F(MalformedIpv4, RefusesOtherProtocols) {
  for (uint8_t protocol : {4, 41, 47, 96, 98}) {
    packet_[9] = protocol;
    EXPECT_FALSE(ParseIpv4Packet(packet_)) << int{protocol};
  }
}

TEST(OuterHeader, ParseIpv6IgnoresBytesPastPayloadLength) {
  const auto payload = Payload(20);
  auto packet = Ipv6Packet(Ip("2001:db8::1"), Ip("2001:db8::2"), payload);
  packet.insert(packet.end(), 4, 0x00);
  auto outer = ParseIpv6Packet(packet);
  ASSERT_TRUE(outer);
  EXPECT_TRUE(SameBytes(outer->payload, payload));
}

class MalformedIpv6 : public ::testing::Test {
 protected:
  std::vector<uint8_t> packet_ =
      Ipv6Packet(Ip("2001:db8::1"), Ip("2001:db8::2"), Payload(20));
};

TEST_F(MalformedIpv6, RefusesOtherVersions) {
  for (int version : {0, 4, 7, 15}) {
    packet_[0] = static_cast<uint8_t>(version << 4);
    EXPECT_FALSE(ParseIpv6Packet(packet_)) << version;
  }
}

TEST_F(MalformedIpv6, RefusesExtensionHeadersAndOtherProtocols) {
  for (uint8_t next : {0, 4, 41, 43, 44, 59, 60}) {
    packet_[6] = next;
    EXPECT_FALSE(ParseIpv6Packet(packet_)) << int{next};
  }
}

TEST_F(MalformedIpv6, RefusesPayloadLengthBeyondTheBuffer) {
  packet_[5] += 1;
  EXPECT_FALSE(ParseIpv6Packet(packet_));
}

TEST_F(MalformedIpv6, RefusesBuffersShorterThanAHeader) {
  EXPECT_FALSE(ParseIpv6Packet({}));
  EXPECT_FALSE(ParseIpv6Packet(std::span(packet_).first(39)));
}

TEST(OuterHeader, ParseIpPacketDispatchesOnTheVersionNibble) {
  const auto payload = Payload(20);
  const auto v4 = Ipv4Packet(Ip("192.0.2.1"), Ip("192.0.2.2"), payload);
  const auto v6 = Ipv6Packet(Ip("2001:db8::1"), Ip("2001:db8::2"), payload);
  ASSERT_TRUE(ParseIpPacket(v4));
  EXPECT_EQ(ParseIpPacket(v4)->source.family(), Family::kIpv4);
  ASSERT_TRUE(ParseIpPacket(v6));
  EXPECT_EQ(ParseIpPacket(v6)->source.family(), Family::kIpv6);
  auto v5 = v4;
  v5[0] = 0x55;
  EXPECT_FALSE(ParseIpPacket(v5));
  EXPECT_FALSE(ParseIpPacket({}));
}

TEST(OuterHeader, InternetChecksumMatchesRfc1071Example) {
  // RFC 1071 section 3: the sum of these words is 0xddf2.
  const std::array<uint8_t, 8> bytes = {0x00, 0x01, 0xf2, 0x03,
                                        0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(InternetChecksum(bytes), static_cast<uint16_t>(~0xddf2));
}

TEST(OuterHeader, InternetChecksumPadsAnOddByteWithZero) {
  const std::array<uint8_t, 3> odd = {0x12, 0x34, 0x56};
  const std::array<uint8_t, 4> even = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(InternetChecksum(odd), InternetChecksum(even));
  EXPECT_EQ(InternetChecksum(odd), static_cast<uint16_t>(~(0x1234 + 0x5600)));
}

}  // namespace
}  // namespace etherip

#include "core/etherip_header.h"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <vector>

namespace etherip {
namespace {

bool Valid(std::vector<uint8_t> bytes) { return HasValidEtherIpHeader(bytes); }

TEST(EtherIpHeader, ConstantsAreThoseOfRfc3378) {
  EXPECT_EQ(kEtherIpHeaderSize, 2u);
  EXPECT_EQ(kEtherIpVersion, 3);
  EXPECT_EQ(kIpProtocolEtherIp, 97);
  EXPECT_EQ(kEthernetHeaderSize, 14u);
}

TEST(EtherIpHeader, EncodeWritesVersionThreeInHighNibbleAndZeroes) {
  std::array<uint8_t, 2> out = {0xff, 0xff};
  EncodeEtherIpHeader(out);
  EXPECT_EQ(out, (std::array<uint8_t, 2>{0x30, 0x00}));
}

TEST(EtherIpHeader, AcceptsWhatEncodeWrites) {
  std::array<uint8_t, 2> out{};
  EncodeEtherIpHeader(out);
  EXPECT_TRUE(HasValidEtherIpHeader(out));
}

TEST(EtherIpHeader, IgnoresLowNibbleOfFirstByteAsTheReferenceDoes) {
  for (int low = 0; low < 16; ++low) {
    EXPECT_TRUE(Valid({static_cast<uint8_t>(0x30 | low), 0x00})) << low;
  }
}

TEST(HeaderMode, NamesParseBack) {
  for (HeaderMode mode :
       {HeaderMode::kStandard, HeaderMode::kReversed, HeaderMode::kAny}) {
    EXPECT_EQ(ParseHeaderMode(HeaderModeName(mode)), mode);
  }
  auto bad = ParseHeaderMode("netbsd");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, EINVAL);
  EXPECT_EQ(bad.error().message,
            "header netbsd: invalid argument (standard, reversed or any)");
}

TEST(HeaderMode, ReversedSendsVersionThreeInTheLowNibble) {
  std::array<uint8_t, 2> out = {0xff, 0xff};
  EncodeEtherIpHeader(out, HeaderMode::kReversed);
  EXPECT_EQ(out, (std::array<uint8_t, 2>{0x03, 0x00}));
  EXPECT_TRUE(HasValidEtherIpHeader(out, HeaderMode::kReversed));
  EXPECT_TRUE(HasValidEtherIpHeader(out, HeaderMode::kAny));
  EXPECT_FALSE(HasValidEtherIpHeader(out, HeaderMode::kStandard));
  EncodeEtherIpHeader(out, HeaderMode::kAny);
  EXPECT_EQ(out, (std::array<uint8_t, 2>{0x30, 0x00}));
}

TEST(EtherIpHeader, RefusesVersionThreeInLowNibble) {
  // NetBSD and FreeBSD 6.1-7.2 send 0x03 0x00; the reference refuses it.
  EXPECT_FALSE(Valid({0x03, 0x00}));
}

TEST(EtherIpHeader, RefusesEveryOtherVersion) {
  for (int version = 0; version < 16; ++version) {
    if (version == 3) continue;
    EXPECT_FALSE(Valid({static_cast<uint8_t>(version << 4), 0x00})) << version;
  }
}

TEST(EtherIpHeader, RefusesNonZeroReservedSecondByte) {
  for (uint8_t pad : {0x01, 0x10, 0x80, 0xff}) {
    EXPECT_FALSE(Valid({0x30, pad})) << int{pad};
  }
}

TEST(EtherIpHeader, RefusesMikrotikEoipv6TunnelIdHeader) {
  // byte0 = (id >> 8) << 4 | 3, byte1 = id & 0xff, for tunnel id 0x105.
  EXPECT_FALSE(Valid({0x13, 0x05}));
}

TEST(EtherIpHeader, RefusesPayloadsShorterThanTheHeader) {
  EXPECT_FALSE(Valid({}));
  EXPECT_FALSE(Valid({0x30}));
}

TEST(EtherIpHeader, ChecksOnlyTheHeaderNotWhatFollows) {
  EXPECT_TRUE(Valid({0x30, 0x00, 0xff, 0xff}));
}

}  // namespace
}  // namespace etherip

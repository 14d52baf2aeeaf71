#include "core/mac_address.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>

namespace etherip {
namespace {

using Bytes = std::array<uint8_t, 6>;

TEST(MacAddress, ParsesColonSeparated) {
  auto mac = MacAddress::Parse("fe:e1:ba:d0:00:01");
  ASSERT_TRUE(mac);
  EXPECT_EQ(mac->bytes(), (Bytes{0xfe, 0xe1, 0xba, 0xd0, 0x00, 0x01}));
}

TEST(MacAddress, ParsesDashSeparated) {
  auto mac = MacAddress::Parse("fe-e1-ba-d0-00-01");
  ASSERT_TRUE(mac);
  EXPECT_EQ(mac->bytes(), (Bytes{0xfe, 0xe1, 0xba, 0xd0, 0x00, 0x01}));
}

TEST(MacAddress, ParsesHexDigitsInEitherCase) {
  EXPECT_EQ(MacAddress::Parse("FE:E1:bA:D0:0a:0B")->bytes(),
            (Bytes{0xfe, 0xe1, 0xba, 0xd0, 0x0a, 0x0b}));
}

TEST(MacAddress, PrintsLowerCaseColonSeparated) {
  EXPECT_EQ(MacAddress(Bytes{0xFE, 0xE1, 0xBA, 0xD0, 0x00, 0x01}).ToString(),
            "fe:e1:ba:d0:00:01");
  EXPECT_EQ(MacAddress::Parse("FE-E1-BA-D0-0A-0B")->ToString(),
            "fe:e1:ba:d0:0a:0b");
}

TEST(MacAddress, RefusesGarbageWithEinval) {
  for (const char* text :
       {"", "fe:e1:ba:d0:00", "fe:e1:ba:d0:00:01:02", "fe-e1:ba:d0:00:01",
        "fe:e1:ba:d0:00:0g", "fee1.bad0.0001", "fe:e1:ba:d0:00:1",
        " fe:e1:ba:d0:00:01", "fe:e1:ba:d0:00:01 ", "fe:e1:ba:d0:0:001",
        "fe.e1.ba.d0.00.01", "random"}) {
    auto mac = MacAddress::Parse(text);
    ASSERT_FALSE(mac) << text;
    EXPECT_EQ(mac.error().code, EINVAL) << text;
  }
}

TEST(MacAddress, ClassifiesMulticastAndZero) {
  EXPECT_TRUE(MacAddress::Parse("01:00:5e:00:00:01")->is_multicast());
  EXPECT_TRUE(MacAddress::Parse("33:33:00:00:00:01")->is_multicast());
  EXPECT_TRUE(MacAddress::Parse("ff:ff:ff:ff:ff:ff")->is_multicast());
  EXPECT_FALSE(MacAddress::Parse("02:00:00:00:00:01")->is_multicast());
  EXPECT_TRUE(MacAddress().is_zero());
  EXPECT_TRUE(MacAddress::Parse("00:00:00:00:00:00")->is_zero());
  EXPECT_FALSE(MacAddress::Parse("00:00:00:00:00:01")->is_zero());
}

TEST(MacAddress, RandomLocalIsLocallyAdministeredUnicastAndVaries) {
  std::mt19937_64 random(12345);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const MacAddress mac = MacAddress::RandomLocal(random);
    EXPECT_EQ(mac.bytes()[0] & 0x02, 0x02) << mac.ToString();
    EXPECT_FALSE(mac.is_multicast()) << mac.ToString();
    EXPECT_FALSE(mac.is_zero());
    seen.insert(mac.ToString());
  }
  EXPECT_GT(seen.size(), 990u);
}

TEST(MacAddress, RandomLocalIsDeterministicForAGivenGeneratorState) {
  std::mt19937_64 a(7), b(7);
  EXPECT_EQ(MacAddress::RandomLocal(a), MacAddress::RandomLocal(b));
}

}  // namespace
}  // namespace etherip

#include "core/ip_address.h"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <string>
#include <string_view>

namespace etherip {
namespace {

TEST(IpAddress, ParsesAndPrintsIpv4) {
  auto address = IpAddress::Parse("192.0.2.1");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->family(), Family::kIpv4);
  EXPECT_EQ(address->ToString(), "192.0.2.1");
  EXPECT_EQ(address->bytes().size(), 4u);
}

TEST(IpAddress, ParsesAndPrintsIpv6InCanonicalForm) {
  auto address = IpAddress::Parse("2001:DB8:0:0::1");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->family(), Family::kIpv6);
  EXPECT_EQ(address->ToString(), "2001:db8::1");
}

TEST(IpAddress, RefusesWhatIsNotALiteral) {
  for (const char* text : {"", "example.org", "192.0.2", "192.0.2.1/24",
                           "fe80::1%eth0", "2001:db8::1::2", " 192.0.2.1"}) {
    auto address = IpAddress::Parse(text);
    ASSERT_FALSE(address) << text;
    EXPECT_EQ(address.error().code, EINVAL);
  }
}

TEST(IpAddress, RefusesEmbeddedNul) {
  // inet_pton would stop at the NUL and accept "192.0.2.1".
  using namespace std::string_view_literals;
  for (std::string_view text : {"192.0.2.1\0garbage"sv, "2001:db8::1\0"sv}) {
    auto address = IpAddress::Parse(text);
    ASSERT_FALSE(address);
    EXPECT_EQ(address.error().code, EINVAL);
  }
}

TEST(IpAddress, RefusesOverlongText) {
  EXPECT_FALSE(IpAddress::Parse(std::string(64, '1')));
  EXPECT_FALSE(
      IpAddress::Parse("0000:0000:0000:0000:0000:ffff:192.000.002.001"));
}

TEST(IpAddress, BuildsFromBytes) {
  const std::array<uint8_t, 4> v4 = {192, 0, 2, 1};
  EXPECT_EQ(IpAddress::V4(v4), IpAddress::Parse("192.0.2.1").value());
  std::array<uint8_t, 16> v6{};
  v6[0] = 0x20;
  v6[1] = 0x01;
  v6[2] = 0x0d;
  v6[3] = 0xb8;
  v6[15] = 1;
  EXPECT_EQ(IpAddress::V6(v6), IpAddress::Parse("2001:db8::1").value());
  EXPECT_EQ(IpAddress::V6(v6).bytes().size(), 16u);
}

TEST(IpAddress, DefaultHasNoFamilyAndNoBytes) {
  const IpAddress none;
  EXPECT_EQ(none.family(), Family::kNone);
  EXPECT_TRUE(none.bytes().empty());
  EXPECT_EQ(none.ToString(), "");
  EXPECT_FALSE(none.is_multicast());
}

TEST(IpAddress, EqualityIncludesTheFamily) {
  // ::c000:201 and 192.0.2.1 share no family, whatever the bytes.
  const std::array<uint8_t, 4> v4 = {192, 0, 2, 1};
  std::array<uint8_t, 16> v6{};
  std::copy(v4.begin(), v4.end(), v6.begin());
  EXPECT_NE(IpAddress::V4(v4), IpAddress::V6(v6));
}

TEST(IpAddress, ClassifiesUnspecifiedAndMulticast) {
  EXPECT_TRUE(IpAddress::Parse("0.0.0.0")->is_unspecified());
  EXPECT_TRUE(IpAddress::Parse("::")->is_unspecified());
  EXPECT_TRUE(IpAddress::Parse("224.0.0.1")->is_multicast());
  EXPECT_TRUE(IpAddress::Parse("239.255.255.255")->is_multicast());
  EXPECT_TRUE(IpAddress::Parse("ff02::1")->is_multicast());
  EXPECT_FALSE(IpAddress::Parse("192.0.2.1")->is_multicast());
  EXPECT_FALSE(IpAddress::Parse("2001:db8::1")->is_unspecified());
}

}  // namespace
}  // namespace etherip

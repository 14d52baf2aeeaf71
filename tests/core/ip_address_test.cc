#include "core/ip_address.h"

#include <gtest/gtest.h>

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

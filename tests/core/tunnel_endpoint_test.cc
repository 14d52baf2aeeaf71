#include "core/tunnel_endpoint.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "core/core_fixtures.h"

namespace etherip {
namespace {

using testing_support::Ip;

TEST(TunnelEndpoint, ReadsLiterals) {
  auto v4 = TunnelEndpoint::Parse("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(*v4, TunnelEndpoint::Literal(Ip("192.0.2.1")));
  EXPECT_FALSE(v4->is_name());
  auto v6 = TunnelEndpoint::Parse("2001:DB8:0::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->ToString(), "2001:db8::1");  // canonical
}

TEST(TunnelEndpoint, ReadsZonesOfLinkLocalAddresses) {
  auto named = TunnelEndpoint::Parse("fe80::1%eth0");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->address, Ip("fe80::1"));
  EXPECT_EQ(named->zone, "eth0");
  EXPECT_TRUE(named->has_named_zone());
  EXPECT_EQ(named->zone_index(), 0u);
  EXPECT_EQ(named->ToString(), "fe80::1%eth0");
  auto indexed = TunnelEndpoint::Parse("febf:ffff::1%42");
  ASSERT_TRUE(indexed);
  EXPECT_EQ(indexed->zone_index(), 42u);
  EXPECT_FALSE(indexed->has_named_zone());
  EXPECT_TRUE(TunnelEndpoint::Parse("fe80::1%4294967295"));
}

TEST(TunnelEndpoint, RefusesZonesElsewhereAndBadZones) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : {
           Case{"2001:db8::1%eth0", "a zone is only for IPv6 link-local"},
           Case{"fec0::1%eth0", "a zone is only for IPv6 link-local"},
           Case{"192.0.2.1%eth0", "a zone is only for IPv6 link-local"},
           Case{"peer.example%eth0", "is not an IP literal"},
           Case{"fe80::1%", "not an interface name or index"},
           Case{"fe80::1%0", "not an interface name or index"},
           Case{"fe80::1%4294967296", "not an interface name or index"},
           Case{"fe80::1%eth0%1", "not an interface name or index"},
           Case{"fe80::1%a:b", "not an interface name or index"},
           Case{"fe80::1%sixteen-bytes-xx", "not an interface name or index"},
       }) {
    auto parsed = TunnelEndpoint::Parse(c.text);
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_EQ(parsed.error().code, EINVAL);
    EXPECT_NE(parsed.error().message.find(c.why), std::string::npos)
        << c.text << ": " << parsed.error().message;
  }
}

TEST(TunnelEndpoint, ReadsHostNamesAsGiven) {
  for (const char* name :
       {"peer.example", "Peer.EXAMPLE", "peer.example.", "localhost",
        "a-b.c_d.test", "x1.example", "1.2.3.example", "0x7f.example"}) {
    auto parsed = TunnelEndpoint::Parse(name);
    ASSERT_TRUE(parsed) << name;
    EXPECT_TRUE(parsed->is_name()) << name;
    EXPECT_EQ(parsed->host, name);
    EXPECT_EQ(parsed->ToString(), name);
    EXPECT_EQ(parsed->address.family(), Family::kNone);
  }
}

TEST(IsHostName, RefusesWhatIsNoNameAndNumericForms) {
  const std::string label63(63, 'a');
  EXPECT_TRUE(IsHostName(label63 + ".example"));
  EXPECT_FALSE(IsHostName(label63 + "a.example"));
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  long_name += "test";  // 254 bytes
  EXPECT_FALSE(IsHostName(long_name));
  for (const char* bad :
       {"", ".", "..", "a..b", ".a", "-a.example", "a-.example", "a b", "a/b",
        "a%b", "a:b", "192.0.2.300", "3232235777", "1.2.3", "example.123",
        "exa\nmple", "\xc3\xa9.example"}) {
    EXPECT_FALSE(IsHostName(bad)) << bad;
  }
}

TEST(IsLinkLocal, IsFe80Slash10) {
  EXPECT_TRUE(IsLinkLocal(Ip("fe80::1")));
  EXPECT_TRUE(IsLinkLocal(Ip("febf:ffff::1")));
  EXPECT_FALSE(IsLinkLocal(Ip("fec0::1")));
  EXPECT_FALSE(IsLinkLocal(Ip("2001:db8::1")));
  EXPECT_FALSE(IsLinkLocal(Ip("192.0.2.1")));
  EXPECT_FALSE(IsLinkLocal(IpAddress()));
}

}  // namespace
}  // namespace etherip

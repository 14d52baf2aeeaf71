// LinuxResolver against the real system: names from /etc/hosts (localhost
// is in every one) and interface indexes, in the test's own namespace and,
// as root, inside another one. Only names a hosts file has are looked up
// outside a namespace of the test's own (no DNS query leaves the host).
#include "io/linux/linux_resolver.h"

#include <gtest/gtest.h>
#include <net/if.h>

#include <algorithm>
#include <string>

#include "linux_test_support.h"

namespace etherip {
namespace {

using testing::TestNetns;
using testing::UniqueName;

TEST(LinuxResolver, LooksUpANameOfTheHostsFile) {
  LinuxResolver resolver;
  auto found = resolver.LookUpHost("", "localhost", Family::kIpv4);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_NE(
      std::find(found->begin(), found->end(), *IpAddress::Parse("127.0.0.1")),
      found->end());
  for (const IpAddress& address : *found) {
    EXPECT_EQ(address.family(), Family::kIpv4);
  }
}

TEST(LinuxResolver, FindsInterfacesByName) {
  LinuxResolver resolver;
  auto index = resolver.LookUpInterface("", "lo");
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(*index, if_nametoindex("lo"));
  auto missing = resolver.LookUpInterface("", "eipnosuch0");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENODEV);
  EXPECT_EQ(missing.error().message, "No such device");
}

TEST(LinuxResolver, LooksUpInsideADomain) {
  ETHERIP_REQUIRE_ROOT("creates a network namespace");
  TestNetns ns;
  ASSERT_TRUE(ns.ok());
  const std::string bridge = UniqueName("eipz");
  ASSERT_EQ(ns.Ip("link add " + bridge + " type bridge"), 0);
  const auto expected = ns.Sysfs(bridge, "ifindex");
  ASSERT_TRUE(expected);
  LinuxResolver resolver;
  auto index = resolver.LookUpInterface(ns.name(), bridge);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(*index, std::stoul(*expected));
  // The daemon's own namespace has no such link.
  EXPECT_FALSE(resolver.LookUpInterface("", bridge));
  // Files are the daemon's, whatever the domain.
  EXPECT_TRUE(resolver.LookUpHost(ns.name(), "localhost", Family::kIpv4));
  // A name no file has may go to DNS: from inside the namespace, which
  // reaches nothing (SPEC 7). .invalid never resolves (RFC 6761).
  auto unknown =
      resolver.LookUpHost(ns.name(), "etherip-test.invalid", Family::kNone);
  ASSERT_FALSE(unknown);
  EXPECT_FALSE(unknown.error().message.empty());
  auto gone =
      resolver.LookUpHost("eip-no-such-domain", "localhost", Family::kNone);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message, "domain eip-no-such-domain: no such domain");
}

}  // namespace
}  // namespace etherip

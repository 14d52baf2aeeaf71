// LinkControl against the real kernel, on TAPs inside a test namespace,
// checked through that namespace's /sys/class/net.
#include "io/linux/link_control.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "core/mac_address.h"
#include "io/linux/linux_tap.h"
#include "io/linux/netns_enter.h"
#include "linux_test_support.h"

namespace etherip {
namespace {

using testing::TestNetns;
using testing::UniqueName;

MacAddress Mac(const char* text) { return *MacAddress::Parse(text); }

class LinkControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ETHERIP_REQUIRE_ROOT("changes links in a network namespace");
    ASSERT_TRUE(netns_.ok());
    // Both made inside the namespace; the thread leaves it right after.
    auto inside = NetnsEnter::Enter(netns_.name());
    ASSERT_TRUE(inside) << inside.error().message;
    auto tap = LinuxTap::Create(name_);
    ASSERT_TRUE(tap) << tap.error().message;
    tap_ = std::move(*tap);
    auto links = LinkControl::Open();
    ASSERT_TRUE(links) << links.error().message;
    links_.emplace(std::move(*links));
  }

  // The IFF_* flags of the link, from /sys/class/net/NAME/flags ("0x1003").
  unsigned long Flags() {
    auto text = netns_.Sysfs(name_, "flags");
    return text ? std::stoul(*text, nullptr, 16) : ~0ul;
  }

  TestNetns netns_;
  std::string name_ = UniqueName("eipt");
  std::unique_ptr<LinuxTap> tap_;
  std::optional<LinkControl> links_;
};

TEST_F(LinkControlTest, SetsMtu) {
  EXPECT_EQ(netns_.Sysfs(name_, "mtu"), "1500");
  auto done = links_->SetMtu(tap_->ifindex(), 1400);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(netns_.Sysfs(name_, "mtu"), "1400");
  ASSERT_TRUE(links_->SetMtu(tap_->ifindex(), 9000));
  EXPECT_EQ(netns_.Sysfs(name_, "mtu"), "9000");
}

TEST_F(LinkControlTest, RefusedMtuIsAnErrorNamingTheInterface) {
  for (uint32_t mtu : {67u, 65536u}) {
    auto done = links_->SetMtu(tap_->ifindex(), mtu);
    ASSERT_FALSE(done) << mtu;
    EXPECT_EQ(done.error().code, EINVAL);
    EXPECT_NE(done.error().message.find(name_), std::string::npos)
        << done.error().message;
    EXPECT_NE(done.error().message.find(std::to_string(mtu)), std::string::npos)
        << done.error().message;
  }
  EXPECT_EQ(netns_.Sysfs(name_, "mtu"), "1500");
}

TEST_F(LinkControlTest, SetsAddress) {
  const MacAddress mac = Mac("fe:e1:ba:d0:00:01");
  auto done = links_->SetAddress(tap_->ifindex(), mac);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(netns_.Sysfs(name_, "address"), "fe:e1:ba:d0:00:01");
  // Also while the link is up (a TAP allows live address changes).
  ASSERT_TRUE(links_->SetUp(tap_->ifindex(), true));
  ASSERT_TRUE(links_->SetAddress(tap_->ifindex(), Mac("02:00:5e:10:00:07")));
  EXPECT_EQ(netns_.Sysfs(name_, "address"), "02:00:5e:10:00:07");
}

TEST_F(LinkControlTest, RefusesMulticastAddress) {
  auto done = links_->SetAddress(tap_->ifindex(), Mac("01:00:5e:00:00:01"));
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, EADDRNOTAVAIL);
  EXPECT_NE(done.error().message.find(name_), std::string::npos)
      << done.error().message;
}

TEST_F(LinkControlTest, SetsUpAndDown) {
  constexpr unsigned long kUp = 0x1;  // IFF_UP
  EXPECT_EQ(Flags() & kUp, 0u);
  ASSERT_TRUE(links_->SetUp(tap_->ifindex(), true));
  EXPECT_EQ(Flags() & kUp, kUp);
  const unsigned long up_flags = Flags();
  ASSERT_TRUE(links_->SetUp(tap_->ifindex(), true));  // idempotent
  EXPECT_EQ(Flags(), up_flags);
  ASSERT_TRUE(links_->SetUp(tap_->ifindex(), false));
  EXPECT_EQ(Flags() & kUp, 0u);
  // Only IFF_UP changed: broadcast and multicast stay.
  EXPECT_EQ(Flags() | kUp, up_flags);
}

TEST_F(LinkControlTest, IndexOf) {
  auto index = links_->IndexOf(name_);
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(*index, tap_->ifindex());
  EXPECT_EQ(links_->IndexOf("lo"), 1);

  const std::string missing = UniqueName("eipx");
  auto none = links_->IndexOf(missing);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ENODEV);
  EXPECT_NE(none.error().message.find(missing), std::string::npos)
      << none.error().message;

  auto invalid = links_->IndexOf("a/b");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, EINVAL);
}

TEST_F(LinkControlTest, UnknownIndexIsNamedInTheError) {
  constexpr int kMissing = 999999;
  for (auto done :
       {links_->SetMtu(kMissing, 1500), links_->SetUp(kMissing, true),
        links_->SetAddress(kMissing, Mac("02:00:00:00:00:01"))}) {
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error().code, ENODEV);
    EXPECT_NE(done.error().message.find("ifindex 999999"), std::string::npos)
        << done.error().message;
  }
}

// The object works in the namespace it was opened in, whichever namespace
// the calling thread is in now (this test's thread is back in the host's).
TEST_F(LinkControlTest, WorksInTheNamespaceItWasOpenedIn) {
  EXPECT_NE(testing::ThreadNetnsInode(),
            testing::NetnsInodeOf("/run/netns/" + netns_.name()));
  auto index = links_->IndexOf(name_);
  ASSERT_TRUE(index) << index.error().message;
  ASSERT_TRUE(links_->SetMtu(*index, 1280));
  EXPECT_EQ(netns_.Sysfs(name_, "mtu"), "1280");
  // The host has no such link.
  auto host = LinkControl::Open();
  ASSERT_TRUE(host) << host.error().message;
  EXPECT_FALSE(host->IndexOf(name_));
}

}  // namespace
}  // namespace etherip

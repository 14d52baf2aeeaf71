// LinkControl against the real kernel, on TAPs inside a test namespace,
// checked through that namespace's /sys/class/net.
#include "io/linux/link_control.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/mac_address.h"
#include "core/packet_buffer.h"
#include "io/linux/linux_tap.h"
#include "io/linux/netns_enter.h"
#include "io/linux/unique_fd.h"
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

TEST_F(LinkControlTest, SetsGroup) {
  EXPECT_EQ(netns_.Sysfs(name_, "netdev_group"), "0");
  auto done = links_->SetGroup(tap_->ifindex(), 4242);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(netns_.Sysfs(name_, "netdev_group"), "4242");
}

TEST_F(LinkControlTest, GetsTheLinkAsTheKernelSeesIt) {
  const MacAddress mac = Mac("fe:e1:ba:d0:00:02");
  ASSERT_TRUE(links_->SetAddress(tap_->ifindex(), mac));
  ASSERT_TRUE(links_->SetMtu(tap_->ifindex(), 1420));
  ASSERT_TRUE(links_->SetGroup(tap_->ifindex(), 9));
  ASSERT_TRUE(links_->SetUp(tap_->ifindex(), true));
  auto link = links_->Get(tap_->ifindex());
  ASSERT_TRUE(link) << link.error().message;
  EXPECT_EQ(link->ifindex, tap_->ifindex());
  EXPECT_EQ(link->name, name_);
  EXPECT_TRUE(link->up);
  EXPECT_EQ(link->mtu, 1420u);
  EXPECT_EQ(link->address, mac);
  EXPECT_EQ(link->group, 9u);

  for (int missing : {999999, 0, -1}) {
    auto none = links_->Get(missing);
    ASSERT_FALSE(none) << missing;
    EXPECT_EQ(none.error().code, ENODEV) << missing;
    EXPECT_NE(none.error().message.find("ifindex " + std::to_string(missing)),
              std::string::npos)
        << none.error().message;
  }
}

// Group 0 is every link's default: "delete group 0" would mean "delete
// everything deletable". Refused before any request.
TEST_F(LinkControlTest, DeleteGroupRefusesTheDefaultGroup) {
  auto done = links_->DeleteGroup(0);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, EINVAL);
  EXPECT_NE(done.error().message.find("group 0"), std::string::npos)
      << done.error().message;
  EXPECT_EQ(netns_.Sysfs(name_, "ifindex"), std::to_string(tap_->ifindex()));
}

TEST_F(LinkControlTest, DeleteGroupOfNoLinkIsNoSuchDevice) {
  auto done = links_->DeleteGroup(31337);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, ENODEV);
  EXPECT_NE(done.error().message.find("group 31337"), std::string::npos)
      << done.error().message;
}

// One request deletes every TAP of the group, persistent or not, fds open
// or not, and nothing outside the group. The open fds are left as after
// `ip link del` (linux_tap.h): EPOLLERR for ever, EBADFD on read, write and
// ioctl; closing them is all that is left to do, and the names are free.
TEST_F(LinkControlTest, DeleteGroupDeletesEveryTapOfTheGroup) {
  constexpr uint32_t kGroup = 0xe7e1;
  std::vector<std::string> names = {name_, UniqueName("eipt"),
                                    UniqueName("eipt")};
  std::vector<std::unique_ptr<LinuxTap>> taps;
  taps.push_back(std::move(tap_));
  {
    auto inside = NetnsEnter::Enter(netns_.name());
    ASSERT_TRUE(inside) << inside.error().message;
    auto second = LinuxTap::Create(names[1]);
    ASSERT_TRUE(second) << second.error().message;
    taps.push_back(std::move(*second));
    auto persistent = LinuxTap::Create(names[2], TapOptions{.persist = true});
    ASSERT_TRUE(persistent) << persistent.error().message;
    taps.push_back(std::move(*persistent));
  }
  // A persistent TAP whose fd is already closed.
  const std::string orphan = UniqueName("eipo");
  ASSERT_EQ(netns_.Ip("tuntap add dev " + orphan + " mode tap"), 0);
  names.push_back(orphan);
  // Outside the group: stays.
  const std::string bystander = UniqueName("eipb");
  ASSERT_EQ(netns_.Ip("tuntap add dev " + bystander + " mode tap"), 0);

  for (const std::string& name : names) {
    auto index = links_->IndexOf(name);
    ASSERT_TRUE(index) << index.error().message;
    ASSERT_TRUE(links_->SetGroup(*index, kGroup)) << name;
  }
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(epoll.valid());
  for (const auto& tap : taps) {
    epoll_event watch{};
    watch.events = EPOLLIN;
    watch.data.fd = tap->fd();
    ASSERT_EQ(::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, tap->fd(), &watch), 0);
  }
  epoll_event events[8];
  EXPECT_EQ(::epoll_wait(epoll.get(), events, 8, 0), 0);

  auto done = links_->DeleteGroup(kGroup);
  ASSERT_TRUE(done) << done.error().message;
  for (const std::string& name : names) {
    EXPECT_FALSE(links_->IndexOf(name)) << name << " survived";
  }
  EXPECT_TRUE(links_->IndexOf(bystander));
  EXPECT_TRUE(links_->IndexOf("lo"));

  // Every open fd: EPOLLERR, level-triggered, and EBADFD.
  ASSERT_EQ(::epoll_wait(epoll.get(), events, 8, 2000), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(events[i].events & EPOLLERR) << std::hex << events[i].events;
  }
  EXPECT_EQ(::epoll_wait(epoll.get(), events, 8, 0), 3);
  std::vector<PacketBuffer> buffers(4);
  for (const auto& tap : taps) {
    auto read = tap->ReadFrames(buffers);
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, EBADFD) << tap->name();
    auto persist = tap->SetPersist(false);
    ASSERT_FALSE(persist);
    EXPECT_EQ(persist.error().code, EBADFD) << tap->name();
  }
  taps.clear();

  // The names are free again.
  auto inside = NetnsEnter::Enter(netns_.name());
  ASSERT_TRUE(inside) << inside.error().message;
  for (const std::string& name : names) {
    auto again = LinuxTap::Create(name);
    EXPECT_TRUE(again) << again.error().message;
  }
}

// rtnl_group_dellink() checks every link of the group before deleting any:
// one that cannot be deleted (loopback has no rtnl_link_ops) refuses the
// whole request and the others stay.
TEST_F(LinkControlTest, DeleteGroupWithAnUndeletableLinkDeletesNothing) {
  constexpr uint32_t kGroup = 0xe7e2;
  ASSERT_TRUE(links_->SetGroup(tap_->ifindex(), kGroup));
  ASSERT_TRUE(links_->SetGroup(1, kGroup));  // lo
  auto done = links_->DeleteGroup(kGroup);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, EOPNOTSUPP);
  EXPECT_NE(done.error().message.find("group 59362"), std::string::npos)
      << done.error().message;
  EXPECT_EQ(links_->IndexOf(name_), tap_->ifindex());
  EXPECT_EQ(links_->IndexOf("lo"), 1);
}

}  // namespace
}  // namespace etherip

// LinkMonitor against the real kernel: what rtnetlink reports for what, in a
// test namespace (the monitor is opened there; the test thread is back in
// the host's namespace while it reads).
#include "io/linux/link_monitor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/mac_address.h"
#include "io/linux/link_control.h"
#include "io/linux/linux_tap.h"
#include "io/linux/netns_enter.h"
#include "io/linux/unique_fd.h"
#include "linux_test_support.h"

namespace etherip {
namespace {

using Kind = LinkEvent::Kind;
using testing::TestNetns;
using testing::UniqueName;

class LinkMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ETHERIP_REQUIRE_ROOT("watches links in a network namespace");
    ASSERT_TRUE(netns_.ok());
    auto inside = NetnsEnter::Enter(netns_.name());
    ASSERT_TRUE(inside) << inside.error().message;
    auto monitor = LinkMonitor::Open();
    ASSERT_TRUE(monitor) << monitor.error().message;
    monitor_.emplace(std::move(*monitor));
    auto links = LinkControl::Open();
    ASSERT_TRUE(links) << links.error().message;
    links_.emplace(std::move(*links));
  }

  Result<std::unique_ptr<LinuxTap>> CreateTap(const std::string& name) {
    auto inside = NetnsEnter::Enter(netns_.name());
    if (!inside) return tl::unexpected(inside.error());
    return LinuxTap::Create(name);
  }

  // Reads events until `done` holds for those read so far, or nothing new
  // came for 2 s. Returns every event read.
  std::vector<LinkEvent> ReadUntil(
      LinkMonitor& monitor,
      const std::function<bool(const std::vector<LinkEvent>&)>& done) {
    std::vector<LinkEvent> events;
    while (!done(events)) {
      pollfd entry{monitor.fd(), POLLIN, 0};
      if (::poll(&entry, 1, 2000) != 1) break;
      auto read = monitor.Read();
      EXPECT_TRUE(read) << read.error().message;
      if (!read) break;
      EXPECT_FALSE(read->overflowed);
      events.insert(events.end(), read->events.begin(), read->events.end());
    }
    return events;
  }
  std::vector<LinkEvent> ReadUntil(
      const std::function<bool(const std::vector<LinkEvent>&)>& done) {
    return ReadUntil(*monitor_, done);
  }

  // The last event about `ifindex`, if any.
  static std::optional<LinkEvent> Last(const std::vector<LinkEvent>& events,
                                       int ifindex) {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->link.ifindex == ifindex) return *it;
    }
    return std::nullopt;
  }
  // Whether some event about `ifindex` matches.
  static bool Any(const std::vector<LinkEvent>& events, int ifindex,
                  const std::function<bool(const LinkEvent&)>& match) {
    return std::any_of(events.begin(), events.end(), [&](const LinkEvent& e) {
      return e.link.ifindex == ifindex && match(e);
    });
  }
  // Drains what is queued now (e.g. the events of a TAP's creation).
  void Drain() {
    while (true) {
      pollfd entry{monitor_->fd(), POLLIN, 0};
      if (::poll(&entry, 1, 100) != 1) return;
      ASSERT_TRUE(monitor_->Read());
    }
  }

  TestNetns netns_;
  std::string name_ = UniqueName("eipm");
  std::optional<LinkMonitor> monitor_;
  std::optional<LinkControl> links_;
};

TEST_F(LinkMonitorTest, OpensANonBlockingSocketWithALargeBuffer) {
  const int fd = monitor_->fd();
  EXPECT_TRUE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  // Root: SO_RCVBUFFORCE got past net.core.rmem_max; the kernel reports
  // twice what was set.
  EXPECT_EQ(monitor_->receive_buffer(), 2 * LinkMonitor::kDefaultReceiveBuffer);
  // Nothing happened: an empty read, not an error and not a block.
  auto read = monitor_->Read();
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_TRUE(read->events.empty());
  EXPECT_FALSE(read->overflowed);
}

TEST_F(LinkMonitorTest, DumpListsTheLinksAsTheyAre) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  const int index = (*tap)->ifindex();
  const MacAddress mac = *MacAddress::Parse("fe:e1:ba:d0:00:0a");
  ASSERT_TRUE(links_->SetAddress(index, mac));
  ASSERT_TRUE(links_->SetMtu(index, 1400));
  ASSERT_TRUE(links_->SetGroup(index, 77));
  ASSERT_TRUE(links_->SetUp(index, true));

  auto links = monitor_->Dump();
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_EQ(links->size(), 2u);  // lo and the TAP, in index order
  EXPECT_EQ((*links)[0].name, "lo");
  EXPECT_EQ((*links)[0].ifindex, 1);
  const LinkInfo& link = (*links)[1];
  EXPECT_EQ(link, (LinkInfo{.ifindex = index,
                            .name = name_,
                            .up = true,
                            .mtu = 1400,
                            .address = mac,
                            .group = 77}));
  // LinkControl::Get says the same.
  auto got = links_->Get(index);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, link);
  // The dump did not disturb the event queue: the changes above are there.
  auto events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    auto last = Last(events, index);
    return last && last->link == link;
  });
  EXPECT_EQ(Last(events, index)->link, link);
}

TEST_F(LinkMonitorTest, ReportsANewTapAndItsChanges) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  const int index = (*tap)->ifindex();
  auto events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Last(events, index).has_value();
  });
  auto created = Last(events, index);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->kind, Kind::kChanged);
  EXPECT_EQ(created->link.name, name_);
  EXPECT_EQ(created->link.mtu, 1500u);
  EXPECT_FALSE(created->link.up);
  Drain();

  ASSERT_TRUE(links_->SetMtu(index, 1280));
  events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Any(events, index, [](auto& e) { return e.link.mtu == 1280; });
  });
  EXPECT_EQ(Last(events, index)->kind, Kind::kChanged);
  EXPECT_EQ(Last(events, index)->link.mtu, 1280u);

  ASSERT_TRUE(links_->SetUp(index, true));
  events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Any(events, index, [](auto& e) { return e.link.up; });
  });
  EXPECT_TRUE(Last(events, index)->link.up);

  const MacAddress mac = *MacAddress::Parse("02:00:5e:10:00:09");
  ASSERT_TRUE(links_->SetAddress(index, mac));
  events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Any(events, index, [&](auto& e) { return e.link.address == mac; });
  });
  EXPECT_EQ(Last(events, index)->link.address, mac);

  ASSERT_TRUE(links_->SetGroup(index, 12));
  events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Any(events, index, [](auto& e) { return e.link.group == 12; });
  });
  EXPECT_EQ(Last(events, index)->link.group, 12u);
}

// netdev_state_change() notifies only for up links: a new group on a down
// link shows in the link's next event, not in one of its own.
TEST_F(LinkMonitorTest, GroupOfADownLinkComesWithItsNextEvent) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  const int index = (*tap)->ifindex();
  Drain();
  ASSERT_TRUE(links_->SetGroup(index, 21));
  pollfd entry{monitor_->fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&entry, 1, 200), 0);
  ASSERT_TRUE(links_->SetMtu(index, 1280));
  auto events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Last(events, index).has_value();
  });
  auto last = Last(events, index);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->link.mtu, 1280u);
  EXPECT_EQ(last->link.group, 21u);
}

TEST_F(LinkMonitorTest, RenameIsAChangeOfTheSameIndex) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  const int index = (*tap)->ifindex();
  Drain();
  const std::string renamed = UniqueName("eipr");
  ASSERT_EQ(netns_.Ip("link set dev " + name_ + " name " + renamed), 0);
  auto events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Any(events, index, [&](auto& e) { return e.link.name == renamed; });
  });
  auto last = Last(events, index);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->kind, Kind::kChanged);
  EXPECT_EQ(last->link.name, renamed);
  EXPECT_FALSE(
      Any(events, index, [](auto& e) { return e.kind == Kind::kDeleted; }));
}

TEST_F(LinkMonitorTest, DeletionIsReported) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  const int index = (*tap)->ifindex();
  Drain();
  ASSERT_EQ(netns_.Ip("link del dev " + name_), 0);
  auto events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Any(events, index, [](auto& e) { return e.kind == Kind::kDeleted; });
  });
  auto last = Last(events, index);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->kind, Kind::kDeleted);
  EXPECT_EQ(last->link.name, name_);

  // Closing a (non-persistent) TAP's fd deletes its link too.
  const std::string second = UniqueName("eipm");
  auto other = CreateTap(second);
  ASSERT_TRUE(other) << other.error().message;
  const int other_index = (*other)->ifindex();
  Drain();
  other->reset();
  events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Any(events, other_index,
               [](auto& e) { return e.kind == Kind::kDeleted; });
  });
  EXPECT_EQ(Last(events, other_index)->kind, Kind::kDeleted);
}

// LinkControl::DeleteGroup(): one request, one kDeleted per link.
TEST_F(LinkMonitorTest, GroupDeletionIsADeletionOfEachLink) {
  std::vector<std::unique_ptr<LinuxTap>> taps;
  std::vector<int> indexes;
  for (int i = 0; i < 3; ++i) {
    auto tap = CreateTap(UniqueName("eipm"));
    ASSERT_TRUE(tap) << tap.error().message;
    indexes.push_back((*tap)->ifindex());
    ASSERT_TRUE(links_->SetGroup(indexes.back(), 0xe7e3));
    taps.push_back(std::move(*tap));
  }
  Drain();
  ASSERT_TRUE(links_->DeleteGroup(0xe7e3));
  auto deleted = [&](const std::vector<LinkEvent>& events) {
    return std::all_of(indexes.begin(), indexes.end(), [&](int index) {
      return Any(events, index,
                 [](auto& e) { return e.kind == Kind::kDeleted; });
    });
  };
  EXPECT_TRUE(deleted(ReadUntil(deleted)));
}

// `ip link set X netns Y` is a deletion where the link was, and a new link
// where it went.
TEST_F(LinkMonitorTest, MoveToAnotherNamespaceIsADeletion) {
  TestNetns elsewhere;
  ASSERT_TRUE(elsewhere.ok());
  std::optional<LinkMonitor> there;
  {
    auto inside = NetnsEnter::Enter(elsewhere.name());
    ASSERT_TRUE(inside) << inside.error().message;
    auto monitor = LinkMonitor::Open();
    ASSERT_TRUE(monitor) << monitor.error().message;
    there.emplace(std::move(*monitor));
  }
  ASSERT_EQ(netns_.Ip("link add " + name_ + " type veth peer name " +
                      UniqueName("eipp")),
            0);
  auto index = links_->IndexOf(name_);
  ASSERT_TRUE(index) << index.error().message;
  Drain();

  ASSERT_EQ(netns_.Ip("link set dev " + name_ + " netns " + elsewhere.name()),
            0);
  auto events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Any(events, *index,
               [](auto& e) { return e.kind == Kind::kDeleted; });
  });
  auto last = Last(events, *index);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->kind, Kind::kDeleted);
  EXPECT_EQ(last->link.name, name_);

  auto arrived = ReadUntil(*there, [&](const std::vector<LinkEvent>& events) {
    return std::any_of(events.begin(), events.end(), [&](auto& e) {
      return e.link.name == name_ && e.kind == Kind::kChanged;
    });
  });
  EXPECT_TRUE(std::any_of(arrived.begin(), arrived.end(), [&](auto& e) {
    return e.link.name == name_ && e.kind == Kind::kChanged;
  }));
  auto dump = there->Dump();
  ASSERT_TRUE(dump) << dump.error().message;
  EXPECT_TRUE(std::any_of(dump->begin(), dump->end(),
                          [&](auto& link) { return link.name == name_; }));
}

// A bridge reports its ports on the same group (AF_BRIDGE messages); a
// port leaving the bridge sends an AF_BRIDGE RTM_DELLINK for a link that
// still exists. It must not read as a deletion.
TEST_F(LinkMonitorTest, LeavingABridgeIsNotADeletion) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  const int index = (*tap)->ifindex();
  const std::string bridge = UniqueName("eipb");
  ASSERT_EQ(netns_.Ip("link add " + bridge + " type bridge"), 0);
  ASSERT_EQ(netns_.Ip("link set dev " + name_ + " master " + bridge), 0);
  ASSERT_EQ(netns_.Ip("link set dev " + name_ + " nomaster"), 0);
  // A marker after both: once it is read, everything before it was too.
  ASSERT_TRUE(links_->SetMtu(index, 1300));
  auto events = ReadUntil([&](const std::vector<LinkEvent>& events) {
    return Any(events, index, [](auto& e) { return e.link.mtu == 1300; });
  });
  ASSERT_TRUE(Any(events, index, [](auto& e) { return e.link.mtu == 1300; }));
  EXPECT_FALSE(
      Any(events, index, [](auto& e) { return e.kind == Kind::kDeleted; }));
}

// A receive buffer too small for a burst: the kernel drops events and says
// so once (ENOBUFS); Read() reports it, empties the queue and hands over
// nothing (what was queued may be older than what was lost). A dump then
// gives the truth, and later events apply on top of it.
TEST_F(LinkMonitorTest, OverflowIsReportedAndDumpResynchronises) {
  // Two alike: `small` under test, `bare` read with recv() to see what the
  // kernel itself does.
  std::optional<LinkMonitor> small, bare;
  {
    auto inside = NetnsEnter::Enter(netns_.name());
    ASSERT_TRUE(inside) << inside.error().message;
    // The kernel rounds up to its minimum (a few KiB): room for one or two
    // link messages.
    auto monitor = LinkMonitor::Open(1);
    ASSERT_TRUE(monitor) << monitor.error().message;
    small.emplace(std::move(*monitor));
    monitor = LinkMonitor::Open(1);
    ASSERT_TRUE(monitor) << monitor.error().message;
    bare.emplace(std::move(*monitor));
  }
  EXPECT_LT(small->receive_buffer(), 16384u);
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  const int index = (*tap)->ifindex();
  for (uint32_t mtu = 1300; mtu < 1350; ++mtu) {
    ASSERT_TRUE(links_->SetMtu(index, mtu));
  }
  // The kernel: ENOBUFS on the first receive, while the events queued
  // before the drop are still there to read.
  std::vector<char> datagram(65536);
  EXPECT_EQ(::recv(bare->fd(), datagram.data(), datagram.size(), 0), -1);
  EXPECT_EQ(errno, ENOBUFS);
  EXPECT_GT(::recv(bare->fd(), datagram.data(), datagram.size(), 0), 0);

  auto read = small->Read();
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_TRUE(read->overflowed);
  EXPECT_TRUE(read->events.empty());
  // Reported once, and the queue was emptied: the next read is clean.
  auto again = small->Read();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->overflowed);
  EXPECT_TRUE(again->events.empty());

  auto links = small->Dump();
  ASSERT_TRUE(links) << links.error().message;
  auto link = std::find_if(links->begin(), links->end(),
                           [&](auto& link) { return link.ifindex == index; });
  ASSERT_NE(link, links->end());
  EXPECT_EQ(link->mtu, 1349u);

  // Events after the loss come through again.
  ASSERT_TRUE(links_->SetMtu(index, 1400));
  auto after = ReadUntil(*small, [&](const std::vector<LinkEvent>& events) {
    return Last(events, index).has_value();
  });
  ASSERT_TRUE(Last(after, index));
  EXPECT_EQ(Last(after, index)->link.mtu, 1400u);
}

// Only the kernel speaks for links: a datagram another process sends to
// the monitor's port (possible with CAP_NET_ADMIN) is ignored.
TEST_F(LinkMonitorTest, IgnoresMessagesNotFromTheKernel) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  const int index = (*tap)->ifindex();
  Drain();
  sockaddr_nl monitor_address{};
  socklen_t length = sizeof(monitor_address);
  ASSERT_EQ(
      ::getsockname(monitor_->fd(),
                    reinterpret_cast<sockaddr*>(&monitor_address), &length),
      0);
  UniqueFd forger;
  {
    auto inside = NetnsEnter::Enter(netns_.name());
    ASSERT_TRUE(inside) << inside.error().message;
    forger.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  }
  ASSERT_TRUE(forger.valid());
  struct {
    nlmsghdr header;
    ifinfomsg link;
  } forged{};
  forged.header.nlmsg_len = sizeof(forged);
  forged.header.nlmsg_type = RTM_DELLINK;
  forged.link.ifi_family = AF_UNSPEC;
  forged.link.ifi_index = index;
  sockaddr_nl to{};
  to.nl_family = AF_NETLINK;
  to.nl_pid = monitor_address.nl_pid;
  ASSERT_EQ(::sendto(forger.get(), &forged, sizeof(forged), 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof(to)),
            static_cast<ssize_t>(sizeof(forged)));
  // It arrived (the socket is readable) and was not taken for the kernel's.
  pollfd entry{monitor_->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&entry, 1, 2000), 1);
  auto read = monitor_->Read();
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_TRUE(read->events.empty());
}

}  // namespace
}  // namespace etherip

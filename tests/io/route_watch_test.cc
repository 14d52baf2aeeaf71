// RouteWatch and LinuxHost's route calls against the real kernel, in a test
// namespace: what a lookup answers (`ip route get`), and which changes are
// announced (`mtu auto`).
#include "io/linux/route_watch.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>

#include <optional>
#include <string>
#include <vector>

#include "io/linux/linux_host.h"
#include "io/linux/netns_enter.h"
#include "linux_test_support.h"

namespace etherip {
namespace {

using testing::TestNetns;

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

// A namespace with a veth pair (vetha up, with 192.0.2.1/24 and
// 2001:db8::1/64; vethb down), and a RouteWatch opened inside it.
class RouteWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ETHERIP_REQUIRE_ROOT("watches routes in a network namespace");
    ASSERT_TRUE(netns_.ok());
    ASSERT_EQ(netns_.Ip("link add vetha type veth peer name vethb"), 0);
    ASSERT_EQ(netns_.Ip("addr add 192.0.2.1/24 dev vetha"), 0);
    ASSERT_EQ(netns_.Ip("-6 addr add 2001:db8::1/64 dev vetha nodad"), 0);
    ASSERT_EQ(netns_.Ip("link set vetha up"), 0);
    auto index = netns_.ExecOutput("cat /sys/class/net/vetha/ifindex");
    ASSERT_TRUE(index);
    vetha_ = std::stoi(*index);
    auto inside = NetnsEnter::Enter(netns_.name());
    ASSERT_TRUE(inside) << inside.error().message;
    auto watch = RouteWatch::Open();
    ASSERT_TRUE(watch) << watch.error().message;
    watch_.emplace(std::move(*watch));
  }

  // Waits up to 2 s for the watch to say "changed"; false when it did not.
  bool Changed() {
    for (int i = 0; i < 20; ++i) {
      pollfd fds[2] = {{watch_->link_fd(), POLLIN, 0},
                       {watch_->route_fd(), POLLIN, 0}};
      (void)::poll(fds, 2, 100);
      auto read = watch_->Read();
      EXPECT_TRUE(read) << read.error().message;
      if (read && *read) return true;
    }
    return false;
  }
  // Reads what is queued; whether any of it was a change.
  bool Drain() {
    bool changed = false;
    for (;;) {
      pollfd fds[2] = {{watch_->link_fd(), POLLIN, 0},
                       {watch_->route_fd(), POLLIN, 0}};
      if (::poll(fds, 2, 200) <= 0) return changed;
      auto read = watch_->Read();
      EXPECT_TRUE(read) << read.error().message;
      changed = (read && *read) || changed;
    }
  }

  TestNetns netns_;
  int vetha_ = 0;
  std::optional<RouteWatch> watch_;
};

TEST_F(RouteWatchTest, LooksUpTheEgressLinksMtu) {
  auto route = watch_->Lookup(Ip("192.0.2.1"), Ip("192.0.2.2"));
  ASSERT_TRUE(route) << route.error().message;
  EXPECT_EQ(*route, (RouteMtu{1500, vetha_}));
  route = watch_->Lookup(Ip("2001:db8::1"), Ip("2001:db8::2"));
  ASSERT_TRUE(route) << route.error().message;
  EXPECT_EQ(*route, (RouteMtu{1500, vetha_}));
  // Any source.
  route = watch_->Lookup(IpAddress(), Ip("192.0.2.2"));
  ASSERT_TRUE(route) << route.error().message;
  EXPECT_EQ(route->mtu, 1500u);
}

TEST_F(RouteWatchTest, PrefersTheRoutesOwnMtu) {
  ASSERT_EQ(netns_.Ip("route add 198.51.100.0/24 dev vetha mtu lock 1300"), 0);
  ASSERT_EQ(netns_.Ip("-6 route add 2001:db8:1::/64 dev vetha mtu 1280"), 0);
  auto route = watch_->Lookup(Ip("192.0.2.1"), Ip("198.51.100.7"));
  ASSERT_TRUE(route) << route.error().message;
  EXPECT_EQ(*route, (RouteMtu{1300, vetha_}));
  route = watch_->Lookup(Ip("2001:db8::1"), Ip("2001:db8:1::7"));
  ASSERT_TRUE(route) << route.error().message;
  EXPECT_EQ(*route, (RouteMtu{1280, vetha_}));
}

TEST_F(RouteWatchTest, SaysWhenThereIsNoRoute) {
  auto route = watch_->Lookup(Ip("192.0.2.1"), Ip("203.0.113.9"));
  ASSERT_FALSE(route);
  EXPECT_EQ(route.error().code, ENETUNREACH);
  EXPECT_EQ(route.error().message,
            "route to 203.0.113.9: network is unreachable");
  // IPv4 refuses a source the namespace does not have.
  route = watch_->Lookup(Ip("192.0.2.99"), Ip("192.0.2.2"));
  ASSERT_FALSE(route);
  EXPECT_EQ(route.error().code, ENETUNREACH);
}

TEST_F(RouteWatchTest, AnnouncesMtuAndRouteChangesOnly) {
  EXPECT_FALSE(Drain());
  // New links (down, no routes) change no route.
  ASSERT_EQ(netns_.Ip("link add eipx type veth peer name eipy"), 0);
  EXPECT_FALSE(Drain());
  // The MTU of a link.
  ASSERT_EQ(netns_.Ip("link set vetha mtu 1400"), 0);
  EXPECT_TRUE(Changed());
  Drain();
  auto route = watch_->Lookup(Ip("192.0.2.1"), Ip("192.0.2.2"));
  ASSERT_TRUE(route) << route.error().message;
  EXPECT_EQ(route->mtu, 1400u);
  // A route.
  ASSERT_EQ(netns_.Ip("route add 192.0.2.2/32 dev vetha mtu lock 1300"), 0);
  EXPECT_TRUE(Changed());
  Drain();
  route = watch_->Lookup(Ip("192.0.2.1"), Ip("192.0.2.2"));
  ASSERT_TRUE(route) << route.error().message;
  EXPECT_EQ(route->mtu, 1300u);
  ASSERT_EQ(netns_.Ip("route del 192.0.2.2/32"), 0);
  EXPECT_TRUE(Changed());
  Drain();
  // A link's administrative state.
  ASSERT_EQ(netns_.Ip("link set eipx up"), 0);
  EXPECT_TRUE(Changed());
  Drain();
  // Its deletion.
  ASSERT_EQ(netns_.Ip("link del eipx"), 0);
  EXPECT_TRUE(Changed());
}

// LinuxHost: one watch per domain, opened inside it, behind one fd.
TEST_F(RouteWatchTest, HostWatchesTheDomainsItIsToldTo) {
  auto host = LinuxHost::Open();
  ASSERT_TRUE(host) << host.error().message;
  const std::vector<std::string> domains = {netns_.name(), "eipnosuchdomain"};
  // Only the domain that exists is watched, and it is new.
  EXPECT_EQ((*host)->WatchRoutes(domains),
            std::vector<std::string>{netns_.name()});
  EXPECT_TRUE((*host)->WatchRoutes(domains).empty());
  // Lookups run inside the domain; an IPv4 source the domain does not
  // have is dropped from the question.
  auto route =
      (*host)->LookupRouteMtu(netns_.name(), Ip("192.0.2.99"), Ip("192.0.2.2"));
  ASSERT_TRUE(route) << route.error().message;
  EXPECT_EQ(*route, (RouteMtu{1500, vetha_}));
  route = (*host)->LookupRouteMtu("eipnosuchdomain", Ip("192.0.2.1"),
                                  Ip("192.0.2.2"));
  ASSERT_FALSE(route);
  EXPECT_EQ(route.error().code, EINVAL);
  route = (*host)->LookupRouteMtu(netns_.name(), Ip("192.0.2.1"),
                                  Ip("203.0.113.9"));
  ASSERT_FALSE(route);
  EXPECT_EQ(route.error().message,
            "domain " + netns_.name() +
                ": route to 203.0.113.9: network is unreachable");

  (void)(*host)->ReadRouteEvents();
  ASSERT_EQ(netns_.Ip("link set vetha mtu 1400"), 0);
  pollfd ready{(*host)->route_events_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&ready, 1, 2000), 1);
  std::vector<std::string> changed;
  for (int i = 0; i < 20 && changed.empty(); ++i) {
    changed = (*host)->ReadRouteEvents();
    if (changed.empty()) ::usleep(50000);
  }
  EXPECT_EQ(changed, std::vector<std::string>{netns_.name()});
  // Drained: the fd is quiet again.
  (void)(*host)->ReadRouteEvents();
  ready.revents = 0;
  EXPECT_EQ(::poll(&ready, 1, 200), 0);

  // Let go.
  EXPECT_TRUE((*host)->WatchRoutes({}).empty());
  ASSERT_EQ(netns_.Ip("link set vetha mtu 1300"), 0);
  ::usleep(100000);
  EXPECT_TRUE((*host)->ReadRouteEvents().empty());
}

}  // namespace
}  // namespace etherip

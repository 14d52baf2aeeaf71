#include "daemon/peer_access.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace etherip {
namespace {

constexpr gid_t kGroup = 4242;
const ControlAccess kRootOnly{.owner = 0, .group = std::nullopt};
const ControlAccess kWithGroup{
    .owner = 0, .group = kGroup, .group_name = "etherip"};

TEST(PeerAllowed, RootAlways) {
  EXPECT_TRUE(PeerAllowed(0, 0, {}, kRootOnly));
  EXPECT_TRUE(PeerAllowed(0, 1234, {}, kWithGroup));
}

TEST(PeerAllowed, WithoutAGroupNobodyElse) {
  const std::vector<gid_t> groups{kGroup, 0};
  // Not even a member of group 0 or of what would be the control group.
  EXPECT_FALSE(PeerAllowed(1000, 0, groups, kRootOnly));
  EXPECT_FALSE(PeerAllowed(1000, kGroup, {}, kRootOnly));
}

TEST(PeerAllowed, TheDaemonsOwnUser) {
  const ControlAccess owned{.owner = 1000};
  EXPECT_TRUE(PeerAllowed(1000, 1000, {}, owned));
  EXPECT_FALSE(PeerAllowed(1001, 1000, {}, owned));
  EXPECT_TRUE(PeerAllowed(0, 0, {}, owned));
}

TEST(PeerAllowed, PrimaryGroupMember) {
  EXPECT_TRUE(PeerAllowed(1000, kGroup, {}, kWithGroup));
}

TEST(PeerAllowed, SupplementaryGroupMember) {
  const std::vector<gid_t> groups{100, kGroup, 27};
  EXPECT_TRUE(PeerAllowed(65534, 65534, groups, kWithGroup));
}

TEST(PeerAllowed, NotAMember) {
  const std::vector<gid_t> groups{100, kGroup + 1, 27};
  EXPECT_FALSE(PeerAllowed(65534, 65534, groups, kWithGroup));
  EXPECT_FALSE(PeerAllowed(65534, 65534, {}, kWithGroup));
}

TEST(PeerRefusal, NamesTheUidAndTheGroup) {
  EXPECT_EQ(PeerRefusal(1234, kWithGroup),
            "permission denied: uid 1234 is not root and not in group "
            "etherip");
  EXPECT_EQ(PeerRefusal(1234, kRootOnly),
            "permission denied: uid 1234 is not root");
}

TEST(ReadPeerCredentials, ReadsThisProcess) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  auto peer = ReadPeerCredentials(pair[0]);
  ASSERT_TRUE(peer) << peer.error().message;
  EXPECT_EQ(peer->uid, ::geteuid());
  EXPECT_EQ(peer->gid, ::getegid());
  std::vector<gid_t> groups(static_cast<size_t>(::getgroups(0, nullptr)));
  groups.resize(static_cast<size_t>(
      ::getgroups(static_cast<int>(groups.size()), groups.data())));
  EXPECT_THAT(peer->groups, ::testing::UnorderedElementsAreArray(groups));
  ::close(pair[0]);
  ::close(pair[1]);
}

}  // namespace
}  // namespace etherip

#include "io/linux/netns_enter.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "linux_test_support.h"

namespace etherip {
namespace {

using testing::NetnsInodeOf;
using testing::TestNetns;
using testing::ThreadNetnsInode;

TEST(NetnsEnterTest, EmptyNameStaysInPlace) {
  const uint64_t before = ThreadNetnsInode();
  auto inside = NetnsEnter::Enter("");
  ASSERT_TRUE(inside) << inside.error().message;
  EXPECT_FALSE(inside->moved());
  EXPECT_EQ(ThreadNetnsInode(), before);
}

TEST(NetnsEnterTest, RefusesInvalidNamesWithoutMoving) {
  const uint64_t before = ThreadNetnsInode();
  for (const char* name : {".", "..", "a/b", "../../proc/1/ns/net"}) {
    auto inside = NetnsEnter::Enter(name);
    ASSERT_FALSE(inside) << name;
    EXPECT_EQ(inside.error().code, EINVAL) << name;
  }
  EXPECT_EQ(ThreadNetnsInode(), before);
}

TEST(NetnsEnterTest, MissingDomainIsNoSuchDomain) {
  const uint64_t before = ThreadNetnsInode();
  const std::string name = testing::UniqueName("eiptest-missing-", 64);
  auto inside = NetnsEnter::Enter(name);
  ASSERT_FALSE(inside);
  EXPECT_EQ(inside.error().code, EINVAL);
  EXPECT_EQ(inside.error().message, "domain " + name + ": no such domain");
  EXPECT_EQ(ThreadNetnsInode(), before);
}

TEST(NetnsEnterTest, FileThatIsNotANamespaceIsRefused) {
  // No root needed: setns() checks the file's kind before privileges.
  const auto directory = std::filesystem::temp_directory_path() /
                         testing::UniqueName("eiptest-dir-", 64);
  std::filesystem::create_directories(directory);
  std::ofstream(directory / "plain") << "not a namespace";
  const uint64_t before = ThreadNetnsInode();
  auto inside = NetnsEnter::Enter("plain", directory.string());
  std::filesystem::remove_all(directory);
  ASSERT_FALSE(inside);
  EXPECT_EQ(inside.error().code, EINVAL);
  EXPECT_NE(inside.error().message.find("plain"), std::string::npos);
  EXPECT_EQ(ThreadNetnsInode(), before);
}

TEST(NetnsEnterTest, EntersAndReturns) {
  ETHERIP_REQUIRE_ROOT("creates a network namespace");
  TestNetns netns;
  ASSERT_TRUE(netns.ok());
  const uint64_t home = ThreadNetnsInode();
  const uint64_t target = NetnsInodeOf("/run/netns/" + netns.name());
  ASSERT_NE(home, target);
  {
    auto inside = NetnsEnter::Enter(netns.name());
    ASSERT_TRUE(inside) << inside.error().message;
    EXPECT_TRUE(inside->moved());
    EXPECT_EQ(ThreadNetnsInode(), target);
  }
  EXPECT_EQ(ThreadNetnsInode(), home);
}

TEST(NetnsEnterTest, LeaveReturnsEarlyAndOnce) {
  ETHERIP_REQUIRE_ROOT("creates a network namespace");
  TestNetns netns;
  ASSERT_TRUE(netns.ok());
  const uint64_t home = ThreadNetnsInode();
  auto inside = NetnsEnter::Enter(netns.name());
  ASSERT_TRUE(inside) << inside.error().message;
  ASSERT_TRUE(inside->Leave());
  EXPECT_EQ(ThreadNetnsInode(), home);
  EXPECT_FALSE(inside->moved());
  EXPECT_TRUE(inside->Leave());  // nothing left to do
}

TEST(NetnsEnterTest, MovedGuardReturnsOnce) {
  ETHERIP_REQUIRE_ROOT("creates a network namespace");
  TestNetns netns;
  ASSERT_TRUE(netns.ok());
  const uint64_t home = ThreadNetnsInode();
  {
    auto inside = NetnsEnter::Enter(netns.name());
    ASSERT_TRUE(inside) << inside.error().message;
    NetnsEnter moved = std::move(*inside);  // the old guard owns nothing now
    EXPECT_TRUE(moved.moved());
    EXPECT_FALSE(inside->moved());
  }
  EXPECT_EQ(ThreadNetnsInode(), home);
}

// Only the calling thread moves: a thread that already runs stays home. A
// thread started from inside inherits the namespace (like any namespace a
// thread has when it calls clone()): do not start threads while inside.
TEST(NetnsEnterTest, OnlyTheCallingThreadMoves) {
  ETHERIP_REQUIRE_ROOT("creates a network namespace");
  TestNetns netns;
  ASSERT_TRUE(netns.ok());
  const uint64_t home = ThreadNetnsInode();
  const uint64_t target = NetnsInodeOf("/run/netns/" + netns.name());

  std::promise<void> entered;
  uint64_t existing = 0;
  std::thread running([&, go = entered.get_future()]() mutable {
    go.wait();
    existing = ThreadNetnsInode();
  });
  uint64_t started_inside = 0;
  {
    auto inside = NetnsEnter::Enter(netns.name());
    entered.set_value();
    running.join();  // before any ASSERT can leave the scope
    ASSERT_TRUE(inside) << inside.error().message;
    std::thread([&] { started_inside = ThreadNetnsInode(); }).join();
  }
  EXPECT_EQ(existing, home);
  EXPECT_EQ(started_inside, target);
  EXPECT_EQ(ThreadNetnsInode(), home);
}

}  // namespace
}  // namespace etherip

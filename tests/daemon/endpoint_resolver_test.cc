// Host-name and zone resolution over the in-memory resolver: which
// addresses a tunnel gets (ResolveTunnel), and when the resolver looks
// again and what it reports (EndpointResolver, driven by hand with RunDue,
// and once with its thread).
#include "daemon/endpoint_resolver.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <vector>

#include "io/memory/memory_resolver.h"

namespace etherip {
namespace {

using namespace std::chrono_literals;
using Clock = EndpointResolver::Clock;

IpAddress Ip(std::string_view text) { return IpAddress::Parse(text).value(); }

TunnelConfig Config(std::string_view source, std::string_view destination) {
  return ParseTunnel(source, destination).value();
}

Tunnel Addresses(std::string_view source, std::string_view destination,
                 uint32_t scope = 0) {
  return Tunnel{Ip(source), Ip(destination), scope};
}

class ResolveTunnelTest : public ::testing::Test {
 protected:
  Result<Tunnel> Resolve(std::string_view source, std::string_view destination,
                         std::string_view domain = "") {
    return ResolveTunnel(names_, domain, Config(source, destination));
  }
  std::string Why(std::string_view source, std::string_view destination) {
    auto resolved = Resolve(source, destination);
    EXPECT_FALSE(resolved) << resolved->ToString();
    return resolved ? "" : resolved.error().message;
  }
  MemoryResolver names_;
};

TEST_F(ResolveTunnelTest, ANameTakesItsFirstAddressOfTheLiteralsFamily) {
  names_.SetHost("", "peer.example",
                 {Ip("2001:db8::2"), Ip("192.0.2.2"), Ip("192.0.2.3")});
  EXPECT_EQ(Resolve("192.0.2.1", "peer.example"),
            Addresses("192.0.2.1", "192.0.2.2"));
  EXPECT_EQ(Resolve("2001:db8::1", "peer.example"),
            Addresses("2001:db8::1", "2001:db8::2"));
  // The source may be the name.
  EXPECT_EQ(Resolve("peer.example", "192.0.2.9"),
            Addresses("192.0.2.2", "192.0.2.9"));
  // Never the literal's own address.
  EXPECT_EQ(Resolve("192.0.2.2", "peer.example"),
            Addresses("192.0.2.2", "192.0.2.3"));
}

TEST_F(ResolveTunnelTest, SkipsAddressesThatCannotBeEndpoints) {
  names_.SetHost("", "odd.example",
                 {Ip("127.0.0.1"), Ip("224.0.0.1"), Ip("192.0.2.7")});
  EXPECT_EQ(Resolve("192.0.2.1", "odd.example"),
            Addresses("192.0.2.1", "192.0.2.7"));
  names_.SetHost("", "local.example", {Ip("127.0.0.1"), Ip("0.0.0.0")});
  EXPECT_EQ(Why("192.0.2.1", "local.example"),
            "local.example: no usable IPv4 address (127.0.0.1 is loopback)");
  names_.SetHost("", "self.example", {Ip("192.0.2.1")});
  EXPECT_EQ(Why("192.0.2.1", "self.example"),
            "self.example: 192.0.2.1 only, the tunnel's other end");
}

TEST_F(ResolveTunnelTest, SaysWhyANameDoesNotResolve) {
  EXPECT_EQ(Why("192.0.2.1", "nowhere.example"),
            "nowhere.example: Name or service not known");
  names_.SetHost("", "v6.example", {Ip("2001:db8::2")});
  EXPECT_EQ(Why("192.0.2.1", "v6.example"),
            "v6.example: No address associated with hostname");
  names_.FailHost("", "slow.example", "Temporary failure in name resolution");
  EXPECT_EQ(Why("slow.example", "2001:db8::2"),
            "slow.example: Temporary failure in name resolution");
}

TEST_F(ResolveTunnelTest, TwoNamesMeetInAFamilyBothHave) {
  names_.SetHost("", "a.example", {Ip("192.0.2.1"), Ip("2001:db8::1")});
  names_.SetHost("", "b.example", {Ip("2001:db8::2"), Ip("192.0.2.2")});
  // The destination's first address, and the source's of that family.
  EXPECT_EQ(Resolve("a.example", "b.example"),
            Addresses("2001:db8::1", "2001:db8::2"));
  names_.SetHost("", "v4.example", {Ip("192.0.2.1")});
  EXPECT_EQ(Resolve("v4.example", "b.example"),
            Addresses("192.0.2.1", "192.0.2.2"));
  names_.SetHost("", "v6.example", {Ip("2001:db8::9")});
  EXPECT_EQ(Why("v4.example", "v6.example"),
            "v4.example and v6.example: no two different addresses of one "
            "family");
  EXPECT_EQ(Why("a.example", "nowhere.example"),
            "nowhere.example: Name or service not known");
}

TEST_F(ResolveTunnelTest, AZoneNamingAnInterfaceBecomesItsIndex) {
  names_.SetInterface("", "veth0", 12);
  EXPECT_EQ(Resolve("fe80::a%veth0", "fe80::b%veth0"),
            Addresses("fe80::a", "fe80::b", 12));
  EXPECT_EQ(Resolve("fe80::a", "fe80::b%veth0"),
            Addresses("fe80::a", "fe80::b", 12));
  EXPECT_EQ(Why("fe80::a%veth9", "fe80::b"), "zone veth9: No such device");
  // An index needs no lookup.
  const size_t lookups = names_.lookups();
  EXPECT_EQ(Resolve("fe80::a%3", "fe80::b"),
            Addresses("fe80::a", "fe80::b", 3));
  EXPECT_EQ(names_.lookups(), lookups);
}

TEST_F(ResolveTunnelTest, ANameGivesALinkLocalAddressOnlyToAZonedTunnel) {
  names_.SetHost("", "ll.example", {Ip("fe80::b"), Ip("2001:db8::b")});
  names_.SetInterface("", "veth0", 4);
  EXPECT_EQ(Resolve("2001:db8::a", "ll.example"),
            Addresses("2001:db8::a", "2001:db8::b"));
  EXPECT_EQ(Resolve("fe80::a%veth0", "ll.example"),
            Addresses("fe80::a", "fe80::b", 4));
  names_.SetHost("", "only-ll.example", {Ip("fe80::b")});
  EXPECT_EQ(Why("2001:db8::a", "only-ll.example"),
            "only-ll.example: no usable IPv6 address (fe80::b is link-local "
            "and the tunnel has no zone)");
}

TEST_F(ResolveTunnelTest, LooksUpInTheTunnelsDomain) {
  names_.SetHost("blue", "peer.example", {Ip("198.51.100.2")});
  names_.SetInterface("blue", "veth0", 7);
  EXPECT_EQ(Resolve("192.0.2.1", "peer.example", "blue"),
            Addresses("192.0.2.1", "198.51.100.2"));
  EXPECT_FALSE(Resolve("192.0.2.1", "peer.example"));
  EXPECT_EQ(Resolve("fe80::a%veth0", "fe80::b", "blue"),
            Addresses("fe80::a", "fe80::b", 7));
  EXPECT_FALSE(Resolve("fe80::a%veth0", "fe80::b"));
}

// --- EndpointResolver ----------------------------------------------------

class EndpointResolverTest : public ::testing::Test {
 protected:
  EndpointResolverTest() : resolver_(names_) {}

  // Runs what is due `after` from now; returns the answers it gave.
  std::vector<EndpointResolver::Answer> RunAt(Clock::duration after) {
    resolver_.RunDue(Clock::now() + after);
    return resolver_.TakeAnswers();
  }

  std::shared_ptr<MemoryResolver> names_ = std::make_shared<MemoryResolver>();
  EndpointResolver resolver_;
};

TEST_F(EndpointResolverTest, AnswersAtOnceThenOnlyWhenTheAnswerChanges) {
  names_->SetHost("", "peer.example", {Ip("192.0.2.2")});
  resolver_.SetInterval(60s);
  resolver_.Watch("etherip0", "", Config("192.0.2.1", "peer.example"));
  auto answers = RunAt(0s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].interface, "etherip0");
  EXPECT_EQ(answers[0].domain, "");
  EXPECT_EQ(answers[0].tunnel, Config("192.0.2.1", "peer.example"));
  EXPECT_EQ(answers[0].addresses, Addresses("192.0.2.1", "192.0.2.2"));
  // Not looked up again before the interval.
  const size_t lookups = names_->lookups();
  EXPECT_TRUE(RunAt(30s).empty());
  EXPECT_EQ(names_->lookups(), lookups);
  // Looked up again after it; the same answer is not given twice.
  EXPECT_TRUE(RunAt(61s).empty());
  EXPECT_EQ(names_->lookups(), lookups + 1);
  // A new address is.
  names_->SetHost("", "peer.example", {Ip("192.0.2.3")});
  answers = RunAt(122s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].addresses, Addresses("192.0.2.1", "192.0.2.3"));
}

TEST_F(EndpointResolverTest, RetriesAFailureSoonerThanTheInterval) {
  resolver_.SetInterval(60s);
  resolver_.Watch("etherip0", "", Config("192.0.2.1", "later.example"));
  auto answers = RunAt(0s);
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_FALSE(answers[0].addresses);
  EXPECT_EQ(answers[0].addresses.error().message,
            "later.example: Name or service not known");
  // The same failure again is not an answer.
  EXPECT_TRUE(RunAt(EndpointResolver::kRetry + 1s).empty());
  names_->SetHost("", "later.example", {Ip("192.0.2.2")});
  answers = RunAt(2 * EndpointResolver::kRetry + 2s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].addresses, Addresses("192.0.2.1", "192.0.2.2"));
}

TEST_F(EndpointResolverTest, AnIntervalOfZeroLooksUpOnlyWhenWatched) {
  names_->SetHost("", "peer.example", {Ip("192.0.2.2")});
  resolver_.SetInterval(0s);
  resolver_.Watch("etherip0", "", Config("192.0.2.1", "peer.example"));
  EXPECT_EQ(RunAt(0s).size(), 1u);
  names_->SetHost("", "peer.example", {Ip("192.0.2.3")});
  EXPECT_TRUE(RunAt(24h).empty());
  EXPECT_FALSE(resolver_.RunDue(Clock::now() + 48h));  // nothing due, ever
  // Watched anew (a set, a reload): looked up, and given, again.
  resolver_.Watch("etherip0", "", Config("192.0.2.1", "peer.example"));
  auto answers = RunAt(0s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].addresses, Addresses("192.0.2.1", "192.0.2.3"));
  // A shorter interval applies to what resolved already.
  resolver_.SetInterval(1s);
  names_->SetHost("", "peer.example", {Ip("192.0.2.4")});
  EXPECT_EQ(RunAt(2s).size(), 1u);
}

TEST_F(EndpointResolverTest, UnwatchedAndRewatchedTunnelsGiveNoStaleAnswers) {
  names_->SetHost("", "peer.example", {Ip("192.0.2.2")});
  names_->SetHost("blue", "peer.example", {Ip("198.51.100.2")});
  resolver_.Watch("etherip0", "", Config("192.0.2.1", "peer.example"));
  resolver_.Watch("etherip1", "", Config("192.0.2.1", "peer.example"));
  resolver_.Unwatch("etherip1");
  resolver_.Watch("etherip0", "blue", Config("192.0.2.1", "peer.example"));
  auto answers = RunAt(0s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].domain, "blue");
  EXPECT_EQ(answers[0].addresses, Addresses("192.0.2.1", "198.51.100.2"));
}

TEST_F(EndpointResolverTest, ResolveAllNowLooksEverythingUpAgain) {
  names_->SetInterface("", "veth0", 3);
  resolver_.SetInterval(3600s);
  resolver_.Watch("etherip0", "", Config("fe80::a%veth0", "fe80::b"));
  EXPECT_EQ(RunAt(0s).size(), 1u);
  names_->SetInterface("", "veth0", 9);  // the link was made again
  EXPECT_TRUE(RunAt(1s).empty());
  resolver_.ResolveAllNow();
  auto answers = RunAt(1s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].addresses, Addresses("fe80::a", "fe80::b", 9));
}

TEST_F(EndpointResolverTest, ResolveZonesNowLooksUpZonesOfThatDomainOnly) {
  names_->SetInterface("", "veth0", 3);
  names_->SetInterface("blue", "veth0", 4);
  names_->SetHost("", "peer.example", {Ip("192.0.2.2")});
  resolver_.SetInterval(3600s);
  resolver_.Watch("zoned", "", Config("fe80::a%veth0", "fe80::b"));
  resolver_.Watch("blue", "blue", Config("fe80::a%veth0", "fe80::b"));
  resolver_.Watch("named", "", Config("192.0.2.1", "peer.example"));
  EXPECT_EQ(RunAt(0s).size(), 3u);
  names_->SetInterface("", "veth0", 13);
  names_->SetInterface("blue", "veth0", 14);
  names_->SetHost("", "peer.example", {Ip("192.0.2.3")});
  resolver_.ResolveZonesNow("");
  auto answers = RunAt(1s);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].interface, "zoned");
  EXPECT_EQ(answers[0].addresses, Addresses("fe80::a", "fe80::b", 13));
}

TEST_F(EndpointResolverTest, ItsThreadAnswersThroughTheEventFd) {
  names_->SetHost("", "peer.example", {Ip("192.0.2.2")});
  ASSERT_TRUE(resolver_.Start());
  ASSERT_GE(resolver_.fd(), 0);
  resolver_.Watch("etherip0", "", Config("192.0.2.1", "peer.example"));
  pollfd fd{resolver_.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&fd, 1, 10000), 1);
  auto answers = resolver_.TakeAnswers();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].addresses, Addresses("192.0.2.1", "192.0.2.2"));
  // Taken: the fd is quiet again.
  EXPECT_EQ(poll(&fd, 1, 0), 0);
  resolver_.Stop();
}

}  // namespace
}  // namespace etherip

// Two whole hosts in memory, A and B, each with its own tunnel table,
// forwarder, counters, taps and sockets, joined by one in-memory underlay:
// what host A's stack transmits on its EtherIP interface comes out of host
// B's, and back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/etherip_header.h"
#include "core/outer_header.h"
#include "engine/memory_host.h"

namespace etherip {
namespace {

using testing_support::MemoryHost;
using testing_support::PumpUntilQuiet;
using Frame = MemoryTap::Frame;
using Frames = std::vector<Frame>;

// An Ethernet frame of `size` bytes to `destination`, its payload derived
// from `seed`.
Frame MakeFrame(size_t size, uint8_t seed,
                std::array<uint8_t, 6> destination = {0x02, 0xbb, 0, 0, 0, 1}) {
  Frame frame(size);
  for (size_t i = 0; i < size; ++i) {
    frame[i] = static_cast<uint8_t>(seed * 31 + i);
  }
  std::copy(destination.begin(), destination.end(), frame.begin());
  const std::array<uint8_t, 6> source = {0x02, 0xaa, 0, 0, 0, seed};
  std::copy(source.begin(), source.end(), frame.begin() + 6);
  frame[12] = 0x08;
  frame[13] = 0x00;
  return frame;
}

constexpr std::array<uint8_t, 6> kBroadcast = {0xff, 0xff, 0xff,
                                               0xff, 0xff, 0xff};
constexpr std::array<uint8_t, 6> kIpv4Multicast = {0x01, 0x00, 0x5e,
                                                   0x00, 0x00, 0xfb};
constexpr std::array<uint8_t, 6> kIpv6Multicast = {0x33, 0x33, 0x00,
                                                   0x00, 0x00, 0x01};

uint64_t TotalBytes(const Frames& frames) {
  uint64_t total = 0;
  for (const auto& frame : frames) total += frame.size();
  return total;
}

struct Underlay {
  const char* name;
  const char* a;         // host A's outer address
  const char* b;         // host B's outer address
  const char* stranger;  // an address neither host has a tunnel with
  size_t outer_header;
};

// Names the parameter in test listings (ctest shows it).
void PrintTo(const Underlay& underlay, std::ostream* os) {
  *os << underlay.name;
}

class TwoHosts : public ::testing::TestWithParam<Underlay> {
 protected:
  TwoHosts() {
    a_.Create("etherip0", {"tunnel", P().a, P().b, "up"});
    b_.Create("etherip0", {"tunnel", P().b, P().a, "up"});
  }
  static const Underlay& P() { return GetParam(); }
  IpAddress Addr(const char* text) { return IpAddress::Parse(text).value(); }

  // Injects `frames` into `from`'s etherip0 and runs both hosts.
  void Send(MemoryHost& from, const Frames& frames) {
    for (const auto& frame : frames) from.Tap("etherip0").Inject(frame);
    PumpUntilQuiet({&a_, &b_});
  }

  // Networks first: sockets detach from them when the hosts go.
  MemoryNetwork network_;
  MemoryNetwork blue_;  // a second underlay, for tests with domains
  MemoryHost a_{network_, 0xa0};
  MemoryHost b_{network_, 0xb0};
  const Frames frames_ = {MakeFrame(14, 1), MakeFrame(60, 2), MakeFrame(64, 3),
                          MakeFrame(1514, 4),
                          MakeFrame(1518, 5)};  // VLAN-tagged maximum
};

TEST_P(TwoHosts, FramesCrossFromAToBByteIdentical) {
  Send(a_, frames_);
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), frames_);
  EXPECT_TRUE(a_.Tap("etherip0").TakeDelivered().empty());
  EXPECT_EQ(a_.Tap("etherip0").pending(), 0u);
}

TEST_P(TwoHosts, FramesCrossBackFromBToA) {
  Send(a_, {MakeFrame(60, 9)});
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), Frames{MakeFrame(60, 9)});
  Send(b_, frames_);
  EXPECT_EQ(a_.Tap("etherip0").TakeDelivered(), frames_);
  EXPECT_TRUE(b_.Tap("etherip0").TakeDelivered().empty());
}

TEST_P(TwoHosts, BothDirectionsAtOnce) {
  const Frames back = {MakeFrame(100, 20), MakeFrame(200, 21)};
  for (const auto& frame : frames_) a_.Tap("etherip0").Inject(frame);
  for (const auto& frame : back) b_.Tap("etherip0").Inject(frame);
  PumpUntilQuiet({&a_, &b_});
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), frames_);
  EXPECT_EQ(a_.Tap("etherip0").TakeDelivered(), back);
}

TEST_P(TwoHosts, MoreFramesThanOneBatchArriveInOrder) {
  Frames many;
  for (int i = 0; i < 3 * static_cast<int>(Forwarder::kBatch) + 5; ++i) {
    many.push_back(MakeFrame(60 + i, static_cast<uint8_t>(i)));
  }
  Send(a_, many);
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), many);
  EXPECT_EQ(b_.Counters(), (GlobalCounterValues{.ipackets = many.size(),
                                                .ibytes = TotalBytes(many)}));
}

TEST_P(TwoHosts, BroadcastAndMulticastFramesAreCarriedAsUnicast) {
  const Frames frames = {MakeFrame(60, 1, kBroadcast),
                         MakeFrame(60, 2, kIpv4Multicast),
                         MakeFrame(86, 3, kIpv6Multicast)};
  Send(a_, frames);
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), frames);
  ASSERT_EQ(network_.wire().size(), frames.size());
  for (const auto& packet : network_.wire()) {
    auto outer = ParseIpPacket(packet);
    ASSERT_TRUE(outer);
    EXPECT_EQ(outer->destination, Addr(P().b));
    EXPECT_EQ(outer->source, Addr(P().a));
  }
}

TEST_P(TwoHosts, OuterPacketsAreEtherIpToThePeer) {
  Send(a_, frames_);
  ASSERT_EQ(network_.wire().size(), frames_.size());
  for (size_t i = 0; i < frames_.size(); ++i) {
    const auto& packet = network_.wire()[i];
    ASSERT_EQ(packet.size(), P().outer_header + 2 + frames_[i].size());
    if (P().outer_header == kIpv4HeaderSize) {
      EXPECT_EQ(packet[0], 0x45);
      EXPECT_EQ(packet[1], kOuterIpv4Tos);
      EXPECT_EQ(packet[6] & 0x40, 0);  // DF clear
      EXPECT_EQ(packet[8], kOuterTtl);
      EXPECT_EQ(packet[9], kIpProtocolEtherIp);
    } else {
      EXPECT_EQ(packet[0], 0x60);
      EXPECT_EQ(packet[1], 0x00);  // traffic class 0, flow label 0
      EXPECT_EQ(packet[2], 0x00);
      EXPECT_EQ(packet[3], 0x00);
      EXPECT_EQ(packet[6], kIpProtocolEtherIp);
      EXPECT_EQ(packet[7], kOuterTtl);
    }
    EXPECT_EQ(packet[P().outer_header], 0x30);
    EXPECT_EQ(packet[P().outer_header + 1], 0x00);
    EXPECT_TRUE(std::equal(packet.begin() + P().outer_header + 2, packet.end(),
                           frames_[i].begin(), frames_[i].end()));
  }
}

// The options of SPEC 8 in the headers the underlay carries, and the
// fwmark (which no header shows) as the socket was asked.
TEST_P(TwoHosts, OuterOptionsReachTheWire) {
  a_.Set("etherip0", {"ttl", "9", "tos", "0x28", "df", "fwmark", "7"});
  Send(a_, frames_);
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), frames_);
  ASSERT_EQ(network_.wire().size(), frames_.size());
  const bool v4 = P().outer_header == kIpv4HeaderSize;
  for (const auto& packet : network_.wire()) {
    if (v4) {
      EXPECT_EQ(packet[1], 0x28);
      EXPECT_EQ(packet[6] & 0x40, 0x40);  // DF set
      EXPECT_EQ(packet[8], 9);
    } else {
      EXPECT_EQ(packet[0], 0x62);  // traffic class 0x28
      EXPECT_EQ(packet[1], 0x80);
      EXPECT_EQ(packet[7], 9);
    }
  }
  MemorySocket* socket = a_.Socket(v4 ? Family::kIpv4 : Family::kIpv6);
  ASSERT_NE(socket, nullptr);
  ASSERT_EQ(socket->sent_fields().size(), frames_.size());
  for (const OuterFields& fields : socket->sent_fields()) {
    EXPECT_EQ(fields,
              (OuterFields{.ttl = 9, .tos = 0x28, .df = true, .fwmark = 7}));
  }
}

TEST_P(TwoHosts, TosInheritCopiesEachFramesDscp) {
  a_.Set("etherip0", {"tos", "inherit"});
  Frame ef = MakeFrame(60, 1);
  ef[14] = 0x45;
  ef[15] = 0xb8;  // EF
  Frame af = MakeFrame(60, 2);
  af[14] = 0x45;
  af[15] = 0x2b;  // AF11, ECN CE
  const Frame arp = [] {
    Frame frame = MakeFrame(60, 3, kBroadcast);
    frame[12] = 0x08;
    frame[13] = 0x06;
    return frame;
  }();
  Send(a_, {ef, af, arp});
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), (Frames{ef, af, arp}));
  MemorySocket* socket = a_.Socket(
      P().outer_header == kIpv4HeaderSize ? Family::kIpv4 : Family::kIpv6);
  ASSERT_NE(socket, nullptr);
  ASSERT_EQ(socket->sent_fields().size(), 3u);
  EXPECT_EQ(socket->sent_fields()[0].tos, std::optional<uint8_t>(0xb8));
  EXPECT_EQ(socket->sent_fields()[1].tos, std::optional<uint8_t>(0x28));
  EXPECT_EQ(socket->sent_fields()[2].tos, std::nullopt);  // the default
}

TEST_P(TwoHosts, DfPacketsOverThePathMtuCountOerrors) {
  a_.Set("etherip0", {"df"});
  MemorySocket* socket = a_.Socket(
      P().outer_header == kIpv4HeaderSize ? Family::kIpv4 : Family::kIpv6);
  ASSERT_NE(socket, nullptr);
  socket->set_path_mtu(P().outer_header + 2 + 1000);
  Send(a_, {MakeFrame(1000, 1), MakeFrame(1001, 2), MakeFrame(60, 3)});
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(),
            (Frames{MakeFrame(1000, 1), MakeFrame(60, 3)}));
  EXPECT_EQ(
      a_.CountersOf("etherip0"),
      (InterfaceCounterValues{.opackets = 2, .obytes = 1060, .oerrors = 1}));
}

// The tunnel's own outer packet, as the stack hands it to the interface
// when the underlay route to the peer points into the tunnel itself.
TEST_P(TwoHosts, TheTunnelsOwnPacketsAreNeverSentThroughIt) {
  const Frame inner = MakeFrame(60, 1);
  std::vector<uint8_t> payload = {0x30, 0x00};
  payload.insert(payload.end(), inner.begin(), inner.end());
  const bool v4 = P().outer_header == kIpv4HeaderSize;
  std::vector<uint8_t> packet(P().outer_header);
  if (v4) {
    BuildIpv4Header(std::span<uint8_t, kIpv4HeaderSize>(packet.data(), 20),
                    Addr(P().a), Addr(P().b), payload.size(), 1);
  } else {
    BuildIpv6Header(std::span<uint8_t, kIpv6HeaderSize>(packet.data(), 40),
                    Addr(P().a), Addr(P().b), payload.size());
  }
  packet.insert(packet.end(), payload.begin(), payload.end());
  Frame looped = MakeFrame(14, 2);
  looped[12] = v4 ? 0x08 : 0x86;
  looped[13] = v4 ? 0x00 : 0xdd;
  looped.insert(looped.end(), packet.begin(), packet.end());

  Send(a_, {looped, inner, looped});
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), Frames{inner});
  EXPECT_EQ(
      a_.CountersOf("etherip0"),
      (InterfaceCounterValues{.opackets = 1, .obytes = 60, .loopdrops = 2}));
  EXPECT_EQ(a_.Counters(),
            (GlobalCounterValues{.opackets = 1, .obytes = 60, .loopdrops = 2}));
  EXPECT_EQ(network_.wire().size(), 1u);
}

TEST_P(TwoHosts, CountersOnBothSidesFollowSpecFive) {
  Send(a_, frames_);
  const uint64_t bytes = TotalBytes(frames_);
  const uint64_t count = frames_.size();
  // Sender: opackets and obytes (the inner frames' bytes).
  EXPECT_EQ(a_.Counters(),
            (GlobalCounterValues{.opackets = count, .obytes = bytes}));
  EXPECT_EQ(a_.CountersOf("etherip0"),
            (InterfaceCounterValues{.opackets = count, .obytes = bytes}));
  // Receiver: ipackets and ibytes (the bytes after the EtherIP header).
  EXPECT_EQ(b_.Counters(),
            (GlobalCounterValues{.ipackets = count, .ibytes = bytes}));
  EXPECT_EQ(b_.CountersOf("etherip0"),
            (InterfaceCounterValues{.ipackets = count, .ibytes = bytes}));

  const Frames back = {MakeFrame(42, 7)};
  Send(b_, back);
  EXPECT_EQ(
      a_.Counters(),
      (GlobalCounterValues{
          .ipackets = 1, .ibytes = 42, .opackets = count, .obytes = bytes}));
  EXPECT_EQ(
      b_.CountersOf("etherip0"),
      (InterfaceCounterValues{
          .ipackets = count, .ibytes = bytes, .opackets = 1, .obytes = 42}));
}

TEST_P(TwoHosts, AllowOffOnTheReceiverDropsAsPdrops) {
  b_.allow = false;
  Send(a_, frames_);
  EXPECT_TRUE(b_.Tap("etherip0").TakeDelivered().empty());
  EXPECT_EQ(b_.Counters(), (GlobalCounterValues{.pdrops = frames_.size()}));
  EXPECT_TRUE(b_.NoInterfaceCounted());
  // The sender did send them.
  EXPECT_EQ(a_.Counters(),
            (GlobalCounterValues{.opackets = frames_.size(),
                                 .obytes = TotalBytes(frames_)}));
  // Turning allow on lets the next frames through.
  b_.allow = true;
  Send(a_, {MakeFrame(60, 1)});
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), Frames{MakeFrame(60, 1)});
}

TEST_P(TwoHosts, FramesFromAnUnexpectedPeerAreNoifdrops) {
  // B now expects its peer at another address; A still sends from its own.
  b_.Set("etherip0", {"tunnel", P().b, P().stranger});
  Send(a_, frames_);
  EXPECT_TRUE(b_.Tap("etherip0").TakeDelivered().empty());
  EXPECT_EQ(b_.Counters(), (GlobalCounterValues{.noifdrops = frames_.size()}));
  EXPECT_TRUE(b_.NoInterfaceCounted());
}

TEST_P(TwoHosts, InterfaceWithoutTunnelCountsOerrorsAndSendsNothing) {
  a_.Create("etherip1", {"up"});
  a_.Tap("etherip1").Inject(MakeFrame(60, 1));
  a_.Tap("etherip1").Inject(MakeFrame(70, 2));
  PumpUntilQuiet({&a_, &b_});
  EXPECT_EQ(a_.CountersOf("etherip1"), (InterfaceCounterValues{.oerrors = 2}));
  EXPECT_EQ(a_.CountersOf("etherip0"), InterfaceCounterValues{});
  EXPECT_EQ(a_.Counters(), GlobalCounterValues{});
  EXPECT_TRUE(network_.wire().empty());
  EXPECT_EQ(b_.Counters(), GlobalCounterValues{});
}

TEST_P(TwoHosts, RemovingTheTunnelStopsTraffic) {
  a_.Set("etherip0", {"-tunnel"});
  Send(a_, {MakeFrame(60, 1)});
  EXPECT_TRUE(b_.Tap("etherip0").TakeDelivered().empty());
  EXPECT_EQ(a_.CountersOf("etherip0"), (InterfaceCounterValues{.oerrors = 1}));
  EXPECT_TRUE(network_.wire().empty());
}

TEST_P(TwoHosts, FailedSendCountsOerrorsInsteadOfOpackets) {
  // No socket for the tunnel's (family, domain): every send fails.
  a_.plane().sockets.clear();
  Send(a_, {MakeFrame(60, 1), MakeFrame(61, 2)});
  EXPECT_EQ(a_.CountersOf("etherip0"), (InterfaceCounterValues{.oerrors = 2}));
  EXPECT_EQ(a_.Counters(), GlobalCounterValues{});
  EXPECT_TRUE(network_.wire().empty());
  EXPECT_TRUE(b_.Tap("etherip0").TakeDelivered().empty());
}

TEST_P(TwoHosts, BrokenTapReportsSourceFailed) {
  a_.Tap("etherip0").Inject(MakeFrame(60, 1));
  a_.Tap("etherip0").Break();
  const PumpResult result =
      a_.forwarder().PumpDevice(a_.plane(), a_.Id("etherip0"));
  EXPECT_TRUE(result.source_failed);
  EXPECT_EQ(result.packets, 0u);
  EXPECT_EQ(a_.Counters(), GlobalCounterValues{});
  EXPECT_TRUE(network_.wire().empty());
}

TEST_P(TwoHosts, WorkingTapReportsNoFailure) {
  a_.Tap("etherip0").Inject(MakeFrame(60, 1));
  const PumpResult result =
      a_.forwarder().PumpDevice(a_.plane(), a_.Id("etherip0"));
  EXPECT_FALSE(result.source_failed);
  EXPECT_EQ(result.packets, 1u);
}

TEST_P(TwoHosts, PacketsTheReceiveQueueDroppedAreQdrops) {
  // B's socket queue holds 3 packets; A sends 10 before B reads any.
  network_.set_queue_limit(3);
  for (int i = 0; i < 10; ++i)
    a_.Tap("etherip0").Inject(MakeFrame(60, static_cast<uint8_t>(i)));
  PumpUntilQuiet({&a_, &b_});
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(),
            (Frames{MakeFrame(60, 0), MakeFrame(60, 1), MakeFrame(60, 2)}));
  // Every packet that reached B lands in exactly one counter.
  EXPECT_EQ(b_.Counters(), (GlobalCounterValues{
                               .ipackets = 3, .ibytes = 3 * 60, .qdrops = 7}));
}

TEST_P(TwoHosts, DestroyedInterfaceOnTheReceiverIsNoifdrops) {
  // B keeps another tunnel in the same family, so its socket stays open.
  b_.Create("etherip1", {"tunnel", P().b, P().stranger, "up"});
  b_.Destroy("etherip0");
  Send(a_, {MakeFrame(60, 1)});
  EXPECT_EQ(b_.Counters(), (GlobalCounterValues{.noifdrops = 1}));
  EXPECT_TRUE(b_.Tap("etherip1").TakeDelivered().empty());
}

TEST_P(TwoHosts, EachHostSeparatesItsInterfacesByPeer) {
  // B has two peers: A and a third host C.
  MemoryHost c{network_, 0xc0};
  c.Create("etherip0", {"tunnel", P().stranger, P().b, "up"});
  b_.Create("etherip1", {"tunnel", P().b, P().stranger, "up"});
  a_.Tap("etherip0").Inject(MakeFrame(60, 1));
  c.Tap("etherip0").Inject(MakeFrame(70, 2));
  PumpUntilQuiet({&a_, &b_, &c});
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), Frames{MakeFrame(60, 1)});
  EXPECT_EQ(b_.Tap("etherip1").TakeDelivered(), Frames{MakeFrame(70, 2)});
  EXPECT_EQ(b_.CountersOf("etherip0"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 60}));
  EXPECT_EQ(b_.CountersOf("etherip1"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 70}));
}

TEST_P(TwoHosts, DomainsSeparateTunnelsWithTheSameAddresses) {
  // B has a second underlay, domain "blue", where host C uses the very same
  // address as A does in B's own domain.
  MemoryHost c{blue_, 0xc0};
  b_.AddDomain("blue", blue_);
  b_.Create("etherip1", {"tunnel", P().b, P().a, "domain", "blue", "up"});
  c.Create("etherip0", {"tunnel", P().a, P().b, "up"});
  a_.Tap("etherip0").Inject(MakeFrame(60, 1));
  c.Tap("etherip0").Inject(MakeFrame(70, 2));
  PumpUntilQuiet({&a_, &b_, &c});
  EXPECT_EQ(b_.Tap("etherip0").TakeDelivered(), Frames{MakeFrame(60, 1)});
  EXPECT_EQ(b_.Tap("etherip1").TakeDelivered(), Frames{MakeFrame(70, 2)});
  // And back, each through its own domain.
  b_.Tap("etherip0").Inject(MakeFrame(80, 3));
  b_.Tap("etherip1").Inject(MakeFrame(90, 4));
  PumpUntilQuiet({&a_, &b_, &c});
  EXPECT_EQ(a_.Tap("etherip0").TakeDelivered(), Frames{MakeFrame(80, 3)});
  EXPECT_EQ(c.Tap("etherip0").TakeDelivered(), Frames{MakeFrame(90, 4)});
  EXPECT_EQ(network_.wire().size(), 2u);
  EXPECT_EQ(blue_.wire().size(), 2u);
}

TEST_P(TwoHosts, PacketArrivingInAnotherDomainIsNoifdrops) {
  // B's tunnel with A lives in domain "blue", but A's packets arrive in B's
  // own domain (where B has a socket for another tunnel).
  b_.AddDomain("blue", blue_);
  b_.Set("etherip0", {"domain", "blue"});
  b_.Create("etherip1", {"tunnel", P().b, P().stranger, "up"});
  Send(a_, {MakeFrame(60, 1)});
  EXPECT_EQ(b_.Counters(), (GlobalCounterValues{.noifdrops = 1}));
  EXPECT_TRUE(b_.Tap("etherip0").TakeDelivered().empty());
  EXPECT_TRUE(b_.NoInterfaceCounted());
}

// Records the receive drops the forwarder reports (the daemon logs them).
class RecordingObserver : public DropObserver {
 public:
  void OnReceiveDrop(ReceiveDrop reason, const DataPlane&,
                     Endpoint where) override {
    drops.emplace_back(reason, where);
  }
  std::vector<std::pair<ReceiveDrop, Endpoint>> drops;
};

TEST_P(TwoHosts, ReceiveDropsAreReportedWithTheirReasonAndEndpoint) {
  RecordingObserver observer;
  MemoryHost c{network_, 0xc0, &observer};
  c.Create("etherip0", {"tunnel", P().stranger, P().a, "up"});
  const Endpoint endpoint{Addr(P().a).family(), 0};
  // C expects A; B sends to C's address: no interface.
  b_.Create("etherip1", {"tunnel", P().b, P().stranger, "up"});
  b_.Tap("etherip1").Inject(MakeFrame(60, 1));
  PumpUntilQuiet({&a_, &b_, &c});
  // A to C while C does not allow EtherIP: policy.
  c.allow = false;
  a_.Create("etherip1", {"tunnel", P().a, P().stranger, "up"});
  a_.Tap("etherip1").Inject(MakeFrame(60, 2));
  PumpUntilQuiet({&a_, &b_, &c});
  using Drop = std::pair<ReceiveDrop, Endpoint>;
  EXPECT_EQ(observer.drops,
            (std::vector<Drop>{{ReceiveDrop::kNoInterface, endpoint},
                               {ReceiveDrop::kPolicy, endpoint}}));
  EXPECT_EQ(c.Counters(), (GlobalCounterValues{.pdrops = 1, .noifdrops = 1}));
}

TEST_P(TwoHosts, DeliveredPacketsAreNotReportedAsDrops) {
  RecordingObserver observer;
  MemoryHost c{network_, 0xc0, &observer};
  c.Create("etherip0", {"tunnel", P().stranger, P().a, "up"});
  a_.Create("etherip1", {"tunnel", P().a, P().stranger, "up"});
  a_.Tap("etherip1").Inject(MakeFrame(60, 2));
  PumpUntilQuiet({&a_, &b_, &c});
  EXPECT_EQ(c.Tap("etherip0").TakeDelivered(), Frames{MakeFrame(60, 2)});
  EXPECT_TRUE(observer.drops.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Underlays, TwoHosts,
    ::testing::Values(Underlay{"Ipv4", "192.0.2.1", "192.0.2.2", "192.0.2.3",
                               kIpv4HeaderSize},
                      Underlay{"Ipv6", "2001:db8::1", "2001:db8::2",
                               "2001:db8::3", kIpv6HeaderSize}),
    [](const auto& info) { return std::string(info.param.name); });

// The same hosts with both underlays at once: one interface pair over IPv4
// and one over IPv6 between the same two hosts.
TEST(TwoHostsDualStack, Ipv4AndIpv6TunnelsWorkSideBySide) {
  MemoryNetwork network;
  MemoryHost a{network, 0xa0};
  MemoryHost b{network, 0xb0};
  a.Create("etherip4", {"tunnel", "192.0.2.1", "192.0.2.2", "up"});
  a.Create("etherip6", {"tunnel", "2001:db8::1", "2001:db8::2", "up"});
  b.Create("etherip4", {"tunnel", "192.0.2.2", "192.0.2.1", "up"});
  b.Create("etherip6", {"tunnel", "2001:db8::2", "2001:db8::1", "up"});
  a.Tap("etherip4").Inject(MakeFrame(60, 4));
  a.Tap("etherip6").Inject(MakeFrame(66, 6));
  PumpUntilQuiet({&a, &b});
  EXPECT_EQ(b.Tap("etherip4").TakeDelivered(), Frames{MakeFrame(60, 4)});
  EXPECT_EQ(b.Tap("etherip6").TakeDelivered(), Frames{MakeFrame(66, 6)});
  EXPECT_EQ(b.Counters(), (GlobalCounterValues{.ipackets = 2, .ibytes = 126}));
  EXPECT_EQ(a.Counters(), (GlobalCounterValues{.opackets = 2, .obytes = 126}));
  EXPECT_EQ(b.plane().sockets.size(), 2u);
}

// MikroTik EoIPv6 (SPEC 8, "EoIP"): two hosts with two EoIP tunnels on one
// address pair, told apart by their IDs.
class TwoHostsEoip : public ::testing::Test {
 protected:
  TwoHostsEoip() {
    for (auto [host, local, remote] :
         {std::tuple{&a_, "2001:db8::1", "2001:db8::2"},
          std::tuple{&b_, "2001:db8::2", "2001:db8::1"}}) {
      host->Create("eoip1", {"tunnel", local, remote, "eoip", "1", "up"});
      host->Create("eoip300", {"tunnel", local, remote, "eoip", "300", "up"});
    }
  }

  MemoryNetwork network_;
  MemoryHost a_{network_, 0xa0};
  MemoryHost b_{network_, 0xb0};
};

TEST_F(TwoHostsEoip, TwoTunnelsOnOneAddressPairCarrySeparateTraffic) {
  a_.Tap("eoip1").Inject(MakeFrame(60, 1));
  a_.Tap("eoip300").Inject(MakeFrame(70, 2));
  a_.Tap("eoip1").Inject(MakeFrame(80, 3));
  PumpUntilQuiet({&a_, &b_});
  EXPECT_EQ(b_.Tap("eoip1").TakeDelivered(),
            (Frames{MakeFrame(60, 1), MakeFrame(80, 3)}));
  EXPECT_EQ(b_.Tap("eoip300").TakeDelivered(), Frames{MakeFrame(70, 2)});
  EXPECT_EQ(b_.CountersOf("eoip1"),
            (InterfaceCounterValues{.ipackets = 2, .ibytes = 140}));
  EXPECT_EQ(b_.CountersOf("eoip300"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 70}));
  // The IDs are on the wire: 03 01, and 300 = 0x12c: 13 2c (the frame's
  // size tells which tunnel sent it).
  ASSERT_EQ(network_.wire().size(), 3u);
  for (const auto& packet : network_.wire()) {
    const size_t frame = packet.size() - kIpv6HeaderSize - 2;
    const auto header =
        std::pair(packet[kIpv6HeaderSize], packet[kIpv6HeaderSize + 1]);
    EXPECT_EQ(header, frame == 70 ? std::pair(uint8_t{0x13}, uint8_t{0x2c})
                                  : std::pair(uint8_t{0x03}, uint8_t{0x01}))
        << frame;
  }
  // And back.
  b_.Tap("eoip300").Inject(MakeFrame(90, 4));
  PumpUntilQuiet({&a_, &b_});
  EXPECT_EQ(a_.Tap("eoip300").TakeDelivered(), Frames{MakeFrame(90, 4)});
  EXPECT_TRUE(a_.Tap("eoip1").TakeDelivered().empty());
}

TEST_F(TwoHostsEoip, AnIdThePeerDoesNotHaveIsNoifdrops) {
  b_.Set("eoip300", {"eoip", "301"});
  a_.Tap("eoip300").Inject(MakeFrame(60, 1));
  PumpUntilQuiet({&a_, &b_});
  EXPECT_TRUE(b_.Tap("eoip300").TakeDelivered().empty());
  EXPECT_EQ(b_.Counters(), (GlobalCounterValues{.noifdrops = 1}));
  EXPECT_TRUE(b_.NoInterfaceCounted());
}

TEST_F(TwoHostsEoip, KeepalivesCrossAndAreCountedNeverDelivered) {
  EXPECT_TRUE(a_.forwarder().SendKeepalive(a_.plane(), a_.Id("eoip1")));
  EXPECT_TRUE(a_.forwarder().SendKeepalive(a_.plane(), a_.Id("eoip300")));
  EXPECT_TRUE(a_.forwarder().SendKeepalive(a_.plane(), a_.Id("eoip300")));
  PumpUntilQuiet({&a_, &b_});
  // Header only on the wire.
  ASSERT_EQ(network_.wire().size(), 3u);
  EXPECT_EQ(network_.wire()[0].size(), kIpv6HeaderSize + 2);
  EXPECT_EQ(b_.Counters(), (GlobalCounterValues{.keepalives = 3}));
  EXPECT_EQ(b_.CountersOf("eoip1"), (InterfaceCounterValues{.keepalives = 1}));
  EXPECT_EQ(b_.CountersOf("eoip300"),
            (InterfaceCounterValues{.keepalives = 2}));
  EXPECT_TRUE(b_.Tap("eoip1").TakeDelivered().empty());
  EXPECT_TRUE(b_.Tap("eoip300").TakeDelivered().empty());
  // Sent keepalives are not frames: the sender counts nothing.
  EXPECT_EQ(a_.Counters(), GlobalCounterValues{});
  EXPECT_TRUE(a_.NoInterfaceCounted());
}

TEST_F(TwoHostsEoip, OnlyRunningEoipTunnelsSendKeepalives) {
  a_.Set("eoip1", {"down"});
  EXPECT_FALSE(a_.forwarder().SendKeepalive(a_.plane(), a_.Id("eoip1")));
  a_.Create("standard", {"tunnel", "2001:db8::1", "2001:db8::3", "up"});
  EXPECT_FALSE(a_.forwarder().SendKeepalive(a_.plane(), a_.Id("standard")));
  a_.Set("eoip300", {"-tunnel"});
  EXPECT_FALSE(a_.forwarder().SendKeepalive(a_.plane(), a_.Id("eoip300")));
  EXPECT_FALSE(a_.forwarder().SendKeepalive(a_.plane(), 999));
  EXPECT_TRUE(network_.wire().empty());
}

TEST_F(TwoHostsEoip, AnEmptyPayloadOnAStandardTunnelStaysAdrops) {
  b_.Create("standard", {"tunnel", "2001:db8::2", "2001:db8::3", "up"});
  const std::vector<uint8_t> header_only = {0x30, 0x00};
  network_.Carry(testing_support::Ipv6Packet(testing_support::Ip("2001:db8::3"),
                                             testing_support::Ip("2001:db8::2"),
                                             header_only));
  PumpUntilQuiet({&a_, &b_});
  EXPECT_EQ(b_.Counters(), (GlobalCounterValues{.adrops = 1}));
}

}  // namespace
}  // namespace etherip

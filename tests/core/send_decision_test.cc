#include "core/send_decision.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/core_fixtures.h"

namespace etherip {
namespace {

using testing_support::FakeDomains;
using testing_support::MakeFrame;
using testing_support::MakeTunnel;
using testing_support::Options;
using testing_support::SequentialMacs;

class SendDecisionTest : public ::testing::Test {
 protected:
  SendDecisionTest() {
    Create("v4", {"up", "tunnel", "192.0.2.1", "192.0.2.2"});
    Create("v6blue",
           {"up", "tunnel", "2001:db8::1", "2001:db8::2", "domain", "blue"});
    Create("notunnel", {"up"});
    snapshot_ = table_.BuildForwardingTable();
  }
  void Create(std::string name, std::initializer_list<std::string> words) {
    ASSERT_TRUE(table_.Create(name, Options(words), domains_));
  }
  InterfaceId Id(std::string_view name) { return table_.Find(name)->id; }
  InterfaceCounterValues CountersOf(std::string_view name) {
    return table_.Find(name)->counters->Read();
  }
  void Load(const std::vector<uint8_t>& frame) {
    auto room = packet_.ResetForRead();
    std::copy(frame.begin(), frame.end(), room.begin());
    packet_.Commit(frame.size());
  }
  std::vector<uint8_t> Bytes() const {
    auto data = packet_.data();
    return {data.begin(), data.end()};
  }

  FakeDomains domains_{"blue"};
  TunnelTable table_{SequentialMacs()};
  ForwardingTable snapshot_;
  GlobalCounters counters_;
  PacketBuffer packet_;
  const std::vector<uint8_t> frame_ = MakeFrame(60, 3);
};

std::vector<uint8_t> Encapsulated(const std::vector<uint8_t>& frame) {
  return testing_support::EtherIpPayload(frame, 0x30, 0x00);
}

TEST_F(SendDecisionTest, PrependsTheEtherIpHeaderInPlace) {
  Load(frame_);
  const uint8_t* frame_start = packet_.data().data();
  const SendVerdict verdict =
      DecideSend(snapshot_, Id("v4"), packet_, counters_);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(Bytes(), Encapsulated(frame_));
  EXPECT_EQ(packet_.data().data() + 2, frame_start);  // no copy
  EXPECT_EQ(packet_.headroom(), PacketBuffer::kHeadroom - 2);
}

TEST_F(SendDecisionTest, WritesTheHeaderOfTheInterfacesMode) {
  for (const auto& [mode, byte0] :
       {std::pair{"standard", 0x30}, {"reversed", 0x03}, {"any", 0x30}}) {
    SCOPED_TRACE(mode);
    ASSERT_TRUE(table_.Set("v4", Options({"header", mode}), domains_));
    snapshot_ = table_.BuildForwardingTable();
    Load(frame_);
    ASSERT_NE(DecideSend(snapshot_, Id("v4"), packet_, counters_).interface,
              nullptr);
    EXPECT_EQ(Bytes(), testing_support::EtherIpPayload(
                           frame_, static_cast<uint8_t>(byte0), 0x00));
  }
}

TEST_F(SendDecisionTest, NamesTheTunnelAndDomainToSendThrough) {
  Load(frame_);
  const SendVerdict verdict =
      DecideSend(snapshot_, Id("v6blue"), packet_, counters_);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.interface->id, Id("v6blue"));
  EXPECT_EQ(verdict.interface->tunnel,
            MakeTunnel("2001:db8::1", "2001:db8::2"));
  EXPECT_EQ(verdict.interface->domain, table_.DomainIdOf("blue"));
  EXPECT_EQ(verdict.frame_size, 60u);
}

TEST_F(SendDecisionTest, CountsNothingUntilTheResultIsKnown) {
  Load(frame_);
  DecideSend(snapshot_, Id("v4"), packet_, counters_);
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
  EXPECT_EQ(CountersOf("v4"), InterfaceCounterValues{});
}

TEST_F(SendDecisionTest, EncapsulatesBroadcastFramesLikeAnyOther) {
  const auto frame = MakeFrame(60, 4, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  Load(frame);
  ASSERT_NE(DecideSend(snapshot_, Id("v4"), packet_, counters_).interface,
            nullptr);
  EXPECT_EQ(Bytes(), Encapsulated(frame));
}

TEST_F(SendDecisionTest, EncapsulatesTheLargestFrame) {
  const auto frame = MakeFrame(PacketBuffer::kMaxData, 5);
  Load(frame);
  const SendVerdict verdict =
      DecideSend(snapshot_, Id("v4"), packet_, counters_);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.frame_size, PacketBuffer::kMaxData);
  EXPECT_EQ(packet_.size(), PacketBuffer::kMaxData + 2);
}

TEST_F(SendDecisionTest, NoTunnelDropsAndCountsOerrorsOnThatInterface) {
  // The reference drops silently; SPEC 4 counts oerrors.
  Load(frame_);
  const SendVerdict verdict =
      DecideSend(snapshot_, Id("notunnel"), packet_, counters_);
  EXPECT_EQ(verdict.interface, nullptr);
  EXPECT_EQ(Bytes(), frame_);  // untouched
  EXPECT_EQ(CountersOf("notunnel"), (InterfaceCounterValues{.oerrors = 1}));
  EXPECT_EQ(CountersOf("v4"), InterfaceCounterValues{});
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
}

TEST_F(SendDecisionTest, NoTunnelDropIsNotCountedAgainByCountSendResult) {
  Load(frame_);
  const SendVerdict verdict =
      DecideSend(snapshot_, Id("notunnel"), packet_, counters_);
  CountSendResult(verdict, false, counters_);
  CountSendResult(verdict, true, counters_);
  EXPECT_EQ(CountersOf("notunnel"), (InterfaceCounterValues{.oerrors = 1}));
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
}

TEST_F(SendDecisionTest, UnknownInterfaceDropsWithoutCounting) {
  Load(frame_);
  const SendVerdict verdict = DecideSend(snapshot_, 99, packet_, counters_);
  EXPECT_EQ(verdict.interface, nullptr);
  EXPECT_EQ(Bytes(), frame_);
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
  for (const InterfaceState* state : table_.List()) {
    EXPECT_EQ(state->counters->Read(), InterfaceCounterValues{});
  }
}

TEST_F(SendDecisionTest, SentCountsOpacketsAndInnerFrameBytes) {
  Load(frame_);
  CountSendResult(DecideSend(snapshot_, Id("v4"), packet_, counters_), true,
                  counters_);
  Load(MakeFrame(1514));
  CountSendResult(DecideSend(snapshot_, Id("v4"), packet_, counters_), true,
                  counters_);
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.opackets = 2, .obytes = 60 + 1514}));
  EXPECT_EQ(CountersOf("v4"),
            (InterfaceCounterValues{.opackets = 2, .obytes = 60 + 1514}));
  EXPECT_EQ(CountersOf("v6blue"), InterfaceCounterValues{});
}

TEST_F(SendDecisionTest, NotSentCountsOerrorsOnly) {
  Load(frame_);
  CountSendResult(DecideSend(snapshot_, Id("v6blue"), packet_, counters_),
                  false, counters_);
  EXPECT_EQ(CountersOf("v6blue"), (InterfaceCounterValues{.oerrors = 1}));
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
}

TEST_F(SendDecisionTest, CountSendResultOfAnEmptyVerdictCountsNothing) {
  CountSendResult(SendVerdict{}, true, counters_);
  CountSendResult(SendVerdict{}, false, counters_);
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
}

TEST_F(SendDecisionTest, ReusedBufferEncapsulatesEachFrameOnce) {
  for (int i = 0; i < 3; ++i) {
    Load(frame_);
    ASSERT_NE(DecideSend(snapshot_, Id("v4"), packet_, counters_).interface,
              nullptr);
    EXPECT_EQ(Bytes(), Encapsulated(frame_));
  }
}

// --- Outer header options ---

// An Ethernet frame of `type` behind `tags` (802.1Q 0x8100 or 802.1ad
// 0x88a8, each with VLAN 5) holding `payload`.
std::vector<uint8_t> EthernetFrame(uint16_t type,
                                   std::span<const uint8_t> payload,
                                   std::initializer_list<uint16_t> tags = {}) {
  std::vector<uint8_t> frame = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
                                0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  for (uint16_t tag : tags) {
    frame.insert(frame.end(), {static_cast<uint8_t>(tag >> 8),
                               static_cast<uint8_t>(tag), 0x00, 0x05});
  }
  frame.insert(frame.end(),
               {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type)});
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

// An IPv4 or IPv6 packet of `protocol` with TOS / traffic class `tos`
// (a TCP segment's worth of bytes behind it).
std::vector<uint8_t> InnerPacket(std::string_view source,
                                 std::string_view destination, uint8_t tos,
                                 uint8_t protocol = 6) {
  const std::vector<uint8_t> payload(40, 0x5a);
  OuterFields fields;
  fields.tos = tos;
  const IpAddress from = testing_support::Ip(source);
  const IpAddress to = testing_support::Ip(destination);
  std::vector<uint8_t> packet;
  if (from.family() == Family::kIpv4) {
    packet.resize(kIpv4HeaderSize);
    BuildIpv4Header(
        std::span<uint8_t, kIpv4HeaderSize>(packet.data(), kIpv4HeaderSize),
        from, to, payload.size(), 7, fields);
    packet[9] = protocol;
  } else {
    packet.resize(kIpv6HeaderSize);
    BuildIpv6Header(
        std::span<uint8_t, kIpv6HeaderSize>(packet.data(), kIpv6HeaderSize),
        from, to, payload.size(), fields);
    packet[6] = protocol;
  }
  packet.insert(packet.end(), payload.begin(), payload.end());
  return packet;
}

uint16_t EtherTypeOf(std::string_view address) {
  return testing_support::Ip(address).family() == Family::kIpv4 ? 0x0800
                                                                : 0x86dd;
}

// A frame carrying an outer EtherIP packet from `source` to `destination`
// (protocol 97) whose payload is `inner`, a frame.
std::vector<uint8_t> TunnelFrame(std::string_view source,
                                 std::string_view destination,
                                 std::span<const uint8_t> inner,
                                 std::initializer_list<uint16_t> tags = {}) {
  using testing_support::Ip;
  const auto payload = testing_support::EtherIpPayload(inner);
  const auto packet =
      Ip(source).family() == Family::kIpv4
          ? testing_support::Ipv4Packet(Ip(source), Ip(destination), payload)
          : testing_support::Ipv6Packet(Ip(source), Ip(destination), payload);
  return EthernetFrame(EtherTypeOf(source), packet, tags);
}

// An ordinary frame: a TCP segment between two hosts.
std::vector<uint8_t> HostFrame() {
  return EthernetFrame(0x0800, InnerPacket("203.0.113.1", "203.0.113.2", 0x00));
}

TEST_F(SendDecisionTest, DefaultOptionsAskForTheSocketsDefaults) {
  Load(frame_);
  const SendVerdict verdict =
      DecideSend(snapshot_, Id("v4"), packet_, counters_);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.outer, OuterFields{});
  Load(frame_);
  EXPECT_EQ(DecideSend(snapshot_, Id("v6blue"), packet_, counters_).outer,
            OuterFields{});
}

TEST_F(SendDecisionTest, CarriesTheTunnelsOuterOptions) {
  ASSERT_TRUE(table_.Set(
      "v4", Options({"ttl", "9", "df", "tos", "0x28", "fwmark", "0x10007"}),
      domains_));
  snapshot_ = table_.BuildForwardingTable();
  Load(frame_);
  const SendVerdict verdict =
      DecideSend(snapshot_, Id("v4"), packet_, counters_);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(
      verdict.outer,
      (OuterFields{.ttl = 9, .tos = 0x28, .df = true, .fwmark = 0x10007}));
  EXPECT_EQ(Bytes(), Encapsulated(frame_));  // the frame is not touched
}

TEST_F(SendDecisionTest, AnExplicitTosIsSentWhateverTheFrameCarries) {
  ASSERT_TRUE(table_.Set("v4", Options({"tos", "0"}), domains_));
  snapshot_ = table_.BuildForwardingTable();
  Load(EthernetFrame(0x0800, InnerPacket("203.0.113.1", "203.0.113.2", 0xb8)));
  EXPECT_EQ(DecideSend(snapshot_, Id("v4"), packet_, counters_).outer.tos,
            std::optional<uint8_t>(0));
}

class TosInheritTest : public SendDecisionTest {
 protected:
  TosInheritTest() {
    for (const char* name : {"v4", "v6blue"}) {
      EXPECT_TRUE(table_.Set(name, Options({"tos", "inherit"}), domains_));
    }
    snapshot_ = table_.BuildForwardingTable();
  }
  std::optional<uint8_t> TosOf(const std::vector<uint8_t>& frame,
                               std::string_view interface = "v4") {
    Load(frame);
    const SendVerdict verdict =
        DecideSend(snapshot_, Id(interface), packet_, counters_);
    EXPECT_NE(verdict.interface, nullptr);
    EXPECT_EQ(Bytes(), Encapsulated(frame));
    return verdict.outer.tos;
  }
};

TEST_F(TosInheritTest, CopiesTheDscpOfAnInnerIpv4Packet) {
  EXPECT_EQ(TosOf(EthernetFrame(
                0x0800, InnerPacket("203.0.113.1", "203.0.113.2", 0xb8))),
            0xb8);
  // Over an IPv6 underlay alike.
  EXPECT_EQ(TosOf(EthernetFrame(
                      0x0800, InnerPacket("203.0.113.1", "203.0.113.2", 0x28)),
                  "v6blue"),
            0x28);
}

TEST_F(TosInheritTest, CopiesTheDscpOfAnInnerIpv6TrafficClass) {
  EXPECT_EQ(TosOf(EthernetFrame(
                0x86dd, InnerPacket("2001:db8:1::1", "2001:db8:1::2", 0xb8))),
            0xb8);
  EXPECT_EQ(TosOf(EthernetFrame(0x86dd, InnerPacket("2001:db8:1::1",
                                                    "2001:db8:1::2", 0x28)),
                  "v6blue"),
            0x28);
}

TEST_F(TosInheritTest, SendsTheEcnFieldNotEct) {
  // RFC 6040 compatibility mode: a congestion mark on the outer header
  // would be lost at the peer, so the outer packet is not ECN-capable.
  for (uint8_t ecn : {1, 2, 3}) {
    EXPECT_EQ(
        TosOf(EthernetFrame(
            0x0800, InnerPacket("203.0.113.1", "203.0.113.2", 0xb8 | ecn))),
        0xb8);
    EXPECT_EQ(
        TosOf(EthernetFrame(
            0x86dd, InnerPacket("2001:db8:1::1", "2001:db8:1::2", 0x48 | ecn))),
        0x48);
  }
}

TEST_F(TosInheritTest, LooksBehindVlanTags) {
  const auto ipv4 = InnerPacket("203.0.113.1", "203.0.113.2", 0x88);
  const auto ipv6 = InnerPacket("2001:db8:1::1", "2001:db8:1::2", 0x68);
  EXPECT_EQ(TosOf(EthernetFrame(0x0800, ipv4, {0x8100})), 0x88);
  EXPECT_EQ(TosOf(EthernetFrame(0x0800, ipv4, {0x88a8, 0x8100})), 0x88);
  EXPECT_EQ(TosOf(EthernetFrame(0x86dd, ipv6, {0x8100})), 0x68);
  EXPECT_EQ(TosOf(EthernetFrame(0x86dd, ipv6, {0x88a8, 0x8100})), 0x68);
}

TEST_F(TosInheritTest, FramesWithoutIpGetTheFamilysDefault) {
  // ARP.
  EXPECT_EQ(TosOf(EthernetFrame(0x0806, std::vector<uint8_t>(28, 0x01))),
            std::nullopt);
  // An EtherType that says IP over bytes that are not.
  EXPECT_EQ(TosOf(EthernetFrame(0x0800, std::vector<uint8_t>(28, 0x61))),
            std::nullopt);
  EXPECT_EQ(TosOf(EthernetFrame(0x86dd, std::vector<uint8_t>(1, 0x61))),
            std::nullopt);
  // Tags and nothing after them.
  EXPECT_EQ(TosOf(EthernetFrame(0x8100, std::vector<uint8_t>(2, 0x81))),
            std::nullopt);
}

TEST_F(TosInheritTest, KeepsTheOtherOptions) {
  ASSERT_TRUE(
      table_.Set("v4", Options({"ttl", "200", "fwmark", "3"}), domains_));
  snapshot_ = table_.BuildForwardingTable();
  Load(EthernetFrame(0x0800, InnerPacket("203.0.113.1", "203.0.113.2", 0x20)));
  EXPECT_EQ(DecideSend(snapshot_, Id("v4"), packet_, counters_).outer,
            (OuterFields{.ttl = 200, .tos = 0x20, .df = false, .fwmark = 3}));
}

// --- Loop protection ---

class LoopTest : public SendDecisionTest {
 protected:
  LoopTest() {
    // A second IPv4 tunnel, through which v4's underlay might be routed.
    Create("other", {"up", "tunnel", "198.51.100.1", "198.51.100.2"});
    snapshot_ = table_.BuildForwardingTable();
  }
  // Whether `interface` sends `frame`; a frame it does not send must be
  // counted as loopdrops, globally and on the interface, and nothing else.
  bool Sends(const std::vector<uint8_t>& frame,
             std::string_view interface = "v4") {
    const GlobalCounterValues before = counters_.Read();
    const InterfaceCounterValues own_before = CountersOf(interface);
    Load(frame);
    const bool sent =
        DecideSend(snapshot_, Id(interface), packet_, counters_).interface !=
        nullptr;
    GlobalCounterValues after = before;
    InterfaceCounterValues own_after = own_before;
    if (!sent) {
      ++after.loopdrops;
      ++own_after.loopdrops;
      EXPECT_EQ(Bytes(), frame);  // untouched
    }
    EXPECT_EQ(counters_.Read(), after);
    EXPECT_EQ(CountersOf(interface), own_after);
    return sent;
  }
};

TEST_F(LoopTest, DropsTheInterfacesOwnOuterPacket) {
  EXPECT_FALSE(Sends(TunnelFrame("192.0.2.1", "192.0.2.2", frame_)));
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{.loopdrops = 1});
  EXPECT_EQ(CountersOf("v4"), InterfaceCounterValues{.loopdrops = 1});
  EXPECT_EQ(CountersOf("other"), InterfaceCounterValues{});
}

TEST_F(LoopTest, DropsItInEitherDirection) {
  EXPECT_FALSE(Sends(TunnelFrame("192.0.2.2", "192.0.2.1", frame_)));
}

TEST_F(LoopTest, DropsItOverIpv6) {
  EXPECT_FALSE(
      Sends(TunnelFrame("2001:db8::1", "2001:db8::2", frame_), "v6blue"));
  EXPECT_FALSE(
      Sends(TunnelFrame("2001:db8::2", "2001:db8::1", frame_), "v6blue"));
}

TEST_F(LoopTest, DropsItBehindVlanTags) {
  EXPECT_FALSE(Sends(TunnelFrame("192.0.2.1", "192.0.2.2", frame_, {0x8100})));
  EXPECT_FALSE(
      Sends(TunnelFrame("2001:db8::1", "2001:db8::2", frame_, {0x88a8, 0x8100}),
            "v6blue"));
}

TEST_F(LoopTest, DropsAFragmentOfIt) {
  auto frame = TunnelFrame("192.0.2.1", "192.0.2.2", frame_);
  frame[14 + 6] = 0x00;  // fragment offset 1480: no EtherIP header in it
  frame[14 + 7] = 0xb9;
  EXPECT_FALSE(Sends(frame));
}

TEST_F(LoopTest, DropsItInsideAnotherTunnelsPacket) {
  // v4's underlay routed through `other`, whose underlay is routed through
  // v4: v4 reads other's packet, which carries v4's own.
  const auto own = TunnelFrame("192.0.2.1", "192.0.2.2", frame_);
  EXPECT_FALSE(Sends(TunnelFrame("198.51.100.1", "198.51.100.2", own)));
  // Through tags, another header form and an IPv6 tunnel on the way.
  auto reversed =
      TunnelFrame("2001:db8:5::1", "2001:db8:5::2",
                  TunnelFrame("192.0.2.2", "192.0.2.1", frame_, {0x8100}));
  reversed[14 + kIpv6HeaderSize] = 0x03;
  EXPECT_FALSE(Sends(reversed));
}

TEST_F(LoopTest, LooksUpToTheBoundedDepth) {
  std::vector<uint8_t> frame = TunnelFrame("192.0.2.1", "192.0.2.2", frame_);
  // Inside kLoopSearchDepth - 1 other tunnels: found.
  for (int i = 1; i < kLoopSearchDepth; ++i) {
    frame = TunnelFrame("198.51.100.1", "198.51.100.2", frame);
  }
  EXPECT_FALSE(Sends(frame));
  // One more: past the bound, carried.
  frame = TunnelFrame("198.51.100.1", "198.51.100.2", frame);
  EXPECT_TRUE(Sends(frame));
}

TEST_F(LoopTest, CarriesOtherTunnelsPackets) {
  // Another tunnel's packet, with an ordinary frame inside.
  EXPECT_TRUE(Sends(TunnelFrame("198.51.100.1", "198.51.100.2", HostFrame())));
  // Packets of the other family between the same bytes' worth of address.
  EXPECT_TRUE(Sends(TunnelFrame("2001:db8::1", "2001:db8::2", frame_)));
  EXPECT_TRUE(Sends(TunnelFrame("192.0.2.1", "192.0.2.2", frame_), "v6blue"));
  // v4's packet when asked of another interface: v4 sends it there.
  EXPECT_TRUE(Sends(TunnelFrame("192.0.2.1", "192.0.2.2", frame_), "other"));
  // One end only.
  EXPECT_TRUE(Sends(TunnelFrame("192.0.2.1", "192.0.2.9", frame_)));
  EXPECT_TRUE(Sends(TunnelFrame("192.0.2.9", "192.0.2.2", frame_)));
}

TEST_F(LoopTest, CarriesOtherProtocolsBetweenTheTunnelsAddresses) {
  // Pings and the like between the tunnel's endpoints are traffic.
  EXPECT_TRUE(Sends(
      EthernetFrame(0x0800, InnerPacket("192.0.2.1", "192.0.2.2", 0, 1))));
  EXPECT_TRUE(Sends(
      EthernetFrame(0x86dd, InnerPacket("2001:db8::1", "2001:db8::2", 0, 58)),
      "v6blue"));
  // IPv6 extension headers are not walked (SPEC 4): protocol 97 behind a
  // hop-by-hop header is carried.
  EXPECT_TRUE(Sends(
      EthernetFrame(0x86dd, InnerPacket("2001:db8::1", "2001:db8::2", 0, 0)),
      "v6blue"));
}

TEST_F(LoopTest, CarriesOrdinaryAndShortFrames) {
  EXPECT_TRUE(Sends(HostFrame()));
  EXPECT_TRUE(Sends(frame_));
  EXPECT_TRUE(Sends(MakeFrame(14)));
  // IP headers cut short.
  auto own = TunnelFrame("192.0.2.1", "192.0.2.2", frame_);
  EXPECT_TRUE(Sends({own.begin(), own.begin() + 14 + 19}));
  auto own6 = TunnelFrame("2001:db8::1", "2001:db8::2", frame_);
  EXPECT_TRUE(Sends({own6.begin(), own6.begin() + 14 + 39}, "v6blue"));
}

TEST(CarriesOwnTunnel, NeedsProtocol97AndBothAddresses) {
  const Tunnel tunnel = MakeTunnel("192.0.2.1", "192.0.2.2");
  const auto inner = MakeFrame(60, 3);
  EXPECT_TRUE(
      CarriesOwnTunnel(TunnelFrame("192.0.2.1", "192.0.2.2", inner), tunnel));
  auto other_protocol = TunnelFrame("192.0.2.1", "192.0.2.2", inner);
  other_protocol[14 + 9] = 47;  // GRE
  EXPECT_FALSE(CarriesOwnTunnel(other_protocol, tunnel));
  EXPECT_FALSE(CarriesOwnTunnel({}, tunnel));
}

}  // namespace
}  // namespace etherip

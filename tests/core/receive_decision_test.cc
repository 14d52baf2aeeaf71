#include "core/receive_decision.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/core_fixtures.h"

namespace etherip {
namespace {

using testing_support::EtherIpPayload;
using testing_support::FakeDomains;
using testing_support::Ip;
using testing_support::Ipv4Packet;
using testing_support::Ipv6Packet;
using testing_support::MakeFrame;
using testing_support::Options;
using testing_support::SequentialMacs;

// Our side is .1 / ::1, the peer .2 / ::2. The same tunnels exist in the
// daemon's own domain and in "blue"; v4 and v6 without a domain.
class ReceiveDecisionTest : public ::testing::Test {
 protected:
  ReceiveDecisionTest() {
    Create("v4", {"up", "tunnel", "192.0.2.1", "192.0.2.2"});
    Create("v6", {"up", "tunnel", "2001:db8::1", "2001:db8::2"});
    Create("v4blue",
           {"up", "tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue"});
    Create("v6blue",
           {"up", "tunnel", "2001:db8::1", "2001:db8::2", "domain", "blue"});
    Create("notunnel", {"up"});
    blue_ = table_.DomainIdOf("blue");
    snapshot_ = table_.BuildForwardingTable();
  }

  void Create(std::string name, std::initializer_list<std::string> words) {
    ASSERT_TRUE(table_.Create(name, Options(words), domains_));
  }
  InterfaceId Id(std::string_view name) { return table_.Find(name)->id; }
  InterfaceCounterValues CountersOf(std::string_view name) {
    return table_.Find(name)->counters->Read();
  }
  // Every interface's counters are zero.
  void ExpectNoInterfaceCounted() {
    for (const InterfaceState* state : table_.List()) {
      EXPECT_EQ(state->counters->Read(), InterfaceCounterValues{})
          << state->name;
    }
  }

  ReceiveVerdict Receive(DomainId domain, std::string_view source,
                         std::string_view destination,
                         const std::vector<uint8_t>& payload,
                         bool allow = true) {
    return DecideReceive(snapshot_, allow, domain,
                         OuterPacket{Ip(source), Ip(destination), payload},
                         counters_);
  }
  ReceiveVerdict ReceiveIpv4(DomainId domain,
                             const std::vector<uint8_t>& packet,
                             bool allow = true) {
    return DecideReceiveIpv4(snapshot_, allow, domain, packet, counters_);
  }

  FakeDomains domains_{"blue"};
  TunnelTable table_{SequentialMacs()};
  DomainId blue_ = 0;
  ForwardingTable snapshot_;
  GlobalCounters counters_;
  const std::vector<uint8_t> frame_ = MakeFrame(60, 1);
  const std::vector<uint8_t> payload_ = EtherIpPayload(frame_);
};

bool SameBytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// --- delivery ---

TEST_F(ReceiveDecisionTest, DeliversTheFrameAfterTheHeaderToTheInterface) {
  const ReceiveVerdict verdict = Receive(0, "192.0.2.2", "192.0.2.1", payload_);
  EXPECT_EQ(verdict.drop, ReceiveDrop::kNone);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.interface->id, Id("v4"));
  EXPECT_TRUE(SameBytes(verdict.frame, frame_));
  EXPECT_EQ(verdict.frame.data(), payload_.data() + 2);  // no copy
}

TEST_F(ReceiveDecisionTest, CountsIpacketsAndIbytesAfterTheEtherIpHeader) {
  Receive(0, "192.0.2.2", "192.0.2.1", payload_);
  Receive(0, "192.0.2.2", "192.0.2.1", EtherIpPayload(MakeFrame(1514)));
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.ipackets = 2, .ibytes = 60 + 1514}));
  EXPECT_EQ(CountersOf("v4"),
            (InterfaceCounterValues{.ipackets = 2, .ibytes = 60 + 1514}));
  EXPECT_EQ(CountersOf("v6"), InterfaceCounterValues{});
  EXPECT_EQ(CountersOf("v4blue"), InterfaceCounterValues{});
}

TEST_F(ReceiveDecisionTest, AnInterfaceThatIsDownCountsIdropsNotIpackets) {
  ASSERT_TRUE(table_.Set("v4", Options({"down"}), domains_));
  snapshot_ = table_.BuildForwardingTable();
  const ReceiveVerdict verdict = Receive(0, "192.0.2.2", "192.0.2.1", payload_);
  EXPECT_EQ(verdict.drop, ReceiveDrop::kDown);
  EXPECT_EQ(verdict.interface, nullptr);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.idrops = 1}));
  EXPECT_EQ(CountersOf("v4"), (InterfaceCounterValues{.idrops = 1}));
  // A bad header is still adrops first: the interface is not reached.
  Receive(0, "192.0.2.2", "192.0.2.1", {0x20, 0x00});
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.adrops = 1, .idrops = 1}));
}

TEST_F(ReceiveDecisionTest, TheInterfacesHeaderModeDecidesWhatIsAccepted) {
  // byte 0 of each header form, and whether standard, reversed and any
  // accept it.
  struct Form {
    uint8_t byte0;
    bool standard, reversed, any;
  };
  const Form forms[] = {
      {0x30, true, false, true},    // RFC 3378
      {0x03, false, true, true},    // NetBSD, FreeBSD 6.1-7.2
      {0x33, true, true, true},     // both nibbles say 3
      {0x3f, true, false, true},    // reserved low nibble: ignored
      {0xf3, false, true, true},    // reserved high nibble: ignored
      {0x40, false, false, false},  // another version
      {0x00, false, false, false},
  };
  for (const char* mode : {"standard", "reversed", "any"}) {
    ASSERT_TRUE(table_.Set("v4", Options({"header", mode}), domains_));
    snapshot_ = table_.BuildForwardingTable();
    for (const Form& form : forms) {
      SCOPED_TRACE(testing::Message() << mode << " " << int{form.byte0});
      const bool accepted = std::string_view(mode) == "standard" ? form.standard
                            : std::string_view(mode) == "reversed"
                                ? form.reversed
                                : form.any;
      const auto before = counters_.Read();
      const ReceiveVerdict verdict = Receive(
          0, "192.0.2.2", "192.0.2.1", EtherIpPayload(frame_, form.byte0));
      const auto after = counters_.Read();
      EXPECT_EQ(verdict.drop,
                accepted ? ReceiveDrop::kNone : ReceiveDrop::kMalformed);
      EXPECT_EQ(after.ipackets - before.ipackets, accepted ? 1u : 0u);
      EXPECT_EQ(after.adrops - before.adrops, accepted ? 0u : 1u);
      // The second byte is reserved in every mode.
      EXPECT_EQ(Receive(0, "192.0.2.2", "192.0.2.1",
                        EtherIpPayload(frame_, form.byte0, 0x01))
                    .drop,
                ReceiveDrop::kMalformed);
    }
  }
  // Other interfaces keep the standard form.
  EXPECT_EQ(
      Receive(0, "2001:db8::2", "2001:db8::1", EtherIpPayload(frame_, 0x03))
          .drop,
      ReceiveDrop::kMalformed);
}

TEST_F(ReceiveDecisionTest, DeliversOverIpv6) {
  const ReceiveVerdict verdict =
      Receive(0, "2001:db8::2", "2001:db8::1", payload_);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.interface->id, Id("v6"));
  EXPECT_TRUE(SameBytes(verdict.frame, frame_));
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.ipackets = 1, .ibytes = 60}));
  EXPECT_EQ(CountersOf("v6"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 60}));
}

TEST_F(ReceiveDecisionTest, AcceptsAFrameOfExactlyFourteenBytes) {
  const auto payload = EtherIpPayload(MakeFrame(14));
  const ReceiveVerdict verdict = Receive(0, "192.0.2.2", "192.0.2.1", payload);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.frame.size(), 14u);
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.ipackets = 1, .ibytes = 14}));
}

TEST_F(ReceiveDecisionTest, IgnoresTheLowNibbleOfTheFirstHeaderByte) {
  const auto payload = EtherIpPayload(frame_, 0x31, 0x00);
  const ReceiveVerdict verdict = Receive(0, "192.0.2.2", "192.0.2.1", payload);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.ipackets = 1, .ibytes = 60}));
}

TEST_F(ReceiveDecisionTest, DeliversBroadcastFramesLikeAnyOther) {
  const auto frame = MakeFrame(60, 2, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  const auto payload = EtherIpPayload(frame);
  const ReceiveVerdict verdict = Receive(0, "192.0.2.2", "192.0.2.1", payload);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_TRUE(SameBytes(verdict.frame, frame));
}

// --- allow (SPEC 3.1) ---

TEST_F(ReceiveDecisionTest, AllowOffDropsAsPdropsAndCountsNothingElse) {
  const ReceiveVerdict verdict =
      Receive(0, "192.0.2.2", "192.0.2.1", payload_, /*allow=*/false);
  EXPECT_EQ(verdict.drop, ReceiveDrop::kPolicy);
  EXPECT_EQ(verdict.interface, nullptr);
  EXPECT_TRUE(verdict.frame.empty());
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.pdrops = 1}));
  ExpectNoInterfaceCounted();
}

TEST_F(ReceiveDecisionTest, AllowOffIsCheckedBeforeEverythingElse) {
  // Unknown peer, bad header, short frame, unparsable outer header: all
  // pdrops while allow is off.
  Receive(0, "192.0.2.9", "192.0.2.1", payload_, false);
  Receive(0, "192.0.2.2", "192.0.2.1", EtherIpPayload(frame_, 0x40), false);
  Receive(0, "192.0.2.2", "192.0.2.1", {0x30}, false);
  Receive(0, "2001:db8::2", "2001:db8::1", EtherIpPayload(MakeFrame(13)),
          false);
  ReceiveIpv4(0, {0x45, 0x00}, false);
  ReceiveIpv4(0, {}, false);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.pdrops = 6}));
  ExpectNoInterfaceCounted();
}

// --- lookup (SPEC 3.2) ---

TEST_F(ReceiveDecisionTest, UnknownPeerIsNoifdrops) {
  const ReceiveVerdict verdict = Receive(0, "192.0.2.9", "192.0.2.1", payload_);
  EXPECT_EQ(verdict.drop, ReceiveDrop::kNoInterface);
  EXPECT_EQ(verdict.interface, nullptr);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.noifdrops = 1}));
  ExpectNoInterfaceCounted();
}

TEST_F(ReceiveDecisionTest, PacketToAnotherLocalAddressIsNoifdrops) {
  Receive(0, "192.0.2.2", "192.0.2.9", payload_);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.noifdrops = 1}));
}

TEST_F(ReceiveDecisionTest, PacketInOurOwnDirectionIsNoifdrops) {
  // Source = our local address, destination = the peer: not for us.
  Receive(0, "192.0.2.1", "192.0.2.2", payload_);
  Receive(0, "2001:db8::1", "2001:db8::2", payload_);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.noifdrops = 2}));
}

TEST_F(ReceiveDecisionTest, LookupComesBeforeTheHeaderCheck) {
  // As in the reference: an unknown peer's garbage is noifdrops, not adrops.
  Receive(0, "192.0.2.9", "192.0.2.1", {0x45});
  Receive(0, "192.0.2.9", "192.0.2.1", EtherIpPayload(MakeFrame(4)));
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.noifdrops = 2}));
}

TEST_F(ReceiveDecisionTest, Ipv4LookupComparesTheArrivalDomain) {
  EXPECT_EQ(Receive(0, "192.0.2.2", "192.0.2.1", payload_).interface->id,
            Id("v4"));
  EXPECT_EQ(Receive(blue_, "192.0.2.2", "192.0.2.1", payload_).interface->id,
            Id("v4blue"));
  EXPECT_EQ(Receive(blue_ + 1, "192.0.2.2", "192.0.2.1", payload_).drop,
            ReceiveDrop::kNoInterface);
  EXPECT_EQ(CountersOf("v4"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 60}));
  EXPECT_EQ(CountersOf("v4blue"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 60}));
  EXPECT_EQ(
      counters_.Read(),
      (GlobalCounterValues{.ipackets = 2, .ibytes = 120, .noifdrops = 1}));
}

TEST_F(ReceiveDecisionTest, Ipv6LookupComparesTheArrivalDomain) {
  // The reference ignores the domain on IPv6; SPEC 3 does not.
  EXPECT_EQ(Receive(0, "2001:db8::2", "2001:db8::1", payload_).interface->id,
            Id("v6"));
  EXPECT_EQ(
      Receive(blue_, "2001:db8::2", "2001:db8::1", payload_).interface->id,
      Id("v6blue"));
  EXPECT_EQ(Receive(blue_ + 1, "2001:db8::2", "2001:db8::1", payload_).drop,
            ReceiveDrop::kNoInterface);
  EXPECT_EQ(
      counters_.Read(),
      (GlobalCounterValues{.ipackets = 2, .ibytes = 120, .noifdrops = 1}));
}

TEST_F(ReceiveDecisionTest, Ipv6PacketInAnotherDomainIsNoifdrops) {
  FakeDomains domains{"red"};
  TunnelTable table(SequentialMacs());
  ASSERT_TRUE(table.Create(
      "only",
      Options({"tunnel", "2001:db8::1", "2001:db8::2", "domain", "red"}),
      domains));
  const ForwardingTable snapshot = table.BuildForwardingTable();
  const ReceiveVerdict verdict = DecideReceive(
      snapshot, true, 0,
      OuterPacket{Ip("2001:db8::2"), Ip("2001:db8::1"), payload_}, counters_);
  EXPECT_EQ(verdict.drop, ReceiveDrop::kNoInterface);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.noifdrops = 1}));
}

TEST_F(ReceiveDecisionTest, Ipv6AddressesWithIpv4BytesDoNotMatchIpv4Tunnels) {
  Receive(0, "c000:202::", "c000:201::", payload_);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.noifdrops = 1}));
}

TEST_F(ReceiveDecisionTest, AZonedTunnelTakesPacketsFromItsLinkOnly) {
  FakeDomains domains{};
  TunnelTable table(SequentialMacs());
  ASSERT_TRUE(table.Create(
      "zoned", Options({"up", "tunnel", "fe80::a", "fe80::b%5"}), domains));
  const ForwardingTable snapshot = table.BuildForwardingTable();
  auto receive = [&](uint32_t ingress) {
    return DecideReceive(
        snapshot, true, 0,
        OuterPacket{Ip("fe80::b"), Ip("fe80::a"), payload_, ingress},
        counters_);
  };
  EXPECT_EQ(receive(5).drop, ReceiveDrop::kNone);
  // The same addresses through another interface are another host.
  EXPECT_EQ(receive(6).drop, ReceiveDrop::kNoInterface);
  // A socket that cannot tell (0) is taken at its word.
  EXPECT_EQ(receive(0).drop, ReceiveDrop::kNone);
  EXPECT_EQ(
      counters_.Read(),
      (GlobalCounterValues{.ipackets = 2, .ibytes = 120, .noifdrops = 1}));
  // The batch path decides the same.
  std::vector<OuterPacket> packets = {
      OuterPacket{Ip("fe80::b"), Ip("fe80::a"), payload_, 6},
      OuterPacket{Ip("fe80::b"), Ip("fe80::a"), payload_, 5}};
  std::vector<ReceiveVerdict> verdicts(packets.size());
  DecideReceiveBatch(snapshot, true, 0, packets, verdicts, counters_);
  EXPECT_EQ(verdicts[0].drop, ReceiveDrop::kNoInterface);
  EXPECT_EQ(verdicts[1].drop, ReceiveDrop::kNone);
  // Tunnels without a zone do not look at the interface.
  EXPECT_EQ(DecideReceive(
                snapshot_, true, 0,
                OuterPacket{Ip("2001:db8::2"), Ip("2001:db8::1"), payload_, 77},
                counters_)
                .drop,
            ReceiveDrop::kNone);
}

// --- header and frame checks (SPEC 3.3) ---

TEST_F(ReceiveDecisionTest, WrongVersionIsAdrops) {
  for (uint8_t byte0 : {0x00, 0x20, 0x40, 0xf0, 0x03}) {
    const ReceiveVerdict verdict =
        Receive(0, "192.0.2.2", "192.0.2.1", EtherIpPayload(frame_, byte0));
    EXPECT_EQ(verdict.drop, ReceiveDrop::kMalformed) << int{byte0};
    EXPECT_EQ(verdict.interface, nullptr);
  }
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.adrops = 5}));
  ExpectNoInterfaceCounted();
}

TEST_F(ReceiveDecisionTest, VersionThreeInTheLowNibbleIsAdrops) {
  Receive(0, "192.0.2.2", "192.0.2.1", EtherIpPayload(frame_, 0x03, 0x00));
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.adrops = 1}));
}

TEST_F(ReceiveDecisionTest, NonZeroReservedByteIsAdrops) {
  Receive(0, "192.0.2.2", "192.0.2.1", EtherIpPayload(frame_, 0x30, 0x01));
  Receive(0, "2001:db8::2", "2001:db8::1", EtherIpPayload(frame_, 0x30, 0x80));
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.adrops = 2}));
  ExpectNoInterfaceCounted();
}

TEST_F(ReceiveDecisionTest, PayloadShorterThanTheHeaderIsAdrops) {
  // MikroTik sends keepalives with an empty payload.
  EXPECT_EQ(Receive(0, "192.0.2.2", "192.0.2.1", {}).drop,
            ReceiveDrop::kMalformed);
  EXPECT_EQ(Receive(0, "192.0.2.2", "192.0.2.1", {0x30}).drop,
            ReceiveDrop::kMalformed);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.adrops = 2}));
  ExpectNoInterfaceCounted();
}

TEST_F(ReceiveDecisionTest, HeaderWithoutAFrameIsAdrops) {
  Receive(0, "192.0.2.2", "192.0.2.1", {0x30, 0x00});
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.adrops = 1}));
}

TEST_F(ReceiveDecisionTest, FrameUnderFourteenBytesIsAdropsOnly) {
  // The reference also counts it in ipackets; SPEC 3 counts adrops only.
  for (size_t size : {1u, 13u}) {
    const ReceiveVerdict verdict =
        Receive(0, "192.0.2.2", "192.0.2.1", EtherIpPayload(MakeFrame(size)));
    EXPECT_EQ(verdict.drop, ReceiveDrop::kMalformed) << size;
  }
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.adrops = 2}));
  ExpectNoInterfaceCounted();
}

// --- whole IPv4 packets, as a raw IPv4 socket reads them ---

TEST_F(ReceiveDecisionTest, Ipv4PacketIsDeliveredFromAfterTheOuterHeader) {
  const auto packet = Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"), payload_);
  const ReceiveVerdict verdict = ReceiveIpv4(0, packet);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.interface->id, Id("v4"));
  EXPECT_TRUE(SameBytes(verdict.frame, frame_));
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.ipackets = 1, .ibytes = 60}));
}

TEST_F(ReceiveDecisionTest, Ipv4OptionsAreSkipped) {
  for (size_t words = 1; words <= 10; ++words) {
    const auto packet =
        Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"), payload_, words);
    const ReceiveVerdict verdict = ReceiveIpv4(0, packet);
    ASSERT_NE(verdict.interface, nullptr) << "IHL " << 5 + words;
    EXPECT_TRUE(SameBytes(verdict.frame, frame_)) << "IHL " << 5 + words;
  }
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.ipackets = 10, .ibytes = 600}));
}

TEST_F(ReceiveDecisionTest, Ipv4BytesPastTotalLengthAreNotPartOfTheFrame) {
  auto packet = Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"), payload_);
  packet.insert(packet.end(), 10, 0xee);
  const ReceiveVerdict verdict = ReceiveIpv4(0, packet);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_TRUE(SameBytes(verdict.frame, frame_));
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.ipackets = 1, .ibytes = 60}));
}

TEST_F(ReceiveDecisionTest, Ipv4LookupUsesTheOuterHeaderAndTheDomain) {
  const auto packet = Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"), payload_);
  EXPECT_EQ(ReceiveIpv4(blue_, packet).interface->id, Id("v4blue"));
  const auto stranger = Ipv4Packet(Ip("192.0.2.7"), Ip("192.0.2.1"), payload_);
  EXPECT_EQ(ReceiveIpv4(0, stranger).drop, ReceiveDrop::kNoInterface);
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.ipackets = 1, .ibytes = 60, .noifdrops = 1}));
}

TEST_F(ReceiveDecisionTest, MalformedOuterIpv4IsAdrops) {
  const auto good = Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"), payload_);
  std::vector<std::vector<uint8_t>> bad;
  auto with = [&](size_t at, uint8_t value) {
    auto packet = good;
    packet[at] = value;
    bad.push_back(packet);
  };
  with(0, 0x65);                               // version 6
  with(0, 0x35);                               // version 3
  with(0, 0x44);                               // IHL 4
  with(0, 0x40);                               // IHL 0
  with(3, static_cast<uint8_t>(good[3] + 1));  // total length past the buffer
  with(6, 0x20);                               // more fragments
  with(7, 0x10);                               // fragment offset
  bad.push_back(std::vector<uint8_t>(good.begin(), good.begin() + 19));
  bad.push_back({});
  for (const auto& packet : bad) {
    const ReceiveVerdict verdict = ReceiveIpv4(0, packet);
    EXPECT_EQ(verdict.drop, ReceiveDrop::kMalformed);
    EXPECT_EQ(verdict.interface, nullptr);
  }
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.adrops = bad.size()}));
  ExpectNoInterfaceCounted();
}

TEST_F(ReceiveDecisionTest, MalformedOuterIpv4IsPdropsWhileAllowIsOff) {
  auto packet = Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"), payload_);
  packet[0] = 0x44;
  ReceiveIpv4(0, packet, /*allow=*/false);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.pdrops = 1}));
}

TEST_F(ReceiveDecisionTest, BadEtherIpInsideAGoodIpv4PacketIsAdrops) {
  ReceiveIpv4(0, Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"),
                            EtherIpPayload(frame_, 0x03)));
  ReceiveIpv4(0, Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"),
                            EtherIpPayload(MakeFrame(13))));
  ReceiveIpv4(0, Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"),
                            std::vector<uint8_t>{0x30}));
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.adrops = 3}));
  ExpectNoInterfaceCounted();
}

// --- each packet counted once, by name ---

TEST_F(ReceiveDecisionTest, EachPacketIsCountedExactlyOnce) {
  Receive(0, "192.0.2.2", "192.0.2.1", payload_);  // v4
  Receive(0, "2001:db8::2", "2001:db8::1", EtherIpPayload(MakeFrame(100)));
  Receive(0, "192.0.2.2", "192.0.2.1", payload_, false);               // pdrops
  Receive(0, "192.0.2.3", "192.0.2.1", payload_);                      // noif
  Receive(blue_, "2001:db8::3", "2001:db8::1", payload_);              // noif
  Receive(0, "192.0.2.2", "192.0.2.1", EtherIpPayload(frame_, 0x20));  // a
  Receive(0, "192.0.2.2", "192.0.2.1", EtherIpPayload(MakeFrame(5)));  // a
  ReceiveIpv4(0, {0x46});                                              // adrops
  ReceiveIpv4(0, Ipv4Packet(Ip("192.0.2.2"), Ip("192.0.2.1"), payload_));
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.ipackets = 3,
                                                   .ibytes = 60 + 100 + 60,
                                                   .adrops = 3,
                                                   .pdrops = 1,
                                                   .noifdrops = 2}));
  EXPECT_EQ(CountersOf("v4"),
            (InterfaceCounterValues{.ipackets = 2, .ibytes = 120}));
  EXPECT_EQ(CountersOf("v6"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 100}));
  EXPECT_EQ(CountersOf("v4blue"), InterfaceCounterValues{});
  EXPECT_EQ(CountersOf("v6blue"), InterfaceCounterValues{});
  EXPECT_EQ(CountersOf("notunnel"), InterfaceCounterValues{});
}

TEST_F(ReceiveDecisionTest, DestroyedInterfaceNoLongerReceives) {
  ASSERT_TRUE(table_.Destroy("v4"));
  snapshot_ = table_.BuildForwardingTable();
  Receive(0, "192.0.2.2", "192.0.2.1", payload_);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.noifdrops = 1}));
}

TEST_F(ReceiveDecisionTest, RemovedTunnelNoLongerReceives) {
  ASSERT_TRUE(table_.Set("v6", Options({"-tunnel"}), domains_));
  snapshot_ = table_.BuildForwardingTable();
  Receive(0, "2001:db8::2", "2001:db8::1", payload_);
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.noifdrops = 1}));
}

}  // namespace
}  // namespace etherip

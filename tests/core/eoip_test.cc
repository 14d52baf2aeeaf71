// MikroTik EoIPv6 (SPEC 8, "EoIP") across the core: the header, the
// options and their rules, the tunnel table's uniqueness by ID, and the
// receive and send decisions (one packet and batched).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/core_fixtures.h"
#include "core/receive_decision.h"
#include "core/send_decision.h"

namespace etherip {
namespace {

using testing_support::EtherIpPayload;
using testing_support::FakeDomains;
using testing_support::Ip;
using testing_support::MakeFrame;
using testing_support::MakeTunnel;
using testing_support::Options;
using testing_support::SequentialMacs;

// --- the header ---

std::array<uint8_t, 2> EoipHeader(uint16_t id) {
  std::array<uint8_t, 2> header{};
  EncodeEoipHeader(header, id);
  return header;
}

TEST(EoipHeader, PutsTheIdAroundVersionThreeInTheLowNibble) {
  EXPECT_EQ(EoipHeader(0), (std::array<uint8_t, 2>{0x03, 0x00}));
  EXPECT_EQ(EoipHeader(1), (std::array<uint8_t, 2>{0x03, 0x01}));
  EXPECT_EQ(EoipHeader(255), (std::array<uint8_t, 2>{0x03, 0xff}));
  EXPECT_EQ(EoipHeader(256), (std::array<uint8_t, 2>{0x13, 0x00}));
  EXPECT_EQ(EoipHeader(0x123), (std::array<uint8_t, 2>{0x13, 0x23}));
  EXPECT_EQ(EoipHeader(4095), (std::array<uint8_t, 2>{0xf3, 0xff}));
}

TEST(EoipHeader, ReadsTheIdBackFromEveryHeaderOfTheForm) {
  for (uint16_t id = 0; id <= kMaxEoipId; ++id) {
    const auto header = EoipHeader(id);
    ASSERT_EQ(EoipIdOf(header), id);
  }
  const std::vector<uint8_t> standard = {0x30, 0x00};
  EXPECT_EQ(EoipIdOf(standard), std::nullopt);
  const std::vector<uint8_t> short_payload = {0x03};
  EXPECT_EQ(EoipIdOf(short_payload), std::nullopt);
  EXPECT_EQ(EoipIdOf({}), std::nullopt);
  // The reversed form of NetBSD is EoIP ID 0.
  const std::vector<uint8_t> reversed = {0x03, 0x00};
  EXPECT_EQ(EoipIdOf(reversed), 0);
}

// --- options ---

Result<InterfaceSettings> Apply(std::initializer_list<std::string> words,
                                InterfaceSettings settings = {}) {
  if (auto applied = ApplyInterfaceOptions(Options(words), settings);
      !applied) {
    return tl::unexpected(applied.error());
  }
  return settings;
}

void ExpectInvalid(const Result<InterfaceSettings>& result,
                   std::string_view part) {
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, EINVAL);
  EXPECT_NE(result.error().message.find(part), std::string::npos)
      << result.error().message;
}

TEST(EoipOptions, ParseAndRoundTripAsWords) {
  const std::vector<std::string> words = {"eoip", "7", "keepalive", "0",
                                          "-eoip"};
  auto options = ParseInterfaceOptions(words);
  ASSERT_TRUE(options) << options.error().message;
  ASSERT_EQ(options->size(), 3u);
  EXPECT_EQ(InterfaceOptionWords(*options), words);
  for (const char* word : {"eoip", "keepalive"}) {
    const std::vector<std::string> missing = {word};
    EXPECT_FALSE(ParseInterfaceOptions(missing)) << word;
  }
}

TEST(EoipOptions, SetTheIdAndTheKeepalive) {
  auto settings = Apply({"tunnel", "2001:db8::1", "2001:db8::2", "eoip", "0"});
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_EQ(settings->eoip, 0);
  EXPECT_EQ(settings->keepalive, kDefaultKeepalive);
  settings = Apply({"eoip", "4095", "keepalive", "3600"}, *settings);
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_EQ(settings->eoip, 4095);
  EXPECT_EQ(settings->keepalive, 3600u);
  // -eoip: a standard tunnel again, and the keepalive back to its default.
  settings = Apply({"-eoip"}, *settings);
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_EQ(settings->eoip, std::nullopt);
  EXPECT_EQ(settings->keepalive, kDefaultKeepalive);
}

TEST(EoipOptions, RefuseValuesOutOfRange) {
  for (const char* id : {"4096", "-1", "65536", "1x", "", "0x1000", " 1"}) {
    ExpectInvalid(Apply({"eoip", id}), fmt::format("eoip {}:", id));
  }
  // Hexadecimal, as the other numeric options take it.
  auto hex = Apply({"tunnel", "2001:db8::1", "2001:db8::2", "eoip", "0x10"});
  ASSERT_TRUE(hex) << hex.error().message;
  EXPECT_EQ(hex->eoip, 16);
  for (const char* seconds : {"3601", "-1", "ten", ""}) {
    ExpectInvalid(Apply({"eoip", "1", "keepalive", seconds}),
                  fmt::format("keepalive {}:", seconds));
  }
}

TEST(EoipOptions, AreForIpv6TunnelsOnly) {
  // Whatever the order of the words: the request is checked as a whole.
  ExpectInvalid(Apply({"tunnel", "192.0.2.1", "192.0.2.2", "eoip", "5"}),
                "eoip 5: invalid argument (EoIP tunnels are IPv6: tunnel "
                "192.0.2.1 -> 192.0.2.2 is IPv4)");
  ExpectInvalid(Apply({"eoip", "5", "tunnel", "192.0.2.1", "192.0.2.2"}),
                "EoIP tunnels are IPv6");
  // An EoIP interface without a tunnel may get one later, IPv6 only.
  auto settings = Apply({"eoip", "5"});
  ASSERT_TRUE(settings) << settings.error().message;
  ExpectInvalid(Apply({"tunnel", "192.0.2.1", "192.0.2.2"}, *settings),
                "EoIP tunnels are IPv6");
  EXPECT_TRUE(Apply({"tunnel", "192.0.2.1", "192.0.2.2", "-eoip"}, *settings));
}

TEST(EoipOptions, DoNotGoWithAHeaderModeOtherThanStandard) {
  ExpectInvalid(Apply({"eoip", "1", "header", "reversed"}),
                "eoip 1: invalid argument (EoIP has its own header: not with "
                "header reversed)");
  ExpectInvalid(Apply({"header", "any", "eoip", "1"}), "not with header any");
  EXPECT_TRUE(Apply({"header", "standard", "eoip", "1"}));
}

TEST(EoipOptions, KeepaliveNeedsEoip) {
  ExpectInvalid(Apply({"keepalive", "10"}),
                "keepalive 10: invalid argument (only for EoIP tunnels");
  ExpectInvalid(Apply({"eoip", "1", "keepalive", "5", "-eoip"}),
                "keepalive 5:");
  EXPECT_TRUE(Apply({"keepalive", "5", "eoip", "1"}));
}

TEST(EoipOptions, CheckEoipHoldsForSettingsBuiltElsewhere) {
  InterfaceSettings settings;
  EXPECT_TRUE(CheckEoip(settings));
  settings.keepalive = 3;
  EXPECT_FALSE(CheckEoip(settings));
  settings.eoip = 3;
  EXPECT_TRUE(CheckEoip(settings));
  settings.eoip = 4096;
  EXPECT_FALSE(CheckEoip(settings));
  settings.eoip = 1;
  settings.keepalive = kMaxKeepalive + 1;
  EXPECT_FALSE(CheckEoip(settings));
}

// --- the tunnel table ---

class EoipTableTest : public ::testing::Test {
 protected:
  Status Create(std::string_view name,
                std::initializer_list<std::string> words) {
    auto created = table_.Create(name, Options(words), domains_);
    if (!created) return tl::unexpected(created.error());
    return {};
  }
  Status Set(std::string_view name, std::initializer_list<std::string> words) {
    return table_.Set(name, Options(words), domains_);
  }
  static void ExpectRefused(const Status& status, int code,
                            std::string_view part) {
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code, code) << status.error().message;
    EXPECT_NE(status.error().message.find(part), std::string::npos)
        << status.error().message;
  }

  FakeDomains domains_{"blue"};
  TunnelTable table_{SequentialMacs()};
};

TEST_F(EoipTableTest, EoipTunnelsOnOneAddressPairDifferByTheirId) {
  ASSERT_TRUE(
      Create("e1", {"tunnel", "2001:db8::1", "2001:db8::2", "eoip", "1"}));
  ASSERT_TRUE(
      Create("e2", {"tunnel", "2001:db8::1", "2001:db8::2", "eoip", "2"}));
  ExpectRefused(
      Create("e3", {"tunnel", "2001:db8::1", "2001:db8::2", "eoip", "1"}),
      EADDRNOTAVAIL,
      "tunnel 2001:db8::1 -> 2001:db8::2 eoip 1: address not available");
  // Another domain is another pair.
  EXPECT_TRUE(Create("e1blue", {"tunnel", "2001:db8::1", "2001:db8::2", "eoip",
                                "1", "domain", "blue"}));
  const Tunnel tunnel = MakeTunnel("2001:db8::1", "2001:db8::2");
  EXPECT_EQ(table_.FindByTunnel("", tunnel, 1)->name, "e1");
  EXPECT_EQ(table_.FindByTunnel("", tunnel, 2)->name, "e2");
  EXPECT_EQ(table_.FindByTunnel("", tunnel), nullptr);
  // An interface may change its own ID, and take one that was given up.
  EXPECT_TRUE(Set("e1", {"eoip", "3"}));
  EXPECT_TRUE(Set("e2", {"eoip", "1"}));
  EXPECT_EQ(table_.FindByTunnel("", tunnel, 1)->name, "e2");
  EXPECT_EQ(table_.FindByTunnel("", tunnel, 2), nullptr);
}

TEST_F(EoipTableTest, AnAddressPairCarriesEoipTunnelsOrOneStandardTunnel) {
  ASSERT_TRUE(
      Create("e1", {"tunnel", "2001:db8::1", "2001:db8::2", "eoip", "1"}));
  ExpectRefused(Create("s", {"tunnel", "2001:db8::1", "2001:db8::2"}), EEXIST,
                "tunnel 2001:db8::1 -> 2001:db8::2: file exists (e1 has an "
                "EoIP tunnel between these addresses");
  ASSERT_TRUE(Create("s", {"tunnel", "2001:db8::1", "2001:db8::3"}));
  ExpectRefused(Set("e1", {"tunnel", "2001:db8::1", "2001:db8::3"}), EEXIST,
                "eoip 1: file exists (s has a standard tunnel");
  ExpectRefused(
      Create("e2", {"tunnel", "2001:db8::1", "2001:db8::3", "eoip", "2"}),
      EEXIST, "s has a standard tunnel");
  // The pair's only EoIP tunnel may become the standard one, and back.
  EXPECT_TRUE(Set("e1", {"-eoip"}));
  EXPECT_TRUE(Set("e1", {"eoip", "9"}));
  // Once the EoIP tunnels are gone, a standard one may come.
  ASSERT_TRUE(table_.Destroy("e1"));
  EXPECT_TRUE(Create("s2", {"tunnel", "2001:db8::1", "2001:db8::2"}));
}

TEST_F(EoipTableTest, ReplaceChecksIdsAndKindsAmongTheSpecs) {
  auto spec = [](std::string name, std::optional<uint16_t> eoip,
                 const char* destination = "2001:db8::2") {
    InterfaceSpec spec;
    spec.name = std::move(name);
    spec.settings.tunnel = MakeTunnel("2001:db8::1", destination);
    spec.settings.eoip = eoip;
    return spec;
  };
  const std::vector<InterfaceSpec> good = {
      spec("a", 1), spec("b", 2), spec("c", std::nullopt, "2001:db8::3")};
  ASSERT_TRUE(table_.PrepareReplace(good, domains_));
  const std::vector<InterfaceSpec> same_id = {spec("a", 1), spec("b", 1)};
  auto refused = table_.PrepareReplace(same_id, domains_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().index, 1u);
  EXPECT_EQ(refused.error().error.code, EADDRNOTAVAIL);
  const std::vector<InterfaceSpec> mixed = {spec("a", 1),
                                            spec("b", std::nullopt)};
  refused = table_.PrepareReplace(mixed, domains_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().index, 1u);
  EXPECT_EQ(refused.error().error.code, EEXIST);
  std::vector<InterfaceSpec> ipv4 = {spec("a", 1)};
  ipv4[0].settings.tunnel = MakeTunnel("192.0.2.1", "192.0.2.2");
  refused = table_.PrepareReplace(ipv4, domains_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().error.code, EINVAL);
  // Two interfaces may swap their IDs in one replace.
  table_.CommitReplace(*table_.PrepareReplace(good, domains_));
  const std::vector<InterfaceSpec> swapped = {
      spec("a", 2), spec("b", 1), spec("c", std::nullopt, "2001:db8::3")};
  auto plan = table_.PrepareReplace(swapped, domains_);
  ASSERT_TRUE(plan) << plan.error().error.message;
  table_.CommitReplace(*plan);
  const Tunnel tunnel = MakeTunnel("2001:db8::1", "2001:db8::2");
  EXPECT_EQ(table_.FindByTunnel("", tunnel, 1)->name, "b");
  EXPECT_EQ(table_.FindByTunnel("", tunnel, 2)->name, "a");
}

TEST_F(EoipTableTest, TheForwardingEntryCarriesTheIdAndTheKeepalive) {
  ASSERT_TRUE(Create("e", {"tunnel", "2001:db8::1", "2001:db8::2", "eoip",
                           "300", "keepalive", "4"}));
  ASSERT_TRUE(Create("s", {"tunnel", "2001:db8::1", "2001:db8::3"}));
  const ForwardingTable snapshot = table_.BuildForwardingTable();
  const ForwardingEntry* eoip =
      snapshot.FindByTunnel(0, Ip("2001:db8::1"), Ip("2001:db8::2"), 300);
  ASSERT_NE(eoip, nullptr);
  EXPECT_EQ(eoip->id, table_.Find("e")->id);
  EXPECT_EQ(eoip->eoip, 300);
  EXPECT_EQ(eoip->keepalive, 4u);
  EXPECT_EQ(snapshot.FindByTunnel(0, Ip("2001:db8::1"), Ip("2001:db8::2")),
            nullptr);
  const ForwardingEntry* standard =
      snapshot.FindByTunnel(0, Ip("2001:db8::1"), Ip("2001:db8::3"));
  ASSERT_NE(standard, nullptr);
  EXPECT_EQ(standard->eoip, std::nullopt);
  EXPECT_EQ(standard->keepalive, 0u);  // a standard tunnel sends none
}

// --- receive and send ---

// Our side is 2001:db8::1. Two EoIP tunnels to ::2 (IDs 0 and 0x123), a
// down one (ID 7), a standard tunnel to ::3, and an IPv4 tunnel.
class EoipForwardingTest : public ::testing::Test {
 protected:
  EoipForwardingTest() {
    Create("e0", {"up", "tunnel", "2001:db8::1", "2001:db8::2", "eoip", "0"});
    Create("e123",
           {"up", "tunnel", "2001:db8::1", "2001:db8::2", "eoip", "291"});
    Create("e7down", {"tunnel", "2001:db8::1", "2001:db8::2", "eoip", "7"});
    Create("s", {"up", "tunnel", "2001:db8::1", "2001:db8::3"});
    Create("v4", {"up", "tunnel", "192.0.2.1", "192.0.2.2"});
    snapshot_ = table_.BuildForwardingTable();
  }
  void Create(std::string name, std::initializer_list<std::string> words) {
    ASSERT_TRUE(table_.Create(name, Options(words), domains_));
  }
  InterfaceId Id(std::string_view name) { return table_.Find(name)->id; }
  InterfaceCounterValues CountersOf(std::string_view name) {
    return table_.Find(name)->counters->Read();
  }
  ReceiveVerdict Receive(std::string_view source,
                         const std::vector<uint8_t>& payload) {
    return DecideReceive(snapshot_, true, 0,
                         OuterPacket{Ip(source), Ip("2001:db8::1"), payload},
                         counters_);
  }
  // A payload with EoIP ID `id`'s header, then `frame`.
  static std::vector<uint8_t> Eoip(uint16_t id,
                                   const std::vector<uint8_t>& frame) {
    const auto header = EoipHeader(id);
    return EtherIpPayload(frame, header[0], header[1]);
  }

  FakeDomains domains_{};
  TunnelTable table_{SequentialMacs()};
  ForwardingTable snapshot_;
  GlobalCounters counters_;
  const std::vector<uint8_t> frame_ = MakeFrame(60, 4);
};

TEST_F(EoipForwardingTest, EachIdReachesItsOwnInterface) {
  ReceiveVerdict verdict = Receive("2001:db8::2", Eoip(0, frame_));
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.interface->id, Id("e0"));
  EXPECT_EQ(verdict.frame.size(), frame_.size());
  verdict = Receive("2001:db8::2", Eoip(0x123, frame_));
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.interface->id, Id("e123"));
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.ipackets = 2, .ibytes = 120}));
  EXPECT_EQ(CountersOf("e0"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 60}));
  EXPECT_EQ(CountersOf("e123"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 60}));
}

TEST_F(EoipForwardingTest, AnIdThatNamesNoTunnelIsNoifdrops) {
  for (uint16_t id : {1, 0x23, 0x124, 4095}) {
    const ReceiveVerdict verdict = Receive("2001:db8::2", Eoip(id, frame_));
    EXPECT_EQ(verdict.drop, ReceiveDrop::kNoInterface) << id;
  }
  // A standard header between EoIP addresses names no tunnel either, and
  // nor does a payload too short to have an ID.
  Receive("2001:db8::2", EtherIpPayload(frame_));
  Receive("2001:db8::2", {0x03});
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.noifdrops = 6}));
  EXPECT_EQ(CountersOf("e0"), InterfaceCounterValues{});
}

TEST_F(EoipForwardingTest, AnEmptyPayloadIsAKeepaliveWhateverTheLinkState) {
  ReceiveVerdict verdict = Receive("2001:db8::2", {0x03, 0x00});
  EXPECT_EQ(verdict.drop, ReceiveDrop::kKeepalive);
  EXPECT_EQ(verdict.interface, nullptr);
  Receive("2001:db8::2", {0x13, 0x23});
  Receive("2001:db8::2", {0x03, 0x07});  // e7down: still a keepalive
  EXPECT_EQ(counters_.Read(), (GlobalCounterValues{.keepalives = 3}));
  EXPECT_EQ(CountersOf("e0"), (InterfaceCounterValues{.keepalives = 1}));
  EXPECT_EQ(CountersOf("e123"), (InterfaceCounterValues{.keepalives = 1}));
  EXPECT_EQ(CountersOf("e7down"), (InterfaceCounterValues{.keepalives = 1}));
  // A frame on the down one is idrops; a short frame adrops.
  Receive("2001:db8::2", Eoip(7, frame_));
  Receive("2001:db8::2", Eoip(0, MakeFrame(13)));
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.adrops = 1, .idrops = 1, .keepalives = 3}));
}

TEST_F(EoipForwardingTest, StandardTunnelsAreAsBefore) {
  // An empty payload on a standard tunnel stays adrops (no keepalive), and
  // an EoIP-shaped header there is judged by the header mode.
  EXPECT_EQ(Receive("2001:db8::3", {0x30, 0x00}).drop, ReceiveDrop::kMalformed);
  EXPECT_EQ(Receive("2001:db8::3", Eoip(0, frame_)).drop,
            ReceiveDrop::kMalformed);
  EXPECT_EQ(Receive("2001:db8::3", EtherIpPayload(frame_)).interface->id,
            Id("s"));
  // IPv4 never looks for EoIP tunnels.
  EXPECT_EQ(DecideReceive(
                snapshot_, true, 0,
                OuterPacket{Ip("192.0.2.9"), Ip("192.0.2.1"), Eoip(0, frame_)},
                counters_)
                .drop,
            ReceiveDrop::kNoInterface);
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{
                .ipackets = 1, .ibytes = 60, .adrops = 2, .noifdrops = 1}));
  EXPECT_EQ(CountersOf("s"),
            (InterfaceCounterValues{.ipackets = 1, .ibytes = 60}));
}

TEST_F(EoipForwardingTest, BatchedDecisionsCountAsSinglePackets) {
  GlobalCounters single_counters;
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<OuterPacket> packets;
  const char* sources[] = {"2001:db8::2", "2001:db8::3", "2001:db8::9"};
  for (int i = 0; i < 150; ++i) {  // more than one pipeline's depth
    switch (i % 6) {
      case 0:
        payloads.push_back(Eoip(0, frame_));
        break;
      case 1:
        payloads.push_back(Eoip(0x123, frame_));
        break;
      case 2:
        payloads.push_back({0x03, 0x00});
        break;
      case 3:
        payloads.push_back(Eoip(9, frame_));
        break;
      case 4:
        payloads.push_back(EtherIpPayload(frame_));
        break;
      case 5:
        payloads.push_back(Eoip(7, frame_));
        break;
    }
  }
  for (int i = 0; i < 150; ++i) {
    packets.push_back(OuterPacket{Ip(sources[i % 5 == 4 ? 1 : 0]),
                                  Ip("2001:db8::1"), payloads[i]});
  }
  packets[10].source = Ip(sources[2]);
  std::vector<ReceiveVerdict> singles;
  for (const auto& packet : packets) {
    singles.push_back(
        DecideReceive(snapshot_, true, 0, packet, single_counters));
  }
  const auto interfaces_after_singles = [&] {
    std::vector<InterfaceCounterValues> values;
    for (const InterfaceState* state : table_.List()) {
      values.push_back(state->counters->Read());
    }
    return values;
  }();
  // The interfaces' counters are shared: the batch doubles them.
  std::vector<ReceiveVerdict> verdicts(packets.size());
  DecideReceiveBatch(snapshot_, true, 0, packets, verdicts, counters_);
  for (size_t i = 0; i < packets.size(); ++i) {
    EXPECT_EQ(singles[i].drop, verdicts[i].drop) << i;
    EXPECT_EQ(singles[i].interface, verdicts[i].interface) << i;
  }
  EXPECT_EQ(single_counters.Read(), counters_.Read());
  const auto counted = counters_.Read();
  EXPECT_GT(counted.keepalives, 0u);
  EXPECT_GT(counted.noifdrops, 0u);
  EXPECT_EQ(counted.ipackets + counted.adrops + counted.noifdrops +
                counted.idrops + counted.keepalives,
            packets.size());
  size_t i = 0;
  for (const InterfaceState* state : table_.List()) {
    const auto now = state->counters->Read();
    const auto once = interfaces_after_singles[i++];
    EXPECT_EQ(now.ipackets, 2 * once.ipackets) << state->name;
    EXPECT_EQ(now.keepalives, 2 * once.keepalives) << state->name;
  }
}

TEST_F(EoipForwardingTest, SendPutsTheIdInTheHeader) {
  for (const auto& [name, byte0, byte1] :
       {std::tuple{"e0", 0x03, 0x00}, std::tuple{"e123", 0x13, 0x23},
        std::tuple{"s", 0x30, 0x00}}) {
    PacketBuffer packet;
    auto room = packet.ResetForRead();
    std::copy(frame_.begin(), frame_.end(), room.begin());
    packet.Commit(frame_.size());
    GlobalCounters counters;
    const SendVerdict verdict =
        DecideSend(snapshot_, Id(name), packet, counters);
    ASSERT_NE(verdict.interface, nullptr) << name;
    const auto data = std::as_const(packet).data();
    ASSERT_EQ(data.size(), frame_.size() + 2);
    EXPECT_EQ(data[0], byte0) << name;
    EXPECT_EQ(data[1], byte1) << name;
  }
}

}  // namespace
}  // namespace etherip

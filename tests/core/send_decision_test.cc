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
  const SendVerdict verdict = DecideSend(snapshot_, Id("v4"), packet_);
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
    ASSERT_NE(DecideSend(snapshot_, Id("v4"), packet_).interface, nullptr);
    EXPECT_EQ(Bytes(), testing_support::EtherIpPayload(
                           frame_, static_cast<uint8_t>(byte0), 0x00));
  }
}

TEST_F(SendDecisionTest, NamesTheTunnelAndDomainToSendThrough) {
  Load(frame_);
  const SendVerdict verdict = DecideSend(snapshot_, Id("v6blue"), packet_);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.interface->id, Id("v6blue"));
  EXPECT_EQ(verdict.interface->tunnel,
            MakeTunnel("2001:db8::1", "2001:db8::2"));
  EXPECT_EQ(verdict.interface->domain, table_.DomainIdOf("blue"));
  EXPECT_EQ(verdict.frame_size, 60u);
}

TEST_F(SendDecisionTest, CountsNothingUntilTheResultIsKnown) {
  Load(frame_);
  DecideSend(snapshot_, Id("v4"), packet_);
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
  EXPECT_EQ(CountersOf("v4"), InterfaceCounterValues{});
}

TEST_F(SendDecisionTest, EncapsulatesBroadcastFramesLikeAnyOther) {
  const auto frame = MakeFrame(60, 4, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  Load(frame);
  ASSERT_NE(DecideSend(snapshot_, Id("v4"), packet_).interface, nullptr);
  EXPECT_EQ(Bytes(), Encapsulated(frame));
}

TEST_F(SendDecisionTest, EncapsulatesTheLargestFrame) {
  const auto frame = MakeFrame(PacketBuffer::kMaxData, 5);
  Load(frame);
  const SendVerdict verdict = DecideSend(snapshot_, Id("v4"), packet_);
  ASSERT_NE(verdict.interface, nullptr);
  EXPECT_EQ(verdict.frame_size, PacketBuffer::kMaxData);
  EXPECT_EQ(packet_.size(), PacketBuffer::kMaxData + 2);
}

TEST_F(SendDecisionTest, NoTunnelDropsAndCountsOerrorsOnThatInterface) {
  // The reference drops silently; SPEC 4 counts oerrors.
  Load(frame_);
  const SendVerdict verdict = DecideSend(snapshot_, Id("notunnel"), packet_);
  EXPECT_EQ(verdict.interface, nullptr);
  EXPECT_EQ(Bytes(), frame_);  // untouched
  EXPECT_EQ(CountersOf("notunnel"), (InterfaceCounterValues{.oerrors = 1}));
  EXPECT_EQ(CountersOf("v4"), InterfaceCounterValues{});
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
}

TEST_F(SendDecisionTest, NoTunnelDropIsNotCountedAgainByCountSendResult) {
  Load(frame_);
  const SendVerdict verdict = DecideSend(snapshot_, Id("notunnel"), packet_);
  CountSendResult(verdict, false, counters_);
  CountSendResult(verdict, true, counters_);
  EXPECT_EQ(CountersOf("notunnel"), (InterfaceCounterValues{.oerrors = 1}));
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
}

TEST_F(SendDecisionTest, UnknownInterfaceDropsWithoutCounting) {
  Load(frame_);
  const SendVerdict verdict = DecideSend(snapshot_, 99, packet_);
  EXPECT_EQ(verdict.interface, nullptr);
  EXPECT_EQ(Bytes(), frame_);
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
  for (const InterfaceState* state : table_.List()) {
    EXPECT_EQ(state->counters->Read(), InterfaceCounterValues{});
  }
}

TEST_F(SendDecisionTest, SentCountsOpacketsAndInnerFrameBytes) {
  Load(frame_);
  CountSendResult(DecideSend(snapshot_, Id("v4"), packet_), true, counters_);
  Load(MakeFrame(1514));
  CountSendResult(DecideSend(snapshot_, Id("v4"), packet_), true, counters_);
  EXPECT_EQ(counters_.Read(),
            (GlobalCounterValues{.opackets = 2, .obytes = 60 + 1514}));
  EXPECT_EQ(CountersOf("v4"),
            (InterfaceCounterValues{.opackets = 2, .obytes = 60 + 1514}));
  EXPECT_EQ(CountersOf("v6blue"), InterfaceCounterValues{});
}

TEST_F(SendDecisionTest, NotSentCountsOerrorsOnly) {
  Load(frame_);
  CountSendResult(DecideSend(snapshot_, Id("v6blue"), packet_), false,
                  counters_);
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
    ASSERT_NE(DecideSend(snapshot_, Id("v4"), packet_).interface, nullptr);
    EXPECT_EQ(Bytes(), Encapsulated(frame_));
  }
}

}  // namespace
}  // namespace etherip

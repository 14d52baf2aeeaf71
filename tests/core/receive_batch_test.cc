// The batched receive decisions decide and count exactly as the one-packet
// decisions do, packet by packet, across chunk boundaries.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vector>

#include "core/core_fixtures.h"
#include "core/receive_decision.h"

namespace etherip {
namespace {

using testing_support::EtherIpPayload;
using testing_support::FakeDomains;
using testing_support::Ip;
using testing_support::Ipv4Packet;
using testing_support::MakeFrame;
using testing_support::Options;
using testing_support::SequentialMacs;

// One host's table; two of them let the same packets go through the single
// and the batched decision with separate counters.
struct Host {
  Host() {
    for (int i = 0; i < 40; ++i) {
      const std::string peer = fmt::format("198.51.100.{}", i + 1);
      // The last ten are down: their frames count idrops.
      EXPECT_TRUE(table.Create(
          fmt::format("t{}", i),
          Options({"tunnel", "192.0.2.1", peer, i < 30 ? "up" : "down"}),
          domains));
    }
    EXPECT_TRUE(table.Create(
        "v6", Options({"tunnel", "2001:db8::1", "2001:db8::2", "up"}),
        domains));
    snapshot = table.BuildForwardingTable();
  }
  std::vector<InterfaceCounterValues> InterfaceCounters() const {
    std::vector<InterfaceCounterValues> values;
    for (const InterfaceState* state : table.List()) {
      values.push_back(state->counters->Read());
    }
    return values;
  }

  FakeDomains domains{};
  TunnelTable table{SequentialMacs()};
  ForwardingTable snapshot;
  GlobalCounters counters;
};

// 100 packets: deliveries to many tunnels, unknown peers, bad headers,
// short frames and outer headers that do not parse, interleaved.
std::vector<std::vector<uint8_t>> MixedIpv4Packets() {
  std::vector<std::vector<uint8_t>> packets;
  const auto frame = MakeFrame(60, 3);
  for (int i = 0; i < 100; ++i) {
    const std::string peer = fmt::format("198.51.100.{}", i % 50 + 1);
    std::vector<uint8_t> payload = EtherIpPayload(frame);
    switch (i % 7) {
      case 1:
        payload = EtherIpPayload(frame, 0x40);  // version 4
        break;
      case 2:
        payload = EtherIpPayload(MakeFrame(13, 1));  // frame too short
        break;
      case 3:
        payload = {0x30};  // header too short
        break;
    }
    auto packet = Ipv4Packet(Ip(peer), Ip("192.0.2.1"), payload);
    if (i % 7 == 4) packet[0] = 0x44;  // IHL 4: does not parse
    packets.push_back(std::move(packet));
  }
  return packets;
}

void ExpectSameVerdict(const ReceiveVerdict& single,
                       const ReceiveVerdict& batched, size_t i) {
  EXPECT_EQ(single.drop, batched.drop) << "packet " << i;
  ASSERT_EQ(single.interface == nullptr, batched.interface == nullptr)
      << "packet " << i;
  if (single.interface != nullptr) {
    EXPECT_EQ(single.interface->id, batched.interface->id) << "packet " << i;
    EXPECT_EQ(single.frame.data(), batched.frame.data()) << "packet " << i;
    EXPECT_EQ(single.frame.size(), batched.frame.size()) << "packet " << i;
  }
}

// What a socket hands over for a whole IPv4 packet: its addresses and
// payload, or unset addresses and the packet when the header does not
// parse.
OuterPacket AsReceived(std::span<const uint8_t> packet) {
  const auto outer = ParseIpv4Packet(packet);
  return outer ? *outer : OuterPacket{{}, {}, packet};
}

TEST(ReceiveBatch, Ipv4BatchDecidesAndCountsAsSinglePackets) {
  for (bool allow : {true, false}) {
    SCOPED_TRACE(allow ? "allow on" : "allow off");
    Host one, batch;
    const auto packets = MixedIpv4Packets();
    std::vector<OuterPacket> received;
    for (const auto& packet : packets) received.push_back(AsReceived(packet));
    std::vector<ReceiveVerdict> singles, verdicts(packets.size());
    for (const auto& packet : packets) {
      singles.push_back(
          DecideReceiveIpv4(one.snapshot, allow, 0, packet, one.counters));
    }
    DecideReceiveBatch(batch.snapshot, allow, 0, received, verdicts,
                       batch.counters);
    for (size_t i = 0; i < packets.size(); ++i) {
      ExpectSameVerdict(singles[i], verdicts[i], i);
    }
    EXPECT_EQ(one.counters.Read(), batch.counters.Read());
    EXPECT_EQ(one.InterfaceCounters(), batch.InterfaceCounters());
    const auto counted = batch.counters.Read();
    EXPECT_EQ(counted.ipackets + counted.adrops + counted.noifdrops +
                  counted.pdrops + counted.idrops,
              packets.size());
    if (allow) {
      EXPECT_GT(counted.ipackets, 0u);
      EXPECT_GT(counted.idrops, 0u);
      EXPECT_GT(counted.noifdrops, 0u);
      EXPECT_GT(counted.adrops, 0u);
    }
  }
}

TEST(ReceiveBatch, Ipv6BatchDecidesAndCountsAsSinglePackets) {
  Host one, batch;
  const auto frame = MakeFrame(100, 5);
  const auto good = EtherIpPayload(frame);
  const auto bad = EtherIpPayload(frame, 0x30, 0x01);
  std::vector<OuterPacket> packets;
  for (int i = 0; i < 45; ++i) {
    packets.push_back(
        OuterPacket{Ip(i % 3 == 0 ? "2001:db8::9" : "2001:db8::2"),
                    Ip("2001:db8::1"), i % 5 == 0 ? bad : good});
  }
  std::vector<ReceiveVerdict> singles, verdicts(packets.size());
  for (const auto& packet : packets) {
    singles.push_back(
        DecideReceive(one.snapshot, true, 0, packet, one.counters));
  }
  DecideReceiveBatch(batch.snapshot, true, 0, packets, verdicts,
                     batch.counters);
  for (size_t i = 0; i < packets.size(); ++i) {
    ExpectSameVerdict(singles[i], verdicts[i], i);
  }
  EXPECT_EQ(one.counters.Read(), batch.counters.Read());
  EXPECT_EQ(one.InterfaceCounters(), batch.InterfaceCounters());
}

TEST(ReceiveBatch, EmptyBatchCountsNothing) {
  Host host;
  DecideReceiveBatch(host.snapshot, true, 0, {}, {}, host.counters);
  EXPECT_EQ(host.counters.Read(), GlobalCounterValues{});
}

}  // namespace
}  // namespace etherip

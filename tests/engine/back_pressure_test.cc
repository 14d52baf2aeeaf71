// Back-pressure on the send side: a socket without room (EAGAIN) makes the
// forwarder hold the rest of its batch and read nothing more from devices
// until the socket takes it; nothing is dropped or counted as an error for
// lack of room. Other send errors count oerrors, one packet each.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

#include "core/core_fixtures.h"
#include "core/tunnel_table.h"
#include "engine/forwarder.h"
#include "io/memory/memory_tap.h"

namespace etherip {
namespace {

using testing_support::FakeDomains;
using testing_support::Options;
using testing_support::SequentialMacs;

// Takes `room` packets, then answers EAGAIN (or `error`, when set).
class RoomLimitedSocket : public OuterSocket {
 public:
  Family family() const override { return Family::kIpv4; }
  Result<size_t> Receive(std::span<PacketBuffer>,
                         std::span<InboundAddresses>) override {
    return 0;
  }
  SendResult Send(std::span<const OutboundPacket> packets) override {
    const size_t n = std::min(room, packets.size());
    for (size_t i = 0; i < n; ++i) {
      sent.emplace_back(packets[i].payload.begin(), packets[i].payload.end());
      destinations.push_back(packets[i].destination);
    }
    room -= n;
    return {n, n < packets.size() ? error : 0};
  }

  size_t room = 0;
  int error = EAGAIN;
  std::vector<std::vector<uint8_t>> sent;
  std::vector<IpAddress> destinations;
};

class BackPressure : public ::testing::Test {
 protected:
  BackPressure() {
    id_ = (*table_.Create("etherip0",
                          Options({"tunnel", "192.0.2.1", "192.0.2.2", "up"}),
                          domains_))
              ->id;
    Publish();
  }
  void Publish() {
    plane_.table = table_.BuildForwardingTable();
    plane_.devices.assign(id_ + 1, nullptr);
    if (table_.Find("etherip0") != nullptr) plane_.devices[id_] = tap_;
    plane_.sockets = {{Endpoint{Family::kIpv4, 0}, socket_}};
  }
  void Inject(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      std::vector<uint8_t> frame(60, static_cast<uint8_t>(next_++));
      tap_->Inject(frame);
    }
  }
  InterfaceCounterValues Counted() const {
    return table_.Find("etherip0")->counters->Read();
  }

  FakeDomains domains_{};
  TunnelTable table_{SequentialMacs()};
  InterfaceId id_ = 0;
  std::shared_ptr<MemoryTap> tap_ = std::make_shared<MemoryTap>();
  std::shared_ptr<RoomLimitedSocket> socket_ =
      std::make_shared<RoomLimitedSocket>();
  DataPlane plane_;
  GlobalCounters counters_;
  Forwarder forwarder_{counters_};
  int next_ = 0;
};

TEST_F(BackPressure, NoRoomHoldsTheRestInsteadOfDropping) {
  socket_->room = 4;
  Inject(10);
  EXPECT_EQ(forwarder_.PumpDevice(plane_, id_).packets, 10u);
  ASSERT_TRUE(forwarder_.blocked());
  EXPECT_EQ(*forwarder_.blocked(), (Endpoint{Family::kIpv4, 0}));
  EXPECT_EQ(socket_->sent.size(), 4u);
  EXPECT_EQ(Counted().opackets, 4u);
  EXPECT_EQ(Counted().oerrors, 0u);

  // While held, devices are not read: their frames wait in their queues.
  Inject(5);
  EXPECT_EQ(forwarder_.PumpDevice(plane_, id_).packets, 0u);
  EXPECT_EQ(tap_->pending(), 5u);
  EXPECT_FALSE(forwarder_.ResumeSend(plane_));  // still no room
  EXPECT_EQ(socket_->sent.size(), 4u);

  socket_->room = 100;
  EXPECT_TRUE(forwarder_.ResumeSend(plane_));
  EXPECT_FALSE(forwarder_.blocked());
  ASSERT_EQ(socket_->sent.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(socket_->sent[i][2 + 13], i) << "in order, none lost";
  }
  EXPECT_EQ(Counted().opackets, 10u);
  EXPECT_EQ(Counted().oerrors, 0u);
  EXPECT_EQ(forwarder_.PumpDevice(plane_, id_).packets, 5u);
  EXPECT_EQ(socket_->sent.size(), 15u);
}

TEST_F(BackPressure, HeldPacketsFollowATunnelThatMoved) {
  socket_->room = 0;
  Inject(3);
  forwarder_.PumpDevice(plane_, id_);
  ASSERT_TRUE(forwarder_.blocked());
  ASSERT_TRUE(table_.Set(
      "etherip0", Options({"tunnel", "192.0.2.1", "198.51.100.9"}), domains_));
  Publish();
  socket_->room = 10;
  EXPECT_TRUE(forwarder_.ResumeSend(plane_));
  ASSERT_EQ(socket_->destinations.size(), 3u);
  for (const auto& destination : socket_->destinations) {
    EXPECT_EQ(destination, IpAddress::Parse("198.51.100.9").value());
  }
}

TEST_F(BackPressure, HeldPacketsOfAnInterfaceThatIsGoneAreDropped) {
  socket_->room = 0;
  Inject(3);
  forwarder_.PumpDevice(plane_, id_);
  ASSERT_TRUE(forwarder_.blocked());
  ASSERT_TRUE(table_.Destroy("etherip0"));
  Publish();
  socket_->room = 10;
  EXPECT_TRUE(forwarder_.ResumeSend(plane_));
  EXPECT_TRUE(socket_->sent.empty());
  EXPECT_EQ(counters_.Read().opackets, 0u);
}

TEST_F(BackPressure, HeldPacketsNeverLeaveThroughANewInterfaceWithTheSameId) {
  socket_->room = 0;
  Inject(3);
  forwarder_.PumpDevice(plane_, id_);
  ASSERT_TRUE(forwarder_.blocked());
  // One reload: etherip0 goes, etherip1 comes and takes its id.
  // The table that held them.
  const ForwardingTable old_table = std::move(plane_.table);
  ASSERT_TRUE(table_.Destroy("etherip0"));
  auto created = table_.Create(
      "etherip1", Options({"tunnel", "192.0.2.1", "198.51.100.7", "up"}),
      domains_);
  ASSERT_TRUE(created);
  ASSERT_EQ((*created)->id, id_);
  plane_.table = table_.BuildForwardingTable();
  socket_->room = 10;
  EXPECT_TRUE(forwarder_.ResumeSend(plane_));
  EXPECT_TRUE(socket_->sent.empty());
}

TEST_F(BackPressure, OtherErrorsCountOerrorsOnePacketEach) {
  socket_->room = 2;
  socket_->error = EPERM;  // e.g. a firewall refusing
  Inject(5);
  forwarder_.PumpDevice(plane_, id_);
  EXPECT_FALSE(forwarder_.blocked());
  EXPECT_EQ(Counted().opackets, 2u);
  EXPECT_EQ(Counted().oerrors, 3u);
}

}  // namespace
}  // namespace etherip

// When EoIP tunnels send keepalives: at once when they start, then every
// `keepalive` seconds, never while not up, and never for standard tunnels.
#include "engine/keepalive_schedule.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/core_fixtures.h"

namespace etherip {
namespace {

using testing_support::MakeTunnel;
using Clock = KeepaliveSchedule::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Ids = std::vector<InterfaceId>;

ForwardingEntry Eoip(InterfaceId id, uint32_t keepalive, bool up = true) {
  ForwardingEntry entry;
  entry.id = id;
  entry.up = up;
  entry.has_tunnel = true;
  entry.tunnel = MakeTunnel("2001:db8::1", "2001:db8::2");
  entry.eoip = static_cast<uint16_t>(id);
  entry.keepalive = keepalive;
  return entry;
}

class KeepaliveScheduleTest : public ::testing::Test {
 protected:
  Ids TakeDue(Clock::duration since_start) {
    Ids due;
    schedule_.TakeDue(start_ + since_start, due);
    return due;
  }

  KeepaliveSchedule schedule_;
  const Clock::time_point start_ = Clock::now();
};

TEST_F(KeepaliveScheduleTest, SendsAtOnceThenEveryInterval) {
  schedule_.Upsert(Eoip(1, 10), start_);
  EXPECT_EQ(schedule_.size(), 1u);
  EXPECT_EQ(schedule_.next(), start_);
  EXPECT_EQ(TakeDue(seconds(0)), Ids{1});
  EXPECT_EQ(schedule_.next(), start_ + seconds(10));
  EXPECT_EQ(TakeDue(seconds(9)), Ids{});
  EXPECT_EQ(TakeDue(seconds(10)), Ids{1});
  EXPECT_EQ(TakeDue(seconds(19)), Ids{});
  EXPECT_EQ(TakeDue(seconds(20)), Ids{1});
}

TEST_F(KeepaliveScheduleTest, ALateLoopSendsOnceNotABurst) {
  schedule_.Upsert(Eoip(1, 1), start_);
  EXPECT_EQ(TakeDue(seconds(0)), Ids{1});
  EXPECT_EQ(TakeDue(seconds(60)), Ids{1});
  EXPECT_EQ(schedule_.next(), start_ + seconds(61));
}

TEST_F(KeepaliveScheduleTest, EachTunnelKeepsItsOwnInterval) {
  schedule_.Upsert(Eoip(1, 2), start_);
  schedule_.Upsert(Eoip(2, 3), start_ + milliseconds(500));
  EXPECT_EQ(TakeDue(seconds(0)), Ids{1});
  EXPECT_EQ(TakeDue(milliseconds(500)), Ids{2});
  EXPECT_EQ(TakeDue(seconds(2)), Ids{1});
  EXPECT_EQ(TakeDue(milliseconds(3500)), Ids{2});
  EXPECT_EQ(TakeDue(seconds(4)), Ids{1});
}

TEST_F(KeepaliveScheduleTest, OnlyRunningEoipTunnelsWithAnIntervalSend) {
  ForwardingEntry standard = Eoip(1, 10);
  standard.eoip.reset();
  schedule_.Upsert(standard, start_);
  schedule_.Upsert(Eoip(2, 0), start_);          // keepalive 0: off
  schedule_.Upsert(Eoip(3, 10, false), start_);  // down
  ForwardingEntry no_tunnel = Eoip(4, 10);
  no_tunnel.has_tunnel = false;
  schedule_.Upsert(no_tunnel, start_);
  EXPECT_EQ(schedule_.size(), 0u);
  EXPECT_EQ(schedule_.next(), std::nullopt);
  EXPECT_EQ(TakeDue(seconds(100)), Ids{});
}

TEST_F(KeepaliveScheduleTest, ChangesKeepTheTimeUnlessTheyStartItOrChangeIt) {
  schedule_.Upsert(Eoip(1, 10), start_);
  EXPECT_EQ(TakeDue(seconds(0)), Ids{1});
  // Another change (an MTU, a tunnel) keeps the time.
  schedule_.Upsert(Eoip(1, 10), start_ + seconds(3));
  EXPECT_EQ(TakeDue(seconds(5)), Ids{});
  // A new interval starts over at once.
  schedule_.Upsert(Eoip(1, 4), start_ + seconds(5));
  EXPECT_EQ(TakeDue(seconds(5)), Ids{1});
  EXPECT_EQ(TakeDue(seconds(9)), Ids{1});
  // Down: none; up again: one at once.
  schedule_.Upsert(Eoip(1, 4, false), start_ + seconds(10));
  EXPECT_EQ(TakeDue(seconds(13)), Ids{});
  EXPECT_EQ(schedule_.size(), 0u);
  schedule_.Upsert(Eoip(1, 4), start_ + seconds(14));
  EXPECT_EQ(TakeDue(seconds(14)), Ids{1});
  EXPECT_EQ(TakeDue(seconds(17)), Ids{});
  EXPECT_EQ(TakeDue(seconds(18)), Ids{1});
}

TEST_F(KeepaliveScheduleTest, AnErasedInterfaceSendsNoMoreAndItsIdMayReturn) {
  schedule_.Upsert(Eoip(1, 10), start_);
  schedule_.Upsert(Eoip(2, 10), start_);
  EXPECT_EQ(TakeDue(seconds(0)), (Ids{1, 2}));
  schedule_.Erase(1);
  EXPECT_EQ(schedule_.size(), 1u);
  EXPECT_EQ(TakeDue(seconds(10)), Ids{2});
  // Id 1 again, for a new interface: its own schedule, from now.
  schedule_.Upsert(Eoip(1, 10), start_ + seconds(12));
  EXPECT_EQ(TakeDue(seconds(12)), Ids{1});
  EXPECT_EQ(TakeDue(seconds(20)), Ids{2});
  // The last one gone: nothing to wake up for.
  schedule_.Erase(1);
  schedule_.Erase(2);
  schedule_.Erase(7);  // never there
  EXPECT_EQ(schedule_.next(), std::nullopt);
}

}  // namespace
}  // namespace etherip

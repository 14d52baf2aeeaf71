#include "core/counters.h"

#include <gtest/gtest.h>

#include "core/core_fixtures.h"

namespace etherip {
namespace {

TEST(Counter, StartsAtZeroAndAdds) {
  Counter counter;
  EXPECT_EQ(counter.Get(), 0u);
  counter.Increment();
  counter.Add(41);
  EXPECT_EQ(counter.Get(), 42u);
}

TEST(Counter, HoldsSixtyFourBits) {
  Counter counter;
  counter.Add(uint64_t{1} << 40);
  counter.Add(uint64_t{1} << 40);
  EXPECT_EQ(counter.Get(), uint64_t{1} << 41);
}

TEST(GlobalCounters, ReadReportsEachCounterUnderItsOwnName) {
  GlobalCounters counters;
  counters.ipackets.Add(1);
  counters.ibytes.Add(2);
  counters.opackets.Add(3);
  counters.obytes.Add(4);
  counters.adrops.Add(5);
  counters.pdrops.Add(6);
  counters.noifdrops.Add(7);
  counters.idrops.Add(8);
  counters.qdrops.Add(9);
  counters.loopdrops.Add(10);
  const GlobalCounterValues v = counters.Read();
  EXPECT_EQ(v.ipackets, 1u);
  EXPECT_EQ(v.ibytes, 2u);
  EXPECT_EQ(v.opackets, 3u);
  EXPECT_EQ(v.obytes, 4u);
  EXPECT_EQ(v.adrops, 5u);
  EXPECT_EQ(v.pdrops, 6u);
  EXPECT_EQ(v.noifdrops, 7u);
  EXPECT_EQ(v.idrops, 8u);
  EXPECT_EQ(v.qdrops, 9u);
  EXPECT_EQ(v.loopdrops, 10u);
}

TEST(InterfaceCounters, ReadReportsEachCounterUnderItsOwnName) {
  InterfaceCounters counters;
  counters.ipackets.Add(1);
  counters.ibytes.Add(2);
  counters.opackets.Add(3);
  counters.obytes.Add(4);
  counters.oerrors.Add(5);
  counters.idrops.Add(6);
  counters.loopdrops.Add(7);
  const InterfaceCounterValues v = counters.Read();
  EXPECT_EQ(v.ipackets, 1u);
  EXPECT_EQ(v.ibytes, 2u);
  EXPECT_EQ(v.opackets, 3u);
  EXPECT_EQ(v.obytes, 4u);
  EXPECT_EQ(v.oerrors, 5u);
  EXPECT_EQ(v.idrops, 6u);
  EXPECT_EQ(v.loopdrops, 7u);
}

TEST(CounterValues, CompareEveryField) {
  EXPECT_EQ(GlobalCounterValues{}, GlobalCounterValues{});
  EXPECT_NE(GlobalCounterValues{}, (GlobalCounterValues{.noifdrops = 1}));
  EXPECT_NE(GlobalCounterValues{}, (GlobalCounterValues{.ipackets = 1}));
  EXPECT_NE(GlobalCounterValues{}, (GlobalCounterValues{.idrops = 1}));
  EXPECT_NE(InterfaceCounterValues{}, (InterfaceCounterValues{.oerrors = 1}));
  EXPECT_NE(InterfaceCounterValues{}, (InterfaceCounterValues{.idrops = 1}));
  EXPECT_NE(GlobalCounterValues{}, (GlobalCounterValues{.loopdrops = 1}));
  EXPECT_NE(InterfaceCounterValues{}, (InterfaceCounterValues{.loopdrops = 1}));
}

}  // namespace
}  // namespace etherip

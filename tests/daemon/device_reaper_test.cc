// The reaper drops what it is given: at once without a thread, after a
// quiet moment with one, and never later than its bound under steady
// activity; Flush() returns only once everything given is dropped.
#include "daemon/device_reaper.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace etherip {
namespace {

using namespace std::chrono_literals;

// A device whose drop is recorded.
std::shared_ptr<void> Tracked(std::atomic<int>& dropped) {
  return std::shared_ptr<void>(new int(0), [&dropped](void* p) {
    delete static_cast<int*>(p);
    ++dropped;
  });
}

bool WaitFor(const std::atomic<int>& value, int expected,
             std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (value.load() != expected) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(DeviceReaper, WithoutAThreadDropsAtOnce) {
  std::atomic<int> dropped{0};
  DeviceReaper reaper(false);
  reaper.Release(Tracked(dropped));
  EXPECT_EQ(dropped.load(), 1);
}

TEST(DeviceReaper, FlushReturnsOnceEverythingIsDropped) {
  std::atomic<int> dropped{0};
  DeviceReaper reaper(true);
  for (int i = 0; i < 5; ++i) reaper.Release(Tracked(dropped));
  reaper.Busy();
  reaper.Flush();
  EXPECT_EQ(dropped.load(), 5);
}

TEST(DeviceReaper, DropsWhenQuiet) {
  std::atomic<int> dropped{0};
  DeviceReaper reaper(true);
  reaper.Release(Tracked(dropped));
  // Generous: the reaper waits kQuiet (200 ms).
  EXPECT_TRUE(WaitFor(dropped, 1, 10s));
}

TEST(DeviceReaper, SteadyActivityDoesNotHoldDevicesForever) {
  std::atomic<int> dropped{0};
  DeviceReaper reaper(true);
  reaper.Release(Tracked(dropped));
  // Requests keep coming, more often than kQuiet; the device still goes
  // (after kMaxDelay, 1 s; the limit here is generous).
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (dropped.load() == 0 && std::chrono::steady_clock::now() < until) {
    reaper.Busy();
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(dropped.load(), 1);
}

TEST(DeviceReaper, ReleasingFasterThanItDropsIsBounded) {
  std::atomic<int> dropped{0};
  std::atomic<int> alive{0};
  int most_alive = 0;
  DeviceReaper reaper(true);
  for (int i = 0; i < 3 * static_cast<int>(DeviceReaper::kMaxQueued); ++i) {
    reaper.Busy();
    ++alive;
    reaper.Release(std::shared_ptr<void>(new int(0), [&](void* p) {
      std::this_thread::sleep_for(1ms);  // a slow removal
      delete static_cast<int*>(p);
      --alive;
      ++dropped;
    }));
    most_alive = std::max(most_alive, alive.load());
  }
  reaper.Flush();
  EXPECT_EQ(dropped.load(), 3 * static_cast<int>(DeviceReaper::kMaxQueued));
  // At most a full queue and the one being dropped.
  EXPECT_LE(most_alive, static_cast<int>(DeviceReaper::kMaxQueued) + 2);
}

TEST(DeviceReaper, DestructionDropsWhatIsQueued) {
  std::atomic<int> dropped{0};
  {
    DeviceReaper reaper(true);
    reaper.Busy();
    for (int i = 0; i < 3; ++i) reaper.Release(Tracked(dropped));
  }
  EXPECT_EQ(dropped.load(), 3);
}

}  // namespace
}  // namespace etherip

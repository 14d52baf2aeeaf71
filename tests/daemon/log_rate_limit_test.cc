#include "daemon/log_rate_limit.h"

#include <gtest/gtest.h>

namespace etherip {
namespace {

using Clock = LogRateLimit::Clock;
using std::chrono::milliseconds;

TEST(LogRateLimit, LetsABurstThroughThenOneAnInterval) {
  LogRateLimit limit(3, std::chrono::seconds(1));
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limit.Admit(start), 0u);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(limit.Admit(start));
  EXPECT_FALSE(limit.Admit(start + milliseconds(999)));
  // The next line says how many were held back.
  EXPECT_EQ(limit.Admit(start + milliseconds(1000)), 101u);
  EXPECT_FALSE(limit.Admit(start + milliseconds(1500)));
  EXPECT_EQ(limit.Admit(start + milliseconds(2000)), 1u);
}

TEST(LogRateLimit, RefillsUpToTheBurstOnly) {
  LogRateLimit limit(2, std::chrono::seconds(1));
  const Clock::time_point start = Clock::now();
  EXPECT_TRUE(limit.Admit(start));
  EXPECT_TRUE(limit.Admit(start));
  EXPECT_FALSE(limit.Admit(start));
  // An hour of quiet gives back the burst, not 3600 lines.
  const Clock::time_point later = start + std::chrono::hours(1);
  EXPECT_EQ(limit.Admit(later), 1u);
  EXPECT_EQ(limit.Admit(later), 0u);
  EXPECT_FALSE(limit.Admit(later));
}

TEST(LogRateLimit, AtMostBurstPlusOneAnIntervalOverAnyStretch) {
  LogRateLimit limit(20, std::chrono::seconds(1));
  const Clock::time_point start = Clock::now();
  int admitted = 0;
  for (int ms = 0; ms < 10000; ++ms) {
    for (int i = 0; i < 10; ++i) {
      if (limit.Admit(start + milliseconds(ms))) ++admitted;
    }
  }
  EXPECT_EQ(admitted, 20 + 9);
}

}  // namespace
}  // namespace etherip

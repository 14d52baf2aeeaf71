#include "core/auto_mtu.h"

#include <gtest/gtest.h>

#include "core/interface_options.h"

namespace etherip {
namespace {

TEST(AutoMtu, SubtractsOuterEtherIpAndEthernetHeaders) {
  EXPECT_EQ(EncapsulationOverhead(Family::kIpv4), 36u);
  EXPECT_EQ(EncapsulationOverhead(Family::kIpv6), 56u);
  EXPECT_EQ(AutoMtu(Family::kIpv4, 1500), 1464u);
  EXPECT_EQ(AutoMtu(Family::kIpv6, 1500), 1444u);
  EXPECT_EQ(AutoMtu(Family::kIpv4, 1400), 1364u);
  EXPECT_EQ(AutoMtu(Family::kIpv4, 9000), 8964u);
  EXPECT_EQ(AutoMtu(Family::kIpv6, 1280), 1224u);
}

TEST(AutoMtu, ClampsToTheAllowedRange) {
  // A path too small for a minimal frame still gives a valid MTU.
  EXPECT_EQ(AutoMtu(Family::kIpv4, 0), kMinMtu);
  EXPECT_EQ(AutoMtu(Family::kIpv4, 36), kMinMtu);
  EXPECT_EQ(AutoMtu(Family::kIpv4, 36 + 67), kMinMtu);
  EXPECT_EQ(AutoMtu(Family::kIpv4, 36 + 68), kMinMtu);
  EXPECT_EQ(AutoMtu(Family::kIpv4, 36 + 69), kMinMtu + 1);
  EXPECT_EQ(AutoMtu(Family::kIpv6, 100), kMinMtu);
  // Loopback (65536) and larger: the most a frame and its headers may be.
  EXPECT_EQ(AutoMtu(Family::kIpv4, 65536), kMaxMtu);
  EXPECT_EQ(AutoMtu(Family::kIpv6, 0xffffffffu), kMaxMtu);
  EXPECT_EQ(AutoMtu(Family::kIpv4, kMaxMtu + 36), kMaxMtu);
  EXPECT_EQ(AutoMtu(Family::kIpv4, kMaxMtu + 35), kMaxMtu - 1);
}

}  // namespace
}  // namespace etherip

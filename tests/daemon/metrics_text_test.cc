#include "daemon/metrics_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace etherip {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<InterfaceCounters> CountersWith(uint64_t ipackets,
                                                uint64_t oerrors) {
  auto counters = std::make_shared<InterfaceCounters>();
  counters->ipackets.Add(ipackets);
  counters->oerrors.Add(oerrors);
  return counters;
}

TEST(RenderMetrics, EveryCounterWithItsHelpTypeAndValue) {
  GlobalCounterValues global;
  global.ipackets = 12;
  global.qdrops = 3;
  std::vector<InterfaceCounterSource> interfaces = {
      {"etherip0", true, CountersWith(7, 0)},
      {"etherip1", false, CountersWith(0, 2)},
  };
  const std::string text = RenderMetrics(global, true, interfaces);
  for (const auto& field : kGlobalCounterFields) {
    const std::string metric = "etherip_" + std::string(field.name) + "_total";
    EXPECT_THAT(text, HasSubstr("# HELP " + metric + " "));
    EXPECT_THAT(text, HasSubstr("# TYPE " + metric + " counter\n"));
  }
  EXPECT_THAT(text, HasSubstr("\netherip_ipackets_total 12\n"));
  EXPECT_THAT(text, HasSubstr("\netherip_qdrops_total 3\n"));
  EXPECT_THAT(text, HasSubstr("\netherip_allow 1\n"));
  EXPECT_THAT(text, HasSubstr("\netherip_interfaces 2\n"));
  EXPECT_THAT(
      text, HasSubstr("etherip_interface_ipackets_total{interface=\"etherip0\"}"
                      " 7\n"));
  EXPECT_THAT(
      text, HasSubstr("etherip_interface_oerrors_total{interface=\"etherip1\"}"
                      " 2\n"));
  EXPECT_THAT(
      text, HasSubstr("etherip_interface_running{interface=\"etherip1\"} 0\n"));
  // Each family's HELP and TYPE once, even with many interfaces.
  size_t count = 0;
  for (size_t at = text.find("# TYPE etherip_interface_ipackets_total");
       at != std::string::npos;
       at = text.find("# TYPE etherip_interface_ipackets_total", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(text.back(), '\n');
}

TEST(RenderMetrics, NoInterfacesNoSamplesButTheFamilies) {
  const std::string text = RenderMetrics({}, false, {});
  EXPECT_THAT(text, HasSubstr("\netherip_allow 0\n"));
  EXPECT_THAT(text, HasSubstr("\netherip_interfaces 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("{interface=")));
}

TEST(EscapeLabelValue, EscapesWhatTheFormatQuotes) {
  EXPECT_EQ(EscapeLabelValue("etherip0"), "etherip0");
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace etherip

#include "core/interface_name.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace etherip {
namespace {

TEST(InterfaceName, AcceptsOrdinaryNames) {
  for (const char* name :
       {"etherip0", "e", "etherip-lab_1.2", "...", ".a", "a.", "ETHERIP99"}) {
    EXPECT_TRUE(ValidateInterfaceName(name)) << name;
  }
}

TEST(InterfaceName, AcceptsFifteenBytes) {
  EXPECT_TRUE(ValidateInterfaceName(std::string(15, 'x')));
}

void ExpectRefused(std::string_view name) {
  auto status = ValidateInterfaceName(name);
  ASSERT_FALSE(status) << "'" << name << "'";
  EXPECT_EQ(status.error().code, EINVAL) << "'" << name << "'";
  EXPECT_NE(status.error().message.find("invalid interface name"),
            std::string::npos);
}

TEST(InterfaceName, RefusesEmpty) { ExpectRefused(""); }

TEST(InterfaceName, RefusesSixteenBytes) {
  ExpectRefused(std::string(16, 'x'));
}

TEST(InterfaceName, RefusesSlash) {
  ExpectRefused("ether/ip");
  ExpectRefused("/");
}

TEST(InterfaceName, RefusesPercentWhichAsksTheKernelForANumber) {
  ExpectRefused("etherip%d");
}

TEST(InterfaceName, RefusesColonWhichMarksAnAlias) { ExpectRefused("eth0:1"); }

TEST(InterfaceName, RefusesWhiteSpace) {
  for (const char* name :
       {"ether ip", " etherip", "etherip ", "ether\tip", "ether\nip",
        "ether\rip", "ether\vip", "ether\fip"}) {
    ExpectRefused(name);
  }
}

TEST(InterfaceName, RefusesDotAndDotDot) {
  ExpectRefused(".");
  ExpectRefused("..");
}

}  // namespace
}  // namespace etherip

#include "control/listen_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

namespace etherip::control {
namespace {

using ::testing::HasSubstr;

TEST(ParseListenAddress, TakesIpv4AndBracketedIpv6) {
  auto v4 = ParseListenAddress("127.0.0.1:9797");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host.ToString(), "127.0.0.1");
  EXPECT_EQ(v4->port, 9797);
  auto v6 = ParseListenAddress("[::1]:65535");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host.ToString(), "::1");
  EXPECT_EQ(v6->port, 65535);
}

TEST(ParseListenAddress, RefusesWhatIsNotHostPort) {
  for (const char* text :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:80x", "localhost:9797", "::1:9797", "[127.0.0.1]:9797",
        "[::1]", ":9797", "127.0.0.1:-1"}) {
    auto parsed = ParseListenAddress(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, EINVAL);
    EXPECT_THAT(parsed.error().message, HasSubstr("expected HOST:PORT"));
  }
}

}  // namespace
}  // namespace etherip::control

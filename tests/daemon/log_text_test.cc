#include "daemon/log_text.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <string>

namespace etherip {
namespace {

TEST(LogSafe, KeepsPrintableTextAndUtf8) {
  EXPECT_EQ(LogSafe("etherip0: created: tunnel 192.0.2.1 -> 192.0.2.2"),
            "etherip0: created: tunnel 192.0.2.1 -> 192.0.2.2");
  EXPECT_EQ(LogSafe("domain \"unterwäsche ✓ 🐧\""),
            "domain \"unterwäsche ✓ 🐧\"");
}

TEST(LogSafe, EscapesEverythingThatCouldForgeOrHideALine) {
  EXPECT_EQ(LogSafe("a\nb"), "a\\x0ab");
  EXPECT_EQ(LogSafe("a\r\tb"), "a\\x0d\\x09b");
  EXPECT_EQ(LogSafe(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(LogSafe("\x1b[2Jclear"), "\\x1b[2Jclear");  // terminal escape
  EXPECT_EQ(LogSafe("del\x7f"), "del\\x7f");
  EXPECT_EQ(LogSafe("c1\xc2\x9b"), "c1\\xc2\\x9b");  // CSI as a C1 control
  // Not UTF-8: a lone continuation byte, a truncated sequence, an overlong
  // slash, a surrogate.
  EXPECT_EQ(LogSafe("\x80"), "\\x80");
  EXPECT_EQ(LogSafe("\xe2\x9c"), "\\xe2\\x9c");
  EXPECT_EQ(LogSafe("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(LogSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  // A typed escape stays distinguishable from a made one.
  EXPECT_EQ(LogSafe("a\\x0ab"), "a\\\\x0ab");
}

TEST(LogSafe, CutsLongTextAtACharacterAndSaysHowMuchIsLeft) {
  EXPECT_EQ(LogSafe(std::string(2000, 'a'), 100),
            std::string(100, 'a') + "... (1900 more bytes)");
  // Never inside an escape or a character.
  EXPECT_EQ(LogSafe("abc\n", 5), "abc... (1 more bytes)");
  EXPECT_EQ(LogSafe("ab✓", 4), "ab... (3 more bytes)");
  EXPECT_LE(LogSafe(std::string(100000, '\n')).size(),
            kMaxLogMessageBytes + 32);
}

TEST(LogSafeSink, EveryRecordIsOneLine) {
  std::ostringstream out;
  auto inner = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  spdlog::logger logger("test", std::make_shared<LogSafeSink>(inner));
  logger.set_pattern("%l %v");
  logger.warn("refused create {}: invalid argument",
              "x\n2026-11-29 00:00:00.000 info allow 1");
  EXPECT_EQ(out.str(),
            "warning refused create x\\x0a2026-11-29 00:00:00.000 info allow 1"
            ": invalid argument\n");
}

}  // namespace
}  // namespace etherip

#include "cli/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace etherip::cli {
namespace {

using control::Op;
using control::Request;
using ::testing::HasSubstr;
using ::testing::StartsWith;

tl::expected<CommandLine, UsageError> Parse(std::vector<std::string> args) {
  return ParseCommandLine(args);
}

Request RequestOf(std::vector<std::string> args) {
  auto command_line = Parse(args);
  EXPECT_TRUE(command_line)
      << ::testing::PrintToString(args) << ": " << command_line.error().message;
  return command_line ? command_line->request : Request{};
}

std::string UsageMessageOf(std::vector<std::string> args) {
  auto command_line = Parse(args);
  EXPECT_FALSE(command_line) << ::testing::PrintToString(args);
  return command_line ? "" : command_line.error().message;
}

TEST(ParseCommandLine, ReadsEveryCommand) {
  EXPECT_EQ(RequestOf({"create", "etherip0"}),
            (Request{.op = Op::kCreate, .name = "etherip0"}));
  EXPECT_EQ(RequestOf({"create", "etherip0", "tunnel", "192.0.2.1", "192.0.2.2",
                       "domain", "underlay", "up"}),
            (Request{.op = Op::kCreate,
                     .name = "etherip0",
                     .options = {"tunnel", "192.0.2.1", "192.0.2.2", "domain",
                                 "underlay", "up"}}));
  EXPECT_EQ(RequestOf({"destroy", "etherip0"}),
            (Request{.op = Op::kDestroy, .name = "etherip0"}));
  EXPECT_EQ(RequestOf({"set", "etherip0", "-tunnel", "-domain", "down", "mtu",
                       "9000", "lladdr", "fe:e1:ba:d0:00:01"}),
            (Request{.op = Op::kSet,
                     .name = "etherip0",
                     .options = {"-tunnel", "-domain", "down", "mtu", "9000",
                                 "lladdr", "fe:e1:ba:d0:00:01"}}));
  EXPECT_EQ(RequestOf({"show"}), (Request{.op = Op::kShow}));
  EXPECT_EQ(RequestOf({"show", "etherip0"}),
            (Request{.op = Op::kShow, .name = "etherip0"}));
  EXPECT_EQ(RequestOf({"stats"}), (Request{.op = Op::kStats}));
  EXPECT_EQ(RequestOf({"allow"}), (Request{.op = Op::kAllow}));
  EXPECT_EQ(RequestOf({"allow", "1"}),
            (Request{.op = Op::kAllow, .allow = true}));
  EXPECT_EQ(RequestOf({"allow", "0"}),
            (Request{.op = Op::kAllow, .allow = false}));
  EXPECT_EQ(RequestOf({"showconf"}), (Request{.op = Op::kShowconf}));
  EXPECT_EQ(RequestOf({"reload"}), (Request{.op = Op::kReload}));
}

TEST(ParseCommandLine, ReadsTheGlobalOptions) {
  auto plain = Parse({"show"});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->socket_path, "/run/etherip/etheripd.sock");
  EXPECT_FALSE(plain->json);
  EXPECT_FALSE(plain->help);

  for (std::vector<std::string> args : {
           std::vector<std::string>{"-s", "/tmp/s", "-j", "stats"},
           {"-j", "-s", "/tmp/s", "stats"},
           {"--socket", "/tmp/s", "--json", "stats"},
           {"--socket=/tmp/s", "-j", "stats"},
           {"-s/tmp/s", "-j", "stats"},
           // After the command too, where they cannot be OPTION words.
           {"stats", "-j", "-s", "/tmp/s"},
           {"-s", "/tmp/s", "stats", "--json"},
           {"stats", "--socket=/tmp/s", "-j"},
       }) {
    auto command_line = Parse(args);
    ASSERT_TRUE(command_line) << ::testing::PrintToString(args) << ": "
                              << command_line.error().message;
    EXPECT_EQ(command_line->socket_path, "/tmp/s");
    EXPECT_TRUE(command_line->json);
    EXPECT_EQ(command_line->request.op, Op::kStats);
  }

  auto show = Parse({"show", "-j", "etherip0"});
  ASSERT_TRUE(show);
  EXPECT_TRUE(show->json);
  EXPECT_EQ(show->request.name, "etherip0");

  auto allow = Parse({"allow", "-j"});
  ASSERT_TRUE(allow);
  EXPECT_TRUE(allow->json);
  EXPECT_EQ(allow->request.allow, std::nullopt);

  auto create = Parse({"-j", "create", "-s", "/tmp/s", "e", "up"});
  ASSERT_TRUE(create);
  EXPECT_EQ(create->socket_path, "/tmp/s");
  EXPECT_EQ(create->request.name, "e");
}

TEST(ParseCommandLine, ReadsHelp) {
  for (std::vector<std::string> args : {std::vector<std::string>{"-h"},
                                        {"--help"},
                                        {"-j", "-h", "show"},
                                        {"show", "--help"}}) {
    auto command_line = Parse(args);
    ASSERT_TRUE(command_line) << ::testing::PrintToString(args);
    EXPECT_TRUE(command_line->help);
  }
  EXPECT_THAT(Usage(), StartsWith("usage: etherip [-s SOCKET] [-j] COMMAND"));
  EXPECT_THAT(Usage(), HasSubstr("create IFNAME [OPTION...]"));
  EXPECT_THAT(Usage(), HasSubstr("tunnel SRC DST"));
}

TEST(ParseCommandLine, ReadsVersion) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--version"}, {"-j", "--version", "show"}}) {
    auto command_line = Parse(args);
    ASSERT_TRUE(command_line) << ::testing::PrintToString(args);
    EXPECT_TRUE(command_line->version);
    EXPECT_FALSE(command_line->help);
  }
  auto plain = Parse({"show"});
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->version);
}

TEST(ParseCommandLine, ReadsShowRates) {
  auto rates = Parse({"show", "-r", "etherip0"});
  ASSERT_TRUE(rates);
  EXPECT_TRUE(rates->rates);
  EXPECT_EQ(rates->request.name, "etherip0");
  auto json = Parse({"-j", "show", "-r"});
  ASSERT_TRUE(json);
  EXPECT_TRUE(json->rates);
  EXPECT_TRUE(json->json);
  EXPECT_FALSE(Parse({"show"})->rates);
  EXPECT_EQ(UsageMessageOf({"stats", "-r"}), "-r: unknown option");
}

TEST(ParseCommandLine, PassesOptionWordsThrough) {
  // Words that look like options belong to the OPTION list.
  EXPECT_EQ(RequestOf({"create", "e", "-tunnel", "-domain", "-tunneldomain",
                       "deletetunnel", "tunneldomain", "-j"}),
            (Request{.op = Op::kCreate,
                     .name = "e",
                     .options = {"-tunnel", "-domain", "-tunneldomain",
                                 "deletetunnel", "tunneldomain", "-j"}}));
  // Values are for the daemon to judge (a bad one is a refusal, exit 1).
  EXPECT_EQ(RequestOf({"set", "e", "mtu", "huge", "lladdr", "x", "tunnel", "a",
                       "b", "domain", "a/b"})
                .options.size(),
            9u);
  // So is the interface name.
  EXPECT_EQ(RequestOf({"create", "a/b"}).name, "a/b");
  EXPECT_EQ(RequestOf({"destroy", ""}).name, "");
  EXPECT_EQ(RequestOf({"create", "0123456789abcdefghij"}).name,
            "0123456789abcdefghij");
}

TEST(ParseCommandLine, RefusesAMissingOrUnknownCommand) {
  EXPECT_EQ(UsageMessageOf({}), "missing COMMAND");
  EXPECT_EQ(UsageMessageOf({"-j"}), "missing COMMAND");
  EXPECT_EQ(UsageMessageOf({"-s", "/tmp/s"}), "missing COMMAND");
  EXPECT_EQ(UsageMessageOf({"frobnicate"}), "frobnicate: unknown command");
  EXPECT_EQ(UsageMessageOf({"Show"}), "Show: unknown command");
  EXPECT_EQ(UsageMessageOf({"help"}), "help: unknown command");
  EXPECT_EQ(UsageMessageOf({"up"}), "up: unknown command");
}

TEST(ParseCommandLine, RefusesUnknownOptions) {
  EXPECT_EQ(UsageMessageOf({"-x", "show"}), "-x: unknown option");
  EXPECT_EQ(UsageMessageOf({"--verbose", "show"}), "--verbose: unknown option");
  EXPECT_EQ(UsageMessageOf({"show", "-x"}), "-x: unknown option");
  EXPECT_EQ(UsageMessageOf({"stats", "--all"}), "--all: unknown option");
  EXPECT_EQ(UsageMessageOf({"allow", "-1"}), "-1: unknown option");
  EXPECT_EQ(UsageMessageOf({"create", "-x", "e"}), "-x: unknown option");
  EXPECT_EQ(UsageMessageOf({"create", "-tunnel"}), "-tunnel: unknown option");
  EXPECT_EQ(UsageMessageOf({"create", "e", "frob"}), "frob: unknown option");
  EXPECT_EQ(UsageMessageOf({"set", "e", "up", "-x"}), "-x: unknown option");
  EXPECT_EQ(UsageMessageOf(
                {"set", "e", "tunnel", "192.0.2.1", "192.0.2.2", "192.0.2.3"}),
            "192.0.2.3: unknown option");
}

TEST(ParseCommandLine, RefusesMissingArguments) {
  EXPECT_EQ(UsageMessageOf({"create"}), "missing IFNAME");
  EXPECT_EQ(UsageMessageOf({"create", "-j"}), "missing IFNAME");
  EXPECT_EQ(UsageMessageOf({"destroy"}), "missing IFNAME");
  EXPECT_EQ(UsageMessageOf({"set"}), "missing IFNAME");
  EXPECT_EQ(UsageMessageOf({"set", "etherip0"}), "missing OPTION");
  EXPECT_EQ(UsageMessageOf({"create", "e", "tunnel", "192.0.2.1"}),
            "tunnel: missing argument");
  EXPECT_EQ(UsageMessageOf({"create", "e", "tunnel"}),
            "tunnel: missing argument");
  EXPECT_EQ(UsageMessageOf({"set", "e", "domain"}), "domain: missing argument");
  EXPECT_EQ(UsageMessageOf({"set", "e", "mtu"}), "mtu: missing argument");
  EXPECT_EQ(UsageMessageOf({"set", "e", "up", "lladdr"}),
            "lladdr: missing argument");
  EXPECT_EQ(UsageMessageOf({"show", "-s"}), "-s: missing argument");
  EXPECT_EQ(UsageMessageOf({"-s"}), "-s: missing argument");
  EXPECT_EQ(UsageMessageOf({"--socket"}), "-s: missing argument");
}

// An empty SOCKET is a missing one, before COMMAND and after it; CLI11 took
// the word after "--socket=" as SOCKET (fuzz/regressions/command_line).
TEST(ParseCommandLine, RefusesAnEmptySocket) {
  EXPECT_EQ(UsageMessageOf({"--socket=", "stats"}), "-s: missing argument");
  EXPECT_EQ(UsageMessageOf({"-j", "--socket=", "stats"}),
            "-s: missing argument");
  EXPECT_EQ(UsageMessageOf({"-s", "", "stats"}), "-s: missing argument");
  EXPECT_EQ(UsageMessageOf({"--socket", "", "stats"}), "-s: missing argument");
  EXPECT_EQ(UsageMessageOf({"stats", "--socket="}), "-s: missing argument");
  EXPECT_EQ(UsageMessageOf({"show", "etheripjpk", "-s", ""}),
            "-s: missing argument");
  EXPECT_EQ(UsageMessageOf({"create", "-s", "", "e"}), "-s: missing argument");
  EXPECT_EQ(UsageMessageOf({"-js", "", "stats"}), "-s: missing argument");
  // A word after COMMAND that only looks like one is not an option there.
  auto parsed = Parse({"set", "e", "domain", "--socket="});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->request.options,
            (std::vector<std::string>{"domain", "--socket="}));
}

TEST(ParseCommandLine, RefusesExtraArguments) {
  EXPECT_EQ(UsageMessageOf({"destroy", "a", "b"}), "b: unexpected argument");
  EXPECT_EQ(UsageMessageOf({"show", "a", "b"}), "b: unexpected argument");
  EXPECT_EQ(UsageMessageOf({"stats", "x"}), "x: unexpected argument");
  EXPECT_EQ(UsageMessageOf({"showconf", "x"}), "x: unexpected argument");
  EXPECT_EQ(UsageMessageOf({"reload", "/etc/etherip/etheripd.conf"}),
            "/etc/etherip/etheripd.conf: unexpected argument");
  EXPECT_EQ(UsageMessageOf({"allow", "1", "1"}), "1: unexpected argument");
}

TEST(ParseCommandLine, TakesOnlyZeroOrOneForAllow) {
  for (const char* value : {"2", "true", "on", "yes", "01", "", " 1", "1 "}) {
    EXPECT_EQ(UsageMessageOf({"allow", value}),
              std::string(value) + ": expected 0 or 1");
  }
}

TEST(ParseCommandLine, RefusesArgumentsThatAreNotUtf8) {
  EXPECT_EQ(UsageMessageOf({"create", "e\xff"}),
            "an argument is not valid UTF-8");
  EXPECT_EQ(UsageMessageOf({"create", "e", "domain", "\xc0\x80"}),
            "an argument is not valid UTF-8");
  EXPECT_EQ(UsageMessageOf({"show", "\xed\xa0\x80"}),
            "an argument is not valid UTF-8");
  EXPECT_TRUE(Parse({"show", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}));
}

TEST(FormatUsageError, NamesTheProblemAndTheSynopsis) {
  auto error = Parse({"set", "etherip0"});
  ASSERT_FALSE(error);
  EXPECT_EQ(FormatUsageError(error.error()),
            "etherip: missing OPTION\n"
            "usage: etherip set IFNAME OPTION...  (etherip -h lists "
            "OPTIONs)\n");
  auto unknown = Parse({"frob"});
  EXPECT_THAT(FormatUsageError(unknown.error()),
              StartsWith("etherip: frob: unknown command\nusage: etherip "
                         "[-s SOCKET] [-j] COMMAND [ARGS]"));
}

TEST(ExitStatus, FollowsSpec6) {
  EXPECT_EQ(kExitSuccess, 0);
  EXPECT_EQ(kExitFailure, 1);
  EXPECT_EQ(kExitUsage, 2);
}

}  // namespace
}  // namespace etherip::cli

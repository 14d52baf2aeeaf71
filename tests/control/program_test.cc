// Runs the `etherip` program against a fake etheripd: exit statuses, what
// goes to stdout and stderr, and what is sent (SPEC 6).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "cli/output.h"
#include "control/config_file.h"
#include "control/fake_server.h"
#include "control/protocol.h"

extern char** environ;

namespace etherip::control {
namespace {

using ::testing::ElementsAre;
using testing::FakeServer;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using testing::TempDir;
using Json = nlohmann::json;

struct Outcome {
  int status = -1;  // exit status, or -1 when it did not exit normally
  std::string out;
  std::string err;
};

std::string Slurp(const std::string& path) {
  std::ifstream stream(path);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

// Runs etherip with `args`, stdin from /dev/null, capturing its output.
Outcome RunEtherip(std::vector<std::string> args) {
  TempDir dir;
  const std::string out = dir.File("out");
  const std::string err = dir.File("err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  args.insert(args.begin(), ETHERIP_PROGRAM);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  Outcome outcome;
  if (posix_spawn(&pid, ETHERIP_PROGRAM, &actions, nullptr, argv.data(),
                  environ) != 0) {
    ADD_FAILURE() << "cannot run " << ETHERIP_PROGRAM;
    return outcome;
  }
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) outcome.status = WEXITSTATUS(status);
  outcome.out = Slurp(out);
  outcome.err = Slurp(err);
  return outcome;
}

InterfaceView Sample() {
  InterfaceView view;
  view.name = "etherip0";
  view.settings.tunnel = *ParseTunnel("192.0.2.1", "192.0.2.2");
  view.settings.up = true;
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:01");
  view.running = true;
  view.counters = {12, 1400, 10, 1200, 0, 2};
  return view;
}

// Answers like a daemon with one interface and allow on; refuses what the
// test marks as refused.
FakeServer::Reply Daemon(const std::string& line) {
  auto request = DecodeRequest(line);
  Response response;
  if (!request) {
    response = RefusalResponse(request.error());
  } else if (request->name == "refused") {
    response = RefusalResponse(
        Error{EADDRNOTAVAIL,
              "tunnel 192.0.2.1 -> 192.0.2.2: address not available"},
        "etherip1");
  } else if (request->op == Op::kShow) {
    response.interfaces = {Sample()};
  } else if (request->op == Op::kStats) {
    response.stats = GlobalCounterValues{1, 2, 3, 4, 5, 6, 7, 8, 9};
  } else if (request->op == Op::kAllow) {
    response.allow = true;
  } else if (request->op == Op::kShowconf) {
    response.config = "allow = true\n";
  }
  return {FakeServer::Reply::kAnswer, EncodeResponse(response) + "\n"};
}

TEST(Program, ShowsInterfaces) {
  FakeServer server(Daemon);
  const Outcome text = RunEtherip({"-s", server.path(), "show"});
  EXPECT_EQ(text.status, 0) << text.err;
  EXPECT_EQ(text.out,
            "etherip0: flags=<UP,RUNNING> mtu 1500\n"
            "\tlladdr fe:e1:ba:d0:00:01\n"
            "\ttunnel inet 192.0.2.1 -> 192.0.2.2\n"
            "\tRX packets 12 bytes 1400 drops 2\n"
            "\tTX packets 10 bytes 1200 errors 0\n");
  EXPECT_THAT(text.err, IsEmpty());

  for (auto args :
       {std::vector<std::string>{"-s", server.path(), "-j", "show", "etherip0"},
        {"-s", server.path(), "show", "-j"}}) {
    const Outcome json = RunEtherip(args);
    EXPECT_EQ(json.status, 0) << json.err;
    const Json array = Json::parse(json.out);
    ASSERT_TRUE(array.is_array());
    EXPECT_EQ(array.at(0)["name"], "etherip0");
    EXPECT_EQ(array.at(0)["counters"]["obytes"], 1200);
    EXPECT_EQ(array.at(0)["counters"]["idrops"], 2);
  }
  EXPECT_THAT(
      server.requests(),
      ElementsAre(R"({"op":"show"})", R"({"name":"etherip0","op":"show"})",
                  R"({"op":"show"})"));
}

TEST(Program, ShowsStatsAllowAndConfiguration) {
  FakeServer server(Daemon);
  const Outcome stats = RunEtherip({"-s", server.path(), "stats"});
  EXPECT_EQ(stats.status, 0);
  EXPECT_THAT(stats.out,
              HasSubstr("\npdrops 6\nnoifdrops 7\nidrops 8\nqdrops 9\n"));
  const Outcome stats_json = RunEtherip({"-s", server.path(), "-j", "stats"});
  EXPECT_EQ(Json::parse(stats_json.out)["noifdrops"], 7);
  EXPECT_EQ(Json::parse(stats_json.out)["idrops"], 8);
  EXPECT_EQ(Json::parse(stats_json.out)["qdrops"], 9);

  EXPECT_EQ(RunEtherip({"-s", server.path(), "allow"}).out, "1\n");
  EXPECT_EQ(RunEtherip({"-s", server.path(), "-j", "allow"}).out,
            "{\"allow\": true}\n");
  const Outcome set = RunEtherip({"-s", server.path(), "allow", "0"});
  EXPECT_EQ(set.status, 0);
  EXPECT_EQ(set.out, "");
  EXPECT_EQ(RunEtherip({"-s", server.path(), "showconf"}).out,
            "allow = true\n");
}

TEST(Program, PrintsOutputsOverOneMebibyte) {
  // 10 000 interfaces: every output is several MiB, more than one line of
  // the request limit.
  constexpr int kCount = 10000;
  Response show;
  for (int i = 0; i < kCount; ++i) {
    InterfaceView view = Sample();
    view.name = "etherip" + std::to_string(i);
    show.interfaces.push_back(view);
  }
  Response showconf;
  showconf.config = RenderConfig(
      {.allow = true},
      std::span<const InterfaceView>(show.interfaces.data(), kCount));
  ASSERT_GT(showconf.config.size(), kMaxLineBytes);
  FakeServer server([&](const std::string& line) {
    auto request = DecodeRequest(line);
    const Response& response =
        request && request->op == Op::kShowconf ? showconf : show;
    return FakeServer::Reply{FakeServer::Reply::kAnswer,
                             EncodeResponse(response) + "\n"};
  });

  const Outcome text = RunEtherip({"-s", server.path(), "show"});
  EXPECT_EQ(text.status, 0) << text.err;
  EXPECT_EQ(text.out, cli::FormatInterfacesText(show.interfaces));
  EXPECT_EQ(std::count(text.out.begin(), text.out.end(), '\n'), 5 * kCount);

  const Outcome json = RunEtherip({"-s", server.path(), "-j", "show"});
  EXPECT_EQ(json.status, 0) << json.err;
  const Json array = Json::parse(json.out);
  ASSERT_EQ(array.size(), static_cast<size_t>(kCount));
  EXPECT_EQ(array.back()["name"], "etherip9999");

  const Outcome conf = RunEtherip({"-s", server.path(), "showconf"});
  EXPECT_EQ(conf.status, 0) << conf.err;
  EXPECT_EQ(conf.out, showconf.config);
}

TEST(Program, SendsChanges) {
  FakeServer server(Daemon);
  EXPECT_EQ(RunEtherip({"-s", server.path(), "create", "etherip0", "tunnel",
                        "192.0.2.1", "192.0.2.2", "up"})
                .status,
            0);
  EXPECT_EQ(
      RunEtherip({"-s", server.path(), "set", "etherip0", "-tunnel"}).status,
      0);
  EXPECT_EQ(RunEtherip({"-s", server.path(), "destroy", "etherip0"}).status, 0);
  EXPECT_EQ(RunEtherip({"-s", server.path(), "reload"}).status, 0);
  EXPECT_EQ(RunEtherip({"-s", server.path(), "allow", "1"}).status, 0);
  EXPECT_THAT(
      server.requests(),
      ElementsAre(
          R"({"name":"etherip0","op":"create","options":["tunnel","192.0.2.1","192.0.2.2","up"]})",
          R"({"name":"etherip0","op":"set","options":["-tunnel"]})",
          R"({"name":"etherip0","op":"destroy"})", R"({"op":"reload"})",
          R"({"op":"allow","value":true})"));
}

TEST(Program, ReportsARefusalWithExitStatus1) {
  FakeServer server(Daemon);
  const Outcome outcome =
      RunEtherip({"-s", server.path(), "create", "refused"});
  EXPECT_EQ(outcome.status, 1);
  EXPECT_EQ(outcome.err,
            "etherip: etherip1: tunnel 192.0.2.1 -> 192.0.2.2: address not "
            "available\n");
  EXPECT_EQ(outcome.out, "");
}

TEST(Program, ReportsAnUnreachableDaemonWithExitStatus1) {
  TempDir dir;
  const std::string path = dir.File("absent.sock");
  const Outcome outcome = RunEtherip({"-s", path, "show"});
  EXPECT_EQ(outcome.status, 1);
  EXPECT_EQ(outcome.err,
            "etherip: " + path + ": cannot reach etheripd (is it running?)\n");
}

TEST(Program, ReportsUsageErrorsWithExitStatus2) {
  FakeServer server(Daemon);
  for (std::vector<std::string> args : {
           std::vector<std::string>{},
           {"frobnicate"},
           {"-x", "show"},
           {"show", "--frob"},
           {"create"},
           {"destroy"},
           {"destroy", "a", "b"},
           {"set", "etherip0"},
           {"set", "etherip0", "frob"},
           {"create", "etherip0", "tunnel", "192.0.2.1"},
           {"create", "etherip0", "mtu"},
           {"allow", "2"},
           {"allow", "1", "0"},
           {"stats", "extra"},
           {"-s"},
       }) {
    if (args.empty() || args[0] != "-s") {
      args.insert(args.begin(), {"-s", server.path()});
    }
    const Outcome outcome = RunEtherip(args);
    EXPECT_EQ(outcome.status, 2) << ::testing::PrintToString(args);
    EXPECT_THAT(outcome.err, StartsWith("etherip: "));
    EXPECT_THAT(outcome.err, HasSubstr("\nusage: etherip"));
    EXPECT_EQ(outcome.out, "");
  }
  EXPECT_THAT(server.requests(), IsEmpty());
}

TEST(Program, PrintsHelp) {
  const Outcome outcome = RunEtherip({"-h"});
  EXPECT_EQ(outcome.status, 0);
  EXPECT_THAT(outcome.out, StartsWith("usage: etherip"));
}

}  // namespace
}  // namespace etherip::control

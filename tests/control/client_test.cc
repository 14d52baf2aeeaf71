#include "control/client.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "control/fake_server.h"

namespace etherip::control {
namespace {

using testing::FakeServer;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TempDir;
using namespace std::chrono_literals;

constexpr auto kShortTimeout = 200ms;

// A UNIX stream socket bound at `path`; listening with `backlog` unless
// it is negative (then bound only, as a killed daemon leaves it).
int BoundSocket(const std::string& path, int backlog) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address),
            0);
  if (backlog >= 0) {
    EXPECT_EQ(::listen(fd, backlog), 0);
  }
  return fd;
}

FakeServer::Reply Answer(const Response& response) {
  return {FakeServer::Reply::kAnswer, EncodeResponse(response) + "\n"};
}

TEST(Call, SendsOneLineAndDecodesTheAnswer) {
  FakeServer server([](const std::string& line) {
    auto request = DecodeRequest(line);
    Response response;
    response.allow = request && request->op == Op::kAllow;
    return Answer(response);
  });
  auto response = Call(server.path(), {.op = Op::kAllow});
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->allow, true);
  EXPECT_EQ(server.requests(),
            std::vector<std::string>{EncodeRequest({.op = Op::kAllow})});
}

TEST(Call, ReturnsARefusalAsAResponse) {
  FakeServer server([](const std::string&) {
    return Answer(RefusalResponse(Error{ENXIO, "no such interface"}, "x"));
  });
  auto response = Call(server.path(), {.op = Op::kDestroy, .name = "x"});
  ASSERT_TRUE(response) << response.error().message;
  ASSERT_TRUE(response->error);
  EXPECT_EQ(response->error->code, ENXIO);
  EXPECT_EQ(response->subject, "x");
}

TEST(Call, ReadsAnAnswerThatArrivesInPieces) {
  // A large answer, bigger than any socket buffer, so it arrives in pieces.
  Response big;
  big.config = std::string(kMaxLineBytes / 2, 'c');
  FakeServer server([&](const std::string&) { return Answer(big); });
  auto response = Call(server.path(), {.op = Op::kShowconf});
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->config, big.config);
}

TEST(Call, ReportsAMissingSocketAsUnreachable) {
  TempDir dir;
  const std::string path = dir.File("absent.sock");
  auto response = Call(path, {.op = Op::kShow});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ENOENT);
  EXPECT_EQ(response.error().message,
            path + ": cannot reach etheripd (is it running?)");
}

TEST(Call, ReportsASocketWithoutListenerAsUnreachable) {
  // What a killed daemon leaves behind: the file, with nobody listening.
  TempDir dir;
  const std::string path = dir.File("stale.sock");
  ::close(BoundSocket(path, -1));

  auto response = Call(path, {.op = Op::kShow});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ECONNREFUSED);
  EXPECT_EQ(response.error().message,
            path + ": cannot reach etheripd (is it running?)");
}

TEST(Call, ReportsAnImpossiblePath) {
  auto response = Call(std::string(200, 'x'), {.op = Op::kShow});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ENAMETOOLONG);
  auto empty = Call("", {.op = Op::kShow});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ENOENT);
}

TEST(ConnectFailure, MapsErrnoToTheMessagesUsersSee) {
  EXPECT_EQ(ConnectFailure("/s", ENOENT).message,
            "/s: cannot reach etheripd (is it running?)");
  EXPECT_EQ(ConnectFailure("/s", ECONNREFUSED).code, ECONNREFUSED);
  const Error denied = ConnectFailure("/s", EACCES);
  EXPECT_EQ(denied.code, EACCES);
  EXPECT_THAT(denied.message, StartsWith("/s: permission denied (only root"));
  EXPECT_EQ(ConnectFailure("/s", EPERM).code, EACCES);
  EXPECT_EQ(ConnectFailure("/s", EAGAIN).code, ETIMEDOUT);
  EXPECT_THAT(ConnectFailure("/s", ENOTSOCK).message, StartsWith("/s: "));
}

TEST(Call, ReportsPermissionDenied) {
  // A listening socket only its owner (root, or this user) may connect to.
  TempDir dir;
  const std::string path = dir.File("etheripd.sock");
  const int listener = BoundSocket(path, 1);
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);

  auto denied = [&] {
    auto response = Call(path, {.op = Op::kShow}, kShortTimeout);
    return !response && response.error().code == EACCES &&
           response.error().message.starts_with(path + ": permission denied (");
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(denied());
  } else {
    // Root passes every permission check: try as nobody, in a child.
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
      ::_exit(denied() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "2: cannot become nobody";
  }
  ::close(listener);
}

TEST(Call, ReadsARefusalSentBeforeTheRequest) {
  // etheripd refuses a connection (permission, per-uid limit) with one
  // line and closes at once: the request's send then fails, and the line
  // that arrived is still the answer.
  TempDir dir;
  const std::string path = dir.File("etheripd.sock");
  const int listener = BoundSocket(path, 1);
  auto connection = Connection::Open(path, 5s);
  ASSERT_TRUE(connection) << connection.error().message;
  const int accepted = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  const std::string refusal =
      EncodeResponse(RefusalResponse(Error{EACCES,
                                           "permission denied: uid "
                                           "1234 is not root"})) +
      "\n";
  ASSERT_EQ(::send(accepted, refusal.data(), refusal.size(), 0),
            static_cast<ssize_t>(refusal.size()));
  ::close(accepted);
  auto response = connection->Call({.op = Op::kShow});
  ASSERT_TRUE(response) << response.error().message;
  ASSERT_TRUE(response->error);
  EXPECT_EQ(response->error->code, EACCES);
  EXPECT_EQ(response->error->message,
            "permission denied: uid 1234 is not root");
  ::close(listener);
}

TEST(Call, TimesOutWhenTheDaemonDoesNotAnswer) {
  FakeServer server([](const std::string&) {
    return FakeServer::Reply{FakeServer::Reply::kSilence, ""};
  });
  const auto start = std::chrono::steady_clock::now();
  auto response = Call(server.path(), {.op = Op::kShow}, kShortTimeout);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ETIMEDOUT);
  EXPECT_THAT(response.error().message, StartsWith(server.path() + ": "));
  EXPECT_GE(elapsed, kShortTimeout);
  EXPECT_LT(elapsed, 5s);
}

TEST(Call, TimesOutWhenTheDaemonDoesNotAccept) {
  // A listener that never accepts: once its backlog is full, connecting
  // waits, and must give up at the timeout.
  TempDir dir;
  const std::string path = dir.File("etheripd.sock");
  const int listener = BoundSocket(path, 0);
  std::vector<Connection> queued;
  std::optional<Error> failure;
  for (int attempt = 0; attempt < 16 && !failure; ++attempt) {
    auto connection = Connection::Open(path, 50ms);
    if (connection) {
      queued.push_back(std::move(*connection));
    } else {
      failure = connection.error();
    }
  }
  ASSERT_TRUE(failure) << "the backlog never filled";
  EXPECT_EQ(failure->code, ETIMEDOUT);
  EXPECT_EQ(failure->message,
            path + ": etheripd did not accept the connection in time");
  ::close(listener);
}

TEST(Call, TimesOutOnAPartialAnswer) {
  FakeServer server([](const std::string&) {
    return FakeServer::Reply{FakeServer::Reply::kAnswer, "{\"ok\":tr"};
  });
  auto response = Call(server.path(), {.op = Op::kShow}, kShortTimeout);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ETIMEDOUT);
}

TEST(Call, ReportsAClosedConnection) {
  FakeServer server([](const std::string&) {
    return FakeServer::Reply{FakeServer::Reply::kClose, ""};
  });
  auto response = Call(server.path(), {.op = Op::kShow}, kShortTimeout);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, EPROTO);
  EXPECT_THAT(response.error().message, HasSubstr("closed the connection"));
}

TEST(Call, ReportsAGarbledAnswer) {
  for (std::string garbage : {"hello\n", "{\"ok\":\"yes\"}\n", "[]\n"}) {
    FakeServer server([&](const std::string&) {
      return FakeServer::Reply{FakeServer::Reply::kAnswer, garbage};
    });
    auto response = Call(server.path(), {.op = Op::kShow}, kShortTimeout);
    ASSERT_FALSE(response) << garbage;
    EXPECT_EQ(response.error().code, EPROTO);
    EXPECT_THAT(response.error().message,
                StartsWith(server.path() + ": bad response from etheripd: "));
  }
}

// `count` interfaces etherip0, etherip1, ... each with its own tunnel.
std::vector<InterfaceView> ManyInterfaces(int count) {
  std::vector<InterfaceView> views(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    InterfaceView& view = views[static_cast<size_t>(i)];
    view.name = "etherip" + std::to_string(i);
    view.settings.tunnel =
        *ParseTunnel("2001:db8::1", fmt::format("2001:db8:1::{:x}", i + 1));
    view.settings.up = true;
    view.settings.lladdr =
        MacAddress({0xfe, 0xe1, 0xba, 0xd0, static_cast<uint8_t>(i >> 8),
                    static_cast<uint8_t>(i)});
    view.running = true;
    view.counters = {1, 2, 3, 4, 5, 6};
  }
  return views;
}

TEST(Call, DecodesAnAnswerOverOneMebibyte) {
  // Requests are capped at kMaxLineBytes; answers are not: show with 10 000
  // interfaces is several MiB.
  Response show;
  show.interfaces = ManyInterfaces(10000);
  const std::string line = EncodeResponse(show) + "\n";
  ASSERT_GT(line.size(), 2 * kMaxLineBytes);
  FakeServer server([&](const std::string&) {
    return FakeServer::Reply{FakeServer::Reply::kAnswer, line};
  });
  auto response = Call(server.path(), {.op = Op::kShow}, 20s);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->interfaces, show.interfaces);
}

TEST(Call, ReadsAConfigurationOverOneMebibyte) {
  Response big;
  big.config = std::string(8 * kMaxLineBytes, 'c');
  FakeServer server([&](const std::string&) { return Answer(big); });
  auto response = Call(server.path(), {.op = Op::kShowconf}, 20s);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->config, big.config);
}

TEST(Call, ReadsTwoLargeAnswersOnOneConnection) {
  // Each answer arrives in many pieces; the second starts in the buffer
  // the first one's last piece filled.
  Response big;
  big.config = std::string(3 * kMaxLineBytes, 'c');
  FakeServer server([&](const std::string& line) {
    Response response = big;
    response.config += line;
    return Answer(response);
  });
  auto connection = Connection::Open(server.path(), 20s);
  ASSERT_TRUE(connection) << connection.error().message;
  for (Op op : {Op::kShowconf, Op::kShow}) {
    auto response = connection->Call({.op = op});
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->config, big.config + EncodeRequest({.op = op}));
  }
}

TEST(Call, RefusesToSendARequestOverTheLimit) {
  FakeServer server([](const std::string&) { return Answer({}); });
  Request huge{.op = Op::kCreate, .name = "e"};
  huge.options.assign(kMaxLineBytes / 4, "up");
  auto response = Call(server.path(), huge, kShortTimeout);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, EPROTO);
  EXPECT_EQ(response.error().message,
            server.path() + ": request longer than 1048576 bytes");
  EXPECT_TRUE(server.requests().empty());

  // One byte less than the limit is sent.
  Request at_limit{.op = Op::kShow};
  at_limit.name = std::string(kMaxLineBytes - EncodeRequest(at_limit).size() -
                                  std::string(R"(,"name":"")").size(),
                              'x');
  ASSERT_EQ(EncodeRequest(at_limit).size(), kMaxLineBytes);
  EXPECT_TRUE(Call(server.path(), at_limit, 5s));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Connection, CarriesSeveralRequests) {
  FakeServer server([](const std::string& line) {
    Response response;
    response.config = line;
    return Answer(response);
  });
  auto connection = Connection::Open(server.path(), 2s);
  ASSERT_TRUE(connection) << connection.error().message;
  for (Op op : {Op::kShow, Op::kStats, Op::kReload}) {
    auto response = connection->Call({.op = op});
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->config, EncodeRequest({.op = op}));
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(Connection, IsUnusableAfterAFailure) {
  FakeServer server([](const std::string&) {
    return FakeServer::Reply{FakeServer::Reply::kAnswer,
                             "junk\n{\"ok\":true}\n"};
  });
  auto connection = Connection::Open(server.path(), kShortTimeout);
  ASSERT_TRUE(connection);
  EXPECT_FALSE(connection->Call({.op = Op::kShow}));
  auto again = connection->Call({.op = Op::kShow});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ENOTCONN);

  Connection moved = std::move(*connection);
  EXPECT_FALSE(moved.Call({.op = Op::kShow}));
}

}  // namespace
}  // namespace etherip::control

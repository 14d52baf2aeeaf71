#include "daemon/control_server.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "control/client.h"
#include "control/fake_server.h"
#include "control/protocol.h"

namespace etherip {
namespace {

using control::testing::TempDir;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A ControlServer served by its own thread, as the daemon's loop serves it,
// answering each request line with whatever the test's handler returns.
class ServedControlServer {
 public:
  explicit ServedControlServer(ControlServer::Handler handler,
                               std::optional<gid_t> control_group = {})
      : handler_(std::move(handler)) {
    path_ = dir_.File("etheripd.sock");
    auto server = ControlServer::Listen(path_);
    if (!server || ::pipe(stop_pipe_) != 0) std::abort();
    server_ = std::move(*server);
    if (control_group &&
        !server_->SetAccess(control_group, std::to_string(*control_group))) {
      std::abort();
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~ServedControlServer() {
    char byte = 0;
    (void)!::write(stop_pipe_[1], &byte, 1);
    thread_.join();
    server_.reset();
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
  }

  const std::string& path() const { return path_; }
  // Requests answered so far.
  int answered() const { return answered_.load(); }

 private:
  void Serve() {
    const ControlServer::Handler counting = [this](std::string_view line) {
      ++answered_;
      return handler_(line);
    };
    std::vector<pollfd> fds;
    for (;;) {
      fds.clear();
      fds.push_back({stop_pipe_[0], POLLIN, 0});
      server_->CollectPollFds(fds);
      ::poll(fds.data(), fds.size(), server_->NextTimeoutMs(100));
      const auto polled_at = std::chrono::steady_clock::now();
      if (fds[0].revents != 0) return;
      server_->Dispatch(std::span<const pollfd>(fds).subspan(1), counting);
      server_->ExpireIdle(polled_at);
    }
  }

  TempDir dir_;
  std::string path_;
  ControlServer::Handler handler_;
  std::unique_ptr<ControlServer> server_;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<int> answered_{0};
};

// A blocking client socket that gives up after 10 s on any call.
int Connect(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  const timeval timeout{10, 0};
  if (fd < 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) ||
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address)) {
    std::abort();
  }
  return fd;
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until `lines` newlines have arrived, or the peer closes or times
// out; returns what was read.
std::string ReadLines(int fd, size_t lines) {
  std::string text;
  size_t seen = 0;
  char chunk[65536];
  while (seen < lines) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) seen += chunk[i] == '\n';
    text.append(chunk, static_cast<size_t>(n));
  }
  return text;
}

// True when the peer closed the connection (recv reads end of file).
bool ReadsEndOfFile(int fd) {
  char byte;
  return ::recv(fd, &byte, 1, 0) == 0;
}

// A response line of `size` bytes: a showconf answer padded to it.
std::string ResponseOfSize(size_t size) {
  const std::string shell = R"({"ok":true,"config":""})";
  return R"({"ok":true,"config":")" + std::string(size - shell.size(), 'c') +
         R"("})";
}

TEST(ControlServer, SendsAResponseLargerThanItsPendingOutputCap) {
  // What show and showconf answer with tens of thousands of interfaces.
  const std::string big = ResponseOfSize(3 * ControlServer::kMaxPendingOutput);
  ServedControlServer server([&](std::string_view) { return big; });
  auto connection = control::Connection::Open(server.path(), 20s);
  ASSERT_TRUE(connection) << connection.error().message;
  for (int i = 0; i < 2; ++i) {  // and the connection still works after it
    auto response = connection->Call({.op = control::Op::kShowconf});
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->config.size(),
              3 * ControlServer::kMaxPendingOutput -
                  std::string(R"({"ok":true,"config":""})").size());
  }
}

TEST(ControlServer, AnswersRequestsSentTogetherInOrder) {
  ServedControlServer server(
      [](std::string_view line) { return "echo " + std::string(line); });
  const int fd = Connect(server.path());
  ASSERT_TRUE(SendAll(fd, "a\nb\nc\n"));
  EXPECT_EQ(ReadLines(fd, 3), "echo a\necho b\necho c\n");
  ::close(fd);
}

TEST(ControlServer, StopsReadingRequestsWhileItsAnswersAreNotRead) {
  // Each answer is 1 MiB; the client sends 64 requests and reads nothing.
  constexpr size_t kAnswer = 1 << 20;
  constexpr int kRequests = 64;
  const std::string answer = ResponseOfSize(kAnswer);
  ServedControlServer server([&](std::string_view) { return answer; });
  const int fd = Connect(server.path());
  std::string requests;
  for (int i = 0; i < kRequests; ++i) requests += "{\"op\":\"showconf\"}\n";
  ASSERT_TRUE(SendAll(fd, requests));

  // It answers until more than kMaxPendingOutput waits unsent (plus what
  // the socket buffers hold), then leaves the rest unread...
  std::this_thread::sleep_for(300ms);
  const int answered = server.answered();
  EXPECT_GE(answered,
            static_cast<int>(ControlServer::kMaxPendingOutput / kAnswer));
  EXPECT_LT(answered, kRequests / 2);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(server.answered(), answered);

  // ...and answers it once the client reads.
  const std::string all = ReadLines(fd, kRequests);
  EXPECT_EQ(all.size(), kRequests * (answer.size() + 1));
  EXPECT_EQ(server.answered(), kRequests);
  ::close(fd);
}

TEST(ControlServer, AnswersABurstOverManyTurnsInOrder) {
  // 2000 requests of 4 KiB answers: 16 answers a turn (kMaxAnswerPerTurn),
  // so about 125 turns, the rest held between them.
  constexpr int kRequests = 2000;
  ServedControlServer server([](std::string_view line) {
    return std::string(line) + std::string(4096, '.');
  });
  const int fd = Connect(server.path());
  std::string requests;
  std::string expected;
  for (int i = 0; i < kRequests; ++i) {
    requests += std::to_string(i) + "\n";
    expected += std::to_string(i) + std::string(4096, '.') + "\n";
  }
  std::thread sender([&] { SendAll(fd, requests); });
  const std::string answers = ReadLines(fd, kRequests);
  sender.join();
  EXPECT_TRUE(answers == expected) << answers.size() << " bytes";
  EXPECT_EQ(server.answered(), kRequests);
  ::close(fd);
}

TEST(ControlServer, RefusesARequestOverTheLimitAndHangsUp) {
  ServedControlServer server([](std::string_view) { return "{\"ok\":true}"; });
  const int fd = Connect(server.path());
  // Sent from another thread: the server may hang up before taking it all.
  std::thread sender(
      [&] { SendAll(fd, std::string(control::kMaxLineBytes + 4096, 'x')); });
  const std::string answer = ReadLines(fd, 1);
  sender.join();
  auto response = control::DecodeResponse(answer.substr(0, answer.find('\n')));
  ASSERT_TRUE(response) << answer;
  ASSERT_TRUE(response->error);
  EXPECT_EQ(response->error->code, EPROTO);
  EXPECT_THAT(response->error->message, HasSubstr("longer than 1048576"));
  EXPECT_EQ(server.answered(), 0);
  ::close(fd);
}

TEST(ControlServer, AnswersThenClosesWhenThePeerStopsSending) {
  ServedControlServer server(
      [](std::string_view line) { return "echo " + std::string(line); });
  const int fd = Connect(server.path());
  ASSERT_TRUE(SendAll(fd, "a\nb\n"));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  EXPECT_EQ(ReadLines(fd, 2), "echo a\necho b\n");
  EXPECT_TRUE(ReadsEndOfFile(fd));
  ::close(fd);
}

TEST(ControlServer, RefusesAConnectionOverThePerUidLimitWithAnErrorLine) {
  ServedControlServer server(
      [](std::string_view line) { return "echo " + std::string(line); });
  // Every connection here is this test's uid.
  std::vector<int> held;
  for (size_t i = 0; i < ControlServer::kMaxConnectionsPerUid; ++i) {
    held.push_back(Connect(server.path()));
    // One round trip each: the server has accepted it before the next.
    ASSERT_TRUE(SendAll(held.back(), "a\n"));
    ASSERT_EQ(ReadLines(held.back(), 1), "echo a\n");
  }
  const int over = Connect(server.path());
  const std::string answer = ReadLines(over, 1);
  auto response = control::DecodeResponse(answer.substr(0, answer.find('\n')));
  ASSERT_TRUE(response) << answer;
  ASSERT_TRUE(response->error);
  EXPECT_EQ(response->error->code, EAGAIN);
  EXPECT_THAT(response->error->message,
              HasSubstr(fmt::format("limit {} per uid",
                                    ControlServer::kMaxConnectionsPerUid)));
  EXPECT_TRUE(ReadsEndOfFile(over));
  ::close(over);
  EXPECT_EQ(server.answered(),
            static_cast<int>(ControlServer::kMaxConnectionsPerUid));

  // The connections it holds still work; once one ends there is room.
  ASSERT_TRUE(SendAll(held[0], "b\n"));
  EXPECT_EQ(ReadLines(held[0], 1), "echo b\n");
  ::close(held[0]);
  held.erase(held.begin());
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    const int again = Connect(server.path());
    served = SendAll(again, "c\n") && ReadLines(again, 1) == "echo c\n";
    ::close(again);
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served);
  for (int fd : held) ::close(fd);
}

TEST(ControlServer, ClosesAConnectionThatSendsNothingSoon) {
  ServedControlServer server([](std::string_view) { return "{}"; });
  const int fd = Connect(server.path());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(ReadsEndOfFile(fd));  // Connect gives up after 10 s
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, ControlServer::kFirstRequestTimeout - 100ms);
  EXPECT_LT(waited, ControlServer::kIdleTimeout - 2s);
  ::close(fd);
}

TEST(ControlServer, GivesAStartedRequestTheLongerTimeout) {
  ServedControlServer server(
      [](std::string_view line) { return "echo " + std::string(line); });
  const int fd = Connect(server.path());
  ASSERT_TRUE(SendAll(fd, "par"));
  std::this_thread::sleep_for(ControlServer::kFirstRequestTimeout + 500ms);
  ASSERT_TRUE(SendAll(fd, "tial\n"));
  EXPECT_EQ(ReadLines(fd, 1), "echo partial\n");
  ::close(fd);
}

TEST(ControlServer, IsPrivateUntilGivenAGroup) {
  {
    ServedControlServer server([](std::string_view) { return "{}"; });
    struct stat info {};
    ASSERT_EQ(::stat(server.path().c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0600u);
  }
  if (::geteuid() != 0) GTEST_SKIP() << "giving a file to a group needs root";
  ServedControlServer server([](std::string_view) { return "{}"; }, 4242);
  struct stat info {};
  ASSERT_EQ(::stat(server.path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0660u);
  EXPECT_EQ(info.st_gid, 4242u);
  EXPECT_EQ(info.st_uid, ::geteuid());
  // Root is always admitted.
  const int fd = Connect(server.path());
  ASSERT_TRUE(SendAll(fd, "x\n"));
  EXPECT_EQ(ReadLines(fd, 1), "{}\n");
  ::close(fd);
}

TEST(ControlServer, SetAccessBackToPrivate) {
  TempDir dir;
  auto server = ControlServer::Listen(dir.File("etheripd.sock"));
  ASSERT_TRUE(server) << server.error().message;
  if (::geteuid() == 0) {
    ASSERT_TRUE((*server)->SetAccess(4242, "4242"));
    EXPECT_EQ((*server)->access().group, 4242u);
  }
  ASSERT_TRUE((*server)->SetAccess(std::nullopt, ""));
  EXPECT_FALSE((*server)->access().group);
  struct stat info {};
  ASSERT_EQ(::stat(dir.File("etheripd.sock").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_gid, ::getegid());
}

}  // namespace
}  // namespace etherip

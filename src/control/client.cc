#include "control/client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

namespace etherip::control {
namespace {

using Clock = std::chrono::steady_clock;

std::string ReasonOf(int code) {
  std::string_view reason = ErrnoReason(code);
  if (reason == "error") return std::strerror(code);
  return std::string(reason);
}

// Milliseconds left until `deadline`, for poll(2); 0 once it has passed.
int RemainingMs(Clock::time_point deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(
      std::clamp<int64_t>(left.count(), 0, std::numeric_limits<int>::max()));
}

// Waits until `fd` is ready for `events`. ETIMEDOUT at the deadline.
Status WaitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, RemainingMs(deadline));
    if (ready > 0) return {};
    if (ready == 0) return Fail(ETIMEDOUT, "timed out");
    if (errno != EINTR) return Fail(errno, ReasonOf(errno));
  }
}

}  // namespace

Error ConnectFailure(std::string_view socket_path, int code) {
  switch (code) {
    case ENOENT:
    case ECONNREFUSED:
      return Error{code, fmt::format("{}: cannot reach etheripd (is it "
                                     "running?)",
                                     socket_path)};
    case EACCES:
    case EPERM:
      return Error{EACCES,
                   fmt::format("{}: permission denied (only root, and the "
                               "members of etheripd's control_group, may "
                               "use it)",
                               socket_path)};
    case EAGAIN:
    case ETIMEDOUT:
      return Error{ETIMEDOUT,
                   fmt::format("{}: etheripd did not accept the connection "
                               "in time",
                               socket_path)};
    default:
      return Error{code, fmt::format("{}: {}", socket_path, ReasonOf(code))};
  }
}

Connection::Connection(int fd, std::string socket_path,
                       std::chrono::milliseconds timeout)
    : fd_(fd), socket_path_(std::move(socket_path)), timeout_(timeout) {}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      socket_path_(std::move(other.socket_path_)),
      timeout_(other.timeout_),
      lines_(std::move(other.lines_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    socket_path_ = std::move(other.socket_path_);
    timeout_ = other.timeout_;
    lines_ = std::move(other.lines_);
  }
  return *this;
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Connection> Connection::Open(const std::string& socket_path,
                                    std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof address.sun_path) {
    return tl::unexpected(ConnectFailure(
        socket_path, socket_path.empty() ? ENOENT : ENAMETOOLONG));
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return tl::unexpected(ConnectFailure(socket_path, errno));
  Connection connection(fd, socket_path, timeout);

  // A blocking connect on a UNIX socket waits for room in the listener's
  // backlog for at most the send timeout, then fails with EAGAIN.
  const auto seconds = std::chrono::floor<std::chrono::seconds>(timeout);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(timeout - seconds);
  timeval send_timeout{static_cast<time_t>(seconds.count()),
                       static_cast<suseconds_t>(micros.count())};
  if (send_timeout.tv_sec == 0 && send_timeout.tv_usec == 0) {
    send_timeout.tv_usec = 1;  // 0 would mean "no timeout"
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout,
                   sizeof send_timeout) != 0) {
    return tl::unexpected(ConnectFailure(socket_path, errno));
  }
  while (::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                   sizeof address) != 0) {
    if (errno == EINTR) continue;
    if (errno == EISCONN) break;  // an interrupted attempt completed
    return tl::unexpected(ConnectFailure(socket_path, errno));
  }
  // From here on every wait is a poll with a deadline.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return tl::unexpected(ConnectFailure(socket_path, errno));
  }
  return connection;
}

Error Connection::Failure(int code, std::string_view what) const {
  return Error{code, fmt::format("{}: {}", socket_path_, what)};
}

Status Connection::SendLine(const std::string& line,
                            Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n =
        ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto ready = WaitFor(fd_, POLLOUT, deadline); !ready) {
        if (ready.error().code == ETIMEDOUT) {
          return tl::unexpected(
              Failure(ETIMEDOUT,
                      "etheripd did not take the request (timed "
                      "out)"));
        }
        return tl::unexpected(
            Failure(ready.error().code, ready.error().message));
      }
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      return tl::unexpected(Failure(EPROTO, "etheripd closed the connection"));
    }
    return tl::unexpected(Failure(errno, ReasonOf(errno)));
  }
  return {};
}

Result<std::string> Connection::ReceiveLine(Clock::time_point deadline) {
  while (true) {
    auto line = lines_.Next();
    if (!line) {
      return tl::unexpected(Failure(EPROTO, fmt::format("bad response from "
                                                        "etheripd: {}",
                                                        line.error().message)));
    }
    if (*line) return std::move(**line);

    if (auto ready = WaitFor(fd_, POLLIN, deadline); !ready) {
      if (ready.error().code == ETIMEDOUT) {
        return tl::unexpected(
            Failure(ETIMEDOUT, "etheripd did not answer (timed out)"));
      }
      return tl::unexpected(Failure(ready.error().code, ready.error().message));
    }
    char buffer[16384];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      lines_.Feed(std::string_view(buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0 || errno == ECONNRESET) {
      return tl::unexpected(
          Failure(EPROTO, "etheripd closed the connection without answering"));
    }
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      return tl::unexpected(Failure(errno, ReasonOf(errno)));
    }
  }
}

Result<Response> Connection::Call(const Request& request) {
  if (fd_ < 0) {
    return tl::unexpected(Failure(ENOTCONN,
                                  "not connected (an earlier "
                                  "call failed)"));
  }
  auto response = Exchange(request);
  if (!response) {
    // A half-sent request or half-read response leaves the stream out of
    // step; never reuse it.
    ::close(std::exchange(fd_, -1));
  }
  return response;
}

Result<Response> Connection::Exchange(const Request& request) {
  const auto deadline = Clock::now() + timeout_;
  std::string line = EncodeRequest(request);
  if (line.size() > kMaxLineBytes) {
    return tl::unexpected(Failure(
        EPROTO, fmt::format("request longer than {} bytes", kMaxLineBytes)));
  }
  line += '\n';
  auto sent = SendLine(line, deadline);
  // A daemon that refuses the connection (permission, too many
  // connections) answers with one error line and closes at once, maybe
  // before the request is sent: that line is the answer.
  auto answer = ReceiveLine(sent ? deadline : Clock::now());
  if (!answer) return tl::unexpected(sent ? answer.error() : sent.error());
  auto response = DecodeResponse(*answer);
  if (!response) {
    return tl::unexpected(
        Failure(EPROTO, fmt::format("bad response from etheripd: {}",
                                    response.error().message)));
  }
  return response;
}

Result<Response> Call(const std::string& socket_path, const Request& request,
                      std::chrono::milliseconds timeout) {
  auto connection = Connection::Open(socket_path, timeout);
  if (!connection) return tl::unexpected(connection.error());
  return connection->Call(request);
}

}  // namespace etherip::control

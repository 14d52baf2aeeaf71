#include "daemon/control_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "control/protocol.h"
#include "io/linux/raised_capabilities.h"

namespace etherip {
namespace {

Result<sockaddr_un> AddressOf(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return Fail(EINVAL, fmt::format("{}: socket path too long", path));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// True when something accepts connections on `path`.
// Takes the lock that makes this the one daemon on `path`: an exclusive
// flock on PATH.lock, held while the daemon lives (the kernel drops it when
// the process dies, however it dies) and never unlinked, so two daemons
// starting at the same moment cannot both hold it.
Result<int> LockSocketPath(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int fd =
      open(lock_path.c_str(),
           O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) {
    return Fail(errno, fmt::format("{}: {}", lock_path, strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    close(fd);
    if (error == EWOULDBLOCK) {
      return Fail(EADDRINUSE,
                  fmt::format("{}: another etheripd is running", path));
    }
    return Fail(error, fmt::format("{}: {}", lock_path, strerror(error)));
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::Listen(
    const std::string& path) {
  auto address = AddressOf(path);
  if (!address) return tl::unexpected(address.error());
  std::error_code ignored;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ignored);
  auto lock = LockSocketPath(path);
  if (!lock) return tl::unexpected(lock.error());
  // Holding the lock, whatever is at `path` was left by a daemon that is
  // gone; only a socket is ever replaced.
  struct stat existing {};
  if (lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      close(*lock);
      return Fail(EEXIST, fmt::format("{}: exists and is not a socket", path));
    }
    unlink(path.c_str());
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    const int error = errno;
    close(*lock);
    return Fail(error, fmt::format("socket: {}", strerror(error)));
  }
  const mode_t old_mask = umask(0177);  // the socket is born 0600
  const int bound =
      bind(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof *address);
  const int bind_errno = errno;
  umask(old_mask);
  if (bound < 0 || listen(fd, 16) < 0) {
    const int error = bound < 0 ? bind_errno : errno;
    close(fd);
    close(*lock);
    return Fail(error, fmt::format("{}: {}", path, strerror(error)));
  }
  struct stat bound_socket {};
  stat(path.c_str(), &bound_socket);
  auto server = std::unique_ptr<ControlServer>(new ControlServer(fd, path));
  server->access_.owner = geteuid();
  server->lock_fd_ = *lock;
  server->socket_identity_ = {bound_socket.st_dev, bound_socket.st_ino};
  return server;
}

ControlServer::~ControlServer() {
  for (auto& connection : connections_) close(connection.fd);
  close(fd_);
  // Only our own socket: another daemon may have replaced it since.
  struct stat now {};
  if (stat(path_.c_str(), &now) == 0 &&
      std::pair<uint64_t, uint64_t>(now.st_dev, now.st_ino) ==
          socket_identity_) {
    unlink(path_.c_str());
  }
  if (lock_fd_ >= 0) close(lock_fd_);
}

Status ControlServer::SetAccess(std::optional<gid_t> group,
                                std::string group_name) {
  // After start-up (a reload) the daemon may run as another user: the
  // socket's directory may not be its own (CAP_DAC_OVERRIDE), the socket
  // belongs to the user that started the daemon (CAP_FOWNER) and the group
  // may be one the daemon is not in (CAP_CHOWN).
  RaisedCapabilities raised({CAP_DAC_OVERRIDE, CAP_CHOWN, CAP_FOWNER});
  // Only our own socket, and never through a link.
  struct stat now {};
  if (lstat(path_.c_str(), &now) != 0 ||
      std::pair<uint64_t, uint64_t>(now.st_dev, now.st_ino) !=
          socket_identity_) {
    return Fail(ENOENT, fmt::format("{}: the control socket is gone", path_));
  }
  const gid_t owner_group = group ? *group : getegid();
  const mode_t mode = group ? 0660 : 0600;
  // A new group: private first, then the group, then the mode, so that no
  // moment in between opens the socket to the old group with the new mode.
  // The same group: only the mode, so its members are never locked out.
  auto failure = [&](std::string_view what) {
    const int error = errno;
    return Fail(error, fmt::format("{}: {}: {}", path_, what, strerror(error)));
  };
  if (now.st_gid != owner_group) {
    if (chmod(path_.c_str(), 0600) != 0) return failure("chmod");
    if (lchown(path_.c_str(), static_cast<uid_t>(-1), owner_group) != 0) {
      const auto failed = failure(
          fmt::format("cannot give the socket to group {}",
                      group ? group_name : std::to_string(owner_group)));
      (void)chmod(path_.c_str(), now.st_mode & 07777);
      return failed;
    }
  }
  if (chmod(path_.c_str(), mode) != 0) return failure("chmod");
  access_.group = group;
  access_.group_name = group ? std::move(group_name) : std::string();
  return {};
}

size_t ControlServer::RevokeRefused() {
  size_t revoked = 0;
  for (Connection& connection : connections_) {
    if (connection.revoked || PeerAllowed(connection.peer, access_)) continue;
    connection.revoked = true;
    connection.reading = false;
    connection.answering = false;
    connection.held = false;
    ++revoked;
  }
  return revoked;
}

void ControlServer::CollectPollFds(std::vector<pollfd>& fds) const {
  // At the cap, connections wait in the listen backlog until one ends.
  fds.push_back(
      {fd_,
       static_cast<short>(connections_.size() < kMaxConnections ? POLLIN : 0),
       0});
  for (const auto& connection : connections_) {
    // A client that sends without reading its answers stops being read, and
    // so does one that already has requests waiting for the next turn.
    short events =
        connection.reading && !connection.held && !connection.backlogged()
            ? POLLIN
            : 0;
    if (connection.unsent() > 0) events |= POLLOUT;
    fds.push_back({connection.fd, events, 0});
  }
}

void ControlServer::Refuse(int fd, int code, const std::string& message) {
  // A new socket's buffer is empty: the line fits. The peer reads it before
  // it sees the connection end, even if its own send failed meanwhile.
  const std::string line =
      control::EncodeResponse(control::RefusalResponse(Error{code, message})) +
      '\n';
  (void)!send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  close(fd);
}

void ControlServer::LogRefusal(std::string_view message) {
  if (auto held_back = refusal_log_.Admit()) {
    spdlog::warn("control: {}{}", message, HeldBackNote(*held_back));
  }
}

void ControlServer::Accept() {
  // Bounded per turn too: refused connections do not count against the
  // cap, and a flood of them must not keep the loop here.
  for (size_t turn = 0;
       turn < kMaxConnections && connections_.size() < kMaxConnections;
       ++turn) {
    const int fd = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    auto peer = ReadPeerCredentials(fd);
    if (!peer) {
      LogRefusal(
          fmt::format("{}; closing the connection", peer.error().message));
      close(fd);
      continue;
    }
    if (!PeerAllowed(*peer, access_)) {
      const std::string message = PeerRefusal(peer->uid, access_);
      LogRefusal("refused a connection: " + message);
      Refuse(fd, EACCES, message);
      continue;
    }
    const size_t held = static_cast<size_t>(std::count_if(
        connections_.begin(), connections_.end(),
        [&](const Connection& open) { return open.peer.uid == peer->uid; }));
    if (held >= kMaxConnectionsPerUid) {
      const std::string message = fmt::format(
          "too many connections from uid {} (limit {} per uid); try again",
          peer->uid, kMaxConnectionsPerUid);
      LogRefusal("refused a connection: " + message);
      Refuse(fd, EAGAIN, message);
      continue;
    }
    Connection connection;
    connection.fd = fd;
    connection.peer = std::move(*peer);
    connection.accepted = std::chrono::steady_clock::now();
    connection.deadline = connection.accepted + kFirstRequestTimeout;
    connections_.push_back(std::move(connection));
  }
}

bool ControlServer::Read(Connection& connection, const Handler& handle,
                         size_t& budget) {
  char chunk[16384];
  // One chunk at a time, answered before the next is read: what stays
  // unread while backlogged, or past this turn's share, waits in the
  // socket, not in the daemon.
  size_t unread = kMaxReadPerTurn;
  while (unread > 0 && connection.reading && connection.answering &&
         !connection.held && !connection.backlogged()) {
    const ssize_t n =
        recv(connection.fd, chunk, std::min(sizeof chunk, unread), 0);
    if (n == 0) {
      // Peer done sending: answer, then close. Never polled for input
      // again (end of file would keep it readable).
      connection.reading = false;
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    unread -= static_cast<size_t>(n);
    if (!connection.heard) {
      // Mid-request from now on: the longer timeout, counted from accept.
      connection.heard = true;
      connection.deadline = connection.accepted + kIdleTimeout;
    }
    connection.input.Feed({chunk, static_cast<size_t>(n)});
    Answer(connection, handle, budget);
  }
  return true;
}

void ControlServer::Answer(Connection& connection, const Handler& handle,
                           size_t& budget) {
  connection.held = false;
  while (connection.answering && !connection.backlogged()) {
    if (budget == 0) {
      // This turn's share is spent; the rest waits for the next turn.
      connection.held = true;
      return;
    }
    auto line = connection.input.Next();
    std::string answer;
    if (!line) {
      // Too long: answer once, then hang up.
      answer = control::EncodeResponse(control::RefusalResponse(line.error()));
      connection.answering = false;
      connection.reading = false;
    } else if (!*line) {
      return;
    } else {
      answer = handle(**line);
      // The deadline moves only when a whole request has been answered, so
      // a request sent a byte at a time still ends within kIdleTimeout.
      connection.deadline = std::chrono::steady_clock::now() + kIdleTimeout;
    }
    answer += '\n';
    budget -= std::min(budget, std::max(answer.size(), kMinAnswerCost));
    if (connection.unsent() == 0) {
      // The usual case, one request at a time: the answer becomes the
      // output as is, however large, without a copy.
      connection.output = std::move(answer);
      connection.sent = 0;
    } else {
      connection.output.erase(0, connection.sent);
      connection.sent = 0;
      connection.output += answer;
    }
  }
}

bool ControlServer::Write(Connection& connection) {
  while (connection.unsent() > 0) {
    const ssize_t n =
        send(connection.fd, connection.output.data() + connection.sent,
             connection.unsent(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    // An offset, not erase(): a response of many megabytes leaves in many
    // sends, and erasing each sent piece would move the rest every time.
    connection.sent += static_cast<size_t>(n);
    connection.deadline = std::chrono::steady_clock::now() + kIdleTimeout;
  }
  // All sent: let go of the memory of a large answer.
  std::string().swap(connection.output);
  connection.sent = 0;
  return true;
}

void ControlServer::Dispatch(std::span<const pollfd> fds,
                             const Handler& handle) {
  if (fds.empty()) return;
  // Connections are matched by fd: Accept appends after the polled ones.
  std::vector<bool> finished(connections_.size(), false);
  for (size_t i = 1; i < fds.size() && i - 1 < connections_.size(); ++i) {
    Connection& connection = connections_[i - 1];
    const short revents = fds[i].revents;
    if (revents == 0 && !connection.held && !connection.revoked) continue;
    size_t budget = kMaxAnswerPerTurn;
    // Requests received in an earlier turn come first: the socket will
    // not report them again.
    Answer(connection, handle, budget);
    bool alive = true;
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
      alive = Read(connection, handle, budget);
    }
    if (alive && connection.unsent() > 0) alive = Write(connection);
    // Requests held back while the output was backlogged.
    if (alive) Answer(connection, handle, budget);
    // Done once the peer sent all it will and every answer has left.
    finished[i - 1] = !alive || (!connection.reading && !connection.held &&
                                 connection.unsent() == 0);
  }
  for (size_t i = finished.size(); i-- > 0;) {
    if (!finished[i]) continue;
    close(connections_[i].fd);
    connections_.erase(connections_.begin() + static_cast<ptrdiff_t>(i));
  }
  if (fds[0].revents & POLLIN) Accept();
}

int ControlServer::NextTimeoutMs(int cap) const {
  const auto now = std::chrono::steady_clock::now();
  long best = cap;
  for (const auto& connection : connections_) {
    // Requests held for the next turn, or a revoked connection with
    // nothing left to send: no waiting.
    if (connection.held && !connection.backlogged()) return 0;
    if (connection.revoked && connection.unsent() == 0) return 0;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          connection.deadline - now)
                          .count();
    best = std::min(best, std::max(0L, static_cast<long>(left)));
  }
  return static_cast<int>(best);
}

void ControlServer::ExpireIdle(
    std::chrono::steady_clock::time_point polled_at) {
  std::erase_if(connections_, [&](Connection& connection) {
    if (connection.deadline > polled_at) return false;
    close(connection.fd);
    return true;
  });
}

}  // namespace etherip

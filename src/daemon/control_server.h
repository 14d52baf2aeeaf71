// The control socket: a UNIX stream socket (mode 0600) speaking the line
// protocol of docs/control-protocol.md. Single-threaded and non-blocking: a
// bad, slow or half-sent request only costs its own connection, which is
// closed after a timeout.
#pragma once

#include <poll.h>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/protocol.h"
#include "core/error.h"

namespace etherip {

class ControlServer {
 public:
  using Handler = std::function<std::string(std::string_view line)>;

  // Refuses (EADDRINUSE) while another daemon holds PATH.lock; replaces a
  // stale socket left at `path` (EEXIST when it is not a socket); creates
  // the parent directory.
  static Result<std::unique_ptr<ControlServer>> Listen(const std::string& path);
  ~ControlServer();  // closes connections, removes its own socket file

  // Appends the fds to poll; Dispatch takes the same slice back.
  void CollectPollFds(std::vector<pollfd>& fds) const;
  void Dispatch(std::span<const pollfd> fds, const Handler& handle);
  // Milliseconds until the next connection deadline (or `cap`).
  int NextTimeoutMs(int cap) const;
  // Closes connections past their deadline.
  void ExpireIdle();

  static constexpr auto kIdleTimeout = std::chrono::seconds(10);
  static constexpr size_t kMaxConnections = 64;
  // While a connection has more than this unsent, no more of its requests
  // are read or answered: a client that sends without reading its answers
  // cannot make the daemon buffer without bound. It does not limit one
  // response, which is sent whole however large (show and showconf grow
  // with the number of interfaces).
  static constexpr size_t kMaxPendingOutput = 4 << 20;

 private:
  struct Connection {
    int fd = -1;
    control::LineAssembler input;  // requests: at most kMaxLineBytes each
    std::string output;            // answers; output[sent..] is unsent
    size_t sent = 0;
    bool reading = true;    // false once the peer stopped sending or broke
                            // the framing: close when all is answered
    bool answering = true;  // false after a line too long: nothing more is
                            // answered
    std::chrono::steady_clock::time_point deadline;

    size_t unsent() const { return output.size() - sent; }
    bool backlogged() const { return unsent() > kMaxPendingOutput; }
  };
  ControlServer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void Accept();
  // Each returns false when the connection failed and must be closed.
  // Read receives (while not backlogged) and answers what arrived.
  bool Read(Connection& connection, const Handler& handle);
  // Answers the complete requests already received, until backlogged.
  void Answer(Connection& connection, const Handler& handle);
  // Sends what the socket takes of the unsent output.
  bool Write(Connection& connection);

  int fd_;
  std::string path_;
  int lock_fd_ = -1;  // flock on PATH.lock, held for the daemon's life
  std::pair<uint64_t, uint64_t> socket_identity_{};  // (dev, inode) bound
  std::vector<Connection> connections_;
};

}  // namespace etherip

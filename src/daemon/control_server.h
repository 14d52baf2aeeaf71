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
#include <vector>

#include "control/protocol.h"
#include "core/error.h"

namespace etherip {

class ControlServer {
 public:
  using Handler = std::function<std::string(std::string_view line)>;

  // Refuses (EADDRINUSE) when a live daemon answers on `path`; replaces a
  // stale socket file; creates the parent directory.
  static Result<std::unique_ptr<ControlServer>> Listen(const std::string& path);
  ~ControlServer();  // closes connections, removes the socket file

  // Appends the fds to poll; Dispatch takes the same slice back.
  void CollectPollFds(std::vector<pollfd>& fds) const;
  void Dispatch(std::span<const pollfd> fds, const Handler& handle);
  // Milliseconds until the next connection deadline (or `cap`).
  int NextTimeoutMs(int cap) const;
  // Closes connections past their deadline.
  void ExpireIdle();

  static constexpr auto kIdleTimeout = std::chrono::seconds(10);
  static constexpr size_t kMaxConnections = 64;
  static constexpr size_t kMaxPendingOutput = 4 << 20;

 private:
  struct Connection {
    int fd = -1;
    control::LineAssembler input;
    std::string output;
    bool closing = false;  // close once output is flushed
    std::chrono::steady_clock::time_point deadline;
  };
  ControlServer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void Accept();
  // False when the connection is finished.
  bool Read(Connection& connection, const Handler& handle);
  bool Write(Connection& connection);

  int fd_;
  std::string path_;
  std::vector<Connection> connections_;
};

}  // namespace etherip

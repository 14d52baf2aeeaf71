// The client side of the control socket, for `etherip`.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "control/protocol.h"

namespace etherip::control {

inline constexpr const char* kDefaultSocketPath = "/run/etherip/etheripd.sock";
inline constexpr std::chrono::milliseconds kDefaultCallTimeout =
    std::chrono::seconds(30);

// Sends one request (at most kMaxLineBytes) and reads one response (at most
// kMaxResponseBytes). Errors: ECONNREFUSED/ENOENT when no daemon listens,
// EACCES when not permitted, ETIMEDOUT, EPROTO. Every message starts with
// the socket path ("SOCKET: ...").
Result<Response> Call(const std::string& socket_path, const Request& request,
                      std::chrono::milliseconds timeout = kDefaultCallTimeout);

// One connection to etheripd, which may carry several requests in sequence
// (the daemon closes connections left idle, so keep it short-lived).
class Connection {
 public:
  // Connects within `timeout`; fails as Call does. The same timeout then
  // bounds each Call (sending the request and receiving its response).
  static Result<Connection> Open(
      const std::string& socket_path,
      std::chrono::milliseconds timeout = kDefaultCallTimeout);

  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // After an error other than a refusal carried in the Response, the
  // connection is unusable: open a new one.
  Result<Response> Call(const Request& request);

 private:
  Connection(int fd, std::string socket_path,
             std::chrono::milliseconds timeout);
  Result<Response> Exchange(const Request& request);
  Status SendLine(const std::string& line,
                  std::chrono::steady_clock::time_point deadline);
  Result<std::string> ReceiveLine(
      std::chrono::steady_clock::time_point deadline);
  Error Failure(int code, std::string_view what) const;

  int fd_ = -1;
  std::string socket_path_;
  std::chrono::milliseconds timeout_;
  LineAssembler lines_{kMaxResponseBytes};
};

// The error Call reports when connect(2) on `socket_path` fails with errno
// `code`: "SOCKET: cannot reach etheripd (is it running?)" for ENOENT and
// ECONNREFUSED (keeping that code), "SOCKET: permission denied" (EACCES)
// for EACCES and EPERM.
Error ConnectFailure(std::string_view socket_path, int code);

}  // namespace etherip::control

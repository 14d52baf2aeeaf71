// The control socket: a UNIX stream socket (mode 0600, or 0660 for a
// control group) speaking the line protocol of docs/control-protocol.md.
// Single-threaded and non-blocking, and no client can stall or bloat it:
// each connection's credentials are checked when it is accepted and again
// when access changes (daemon/peer_access.h); each uid holds at most
// kMaxConnectionsPerUid connections; one turn reads at most kMaxReadPerTurn of
// a connection; a client that does not read its answers stops being read; a
// connection that sends nothing is closed after kFirstRequestTimeout, one that
// is slow or idle after kIdleTimeout.
#pragma once

#include <poll.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/protocol.h"
#include "core/error.h"
#include "daemon/log_rate_limit.h"
#include "daemon/peer_access.h"

namespace etherip {

class ControlServer {
 public:
  using Handler = std::function<std::string(std::string_view line)>;

  // Refuses (EADDRINUSE) while another daemon holds PATH.lock; replaces a
  // stale socket left at `path` (EEXIST when it is not a socket); creates
  // the parent directory.
  // The socket starts as mode 0600, for root and the daemon's own user.
  static Result<std::unique_ptr<ControlServer>> Listen(const std::string& path);
  ~ControlServer();  // closes connections, removes its own socket file

  // Who may connect from now on: with `group`, the socket becomes mode
  // 0660 and owned by that group, and its members are admitted; without,
  // mode 0600 and the daemon's own group. Connections already accepted
  // keep going (until RevokeRefused). On failure nothing changed.
  Status SetAccess(std::optional<gid_t> group, std::string group_name);
  const ControlAccess& access() const { return access_; }
  // Ends the connections whose peers access() no longer admits, so that a
  // narrowed control_group holds for connections already open too: none
  // of their requests is answered any more, and each is closed once the
  // answers it was already given are sent. Returns how many.
  size_t RevokeRefused();

  // Appends the fds to poll; Dispatch takes the same slice back.
  void CollectPollFds(std::vector<pollfd>& fds) const;
  void Dispatch(std::span<const pollfd> fds, const Handler& handle);
  // Milliseconds until the next connection deadline (or `cap`).
  int NextTimeoutMs(int cap) const;
  // Closes connections whose deadline had passed at `polled_at`, the time
  // poll returned: the time the daemon spent on other requests in this turn
  // does not count against a connection whose request waits in its socket.
  void ExpireIdle(std::chrono::steady_clock::time_point polled_at);

  // A connection that has sent nothing this long after it was accepted is
  // closed: a client that connects and then says nothing holds a slot the
  // CLI needs (etherip sends its request at once).
  static constexpr auto kFirstRequestTimeout = std::chrono::seconds(2);
  // A connection that has sent something gets this long to finish a
  // request, to read an answer, or between requests.
  static constexpr auto kIdleTimeout = std::chrono::seconds(10);
  // While this many connections are open, no more are accepted: new ones
  // wait in the listen backlog (the CLI for at most its own timeout).
  static constexpr size_t kMaxConnections = 64;
  // A uid that already holds this many connections has a further one
  // answered with an EAGAIN error line and closed, so that one user, root
  // included, can take at most a quarter of kMaxConnections.
  static constexpr size_t kMaxConnectionsPerUid = 16;
  // One turn of the loop reads at most this much from one connection
  // (some hundreds of requests), so a client that sends without pause
  // cannot keep the loop from other clients or from signals.
  static constexpr size_t kMaxReadPerTurn = 64 << 10;
  // One turn answers a connection's requests until its answers make this
  // much (at least one answer, however large), each answer counting at
  // least kMinAnswerCost, so at most 64 requests: show answers grow with
  // the number of interfaces, and a client pipelining requests must not
  // make one turn decode and encode megabytes while others wait. Requests
  // left are answered in the next turns, before more of its input is read.
  static constexpr size_t kMaxAnswerPerTurn = 64 << 10;
  static constexpr size_t kMinAnswerCost = 1 << 10;
  // While a connection has more than this unsent, no more of its requests
  // are read or answered: a client that sends without reading its answers
  // cannot make the daemon buffer without bound. It does not limit one
  // response, which is sent whole however large (show and showconf grow
  // with the number of interfaces).
  static constexpr size_t kMaxPendingOutput = 4 << 20;

 private:
  struct Connection {
    int fd = -1;
    PeerCredentials peer;          // as of its connect(2)
    control::LineAssembler input;  // requests: at most kMaxLineBytes each
    std::string output;            // answers; output[sent..] is unsent
    size_t sent = 0;
    bool reading = true;    // false once the peer stopped sending or broke
                            // the framing: close when all is answered
    bool answering = true;  // false after a line too long: nothing more is
                            // answered
    bool heard = false;     // the peer has sent something
    bool held = false;      // received requests may wait for the next turn
    bool revoked = false;   // its peer is no longer admitted: close once
                            // what it was answered is sent
    std::chrono::steady_clock::time_point accepted;
    std::chrono::steady_clock::time_point deadline;

    size_t unsent() const { return output.size() - sent; }
    bool backlogged() const { return unsent() > kMaxPendingOutput; }
  };
  ControlServer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void Accept();
  void LogRefusal(std::string_view message);
  // The error line a connection that is not admitted gets, if the socket
  // takes it, before it is closed.
  static void Refuse(int fd, int code, const std::string& message);
  // Each returns false when the connection failed and must be closed.
  // Read receives (while not backlogged, at most kMaxReadPerTurn) and
  // answers what arrived.
  // Both spend `budget`, the bytes of answers this turn may still make.
  bool Read(Connection& connection, const Handler& handle, size_t& budget);
  // Answers the complete requests already received, until backlogged or
  // the budget is spent (then `held`).
  void Answer(Connection& connection, const Handler& handle, size_t& budget);
  // Sends what the socket takes of the unsent output.
  bool Write(Connection& connection);

  int fd_;
  std::string path_;
  int lock_fd_ = -1;  // flock on PATH.lock, held for the daemon's life
  std::pair<uint64_t, uint64_t> socket_identity_{};  // (dev, inode) bound
  ControlAccess access_;
  // A client decides how many connections are refused: their lines come in
  // bursts of 20, then one a second.
  LogRateLimit refusal_log_{20, std::chrono::seconds(1)};
  std::vector<Connection> connections_;
};

}  // namespace etherip

// The control protocol between `etherip` and `etheripd`
// (docs/control-protocol.md): one JSON object per line each way over a UNIX
// stream socket.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/counters.h"
#include "core/error.h"
#include "core/interface_options.h"

namespace etherip::control {

// Longest request line accepted (bytes, newline excluded). The daemon reads
// requests from whoever may open its socket: this bounds what one can make
// it buffer.
inline constexpr size_t kMaxLineBytes = 1 << 20;
// Longest response line a client accepts (bytes, newline excluded). A
// response grows with the number of interfaces (show: about 230 bytes each,
// 1 MiB at about 4500), so it gets a far larger cap, which only guards the
// client against a runaway daemon.
inline constexpr size_t kMaxResponseBytes = size_t{1} << 30;

enum class Op {
  kCreate,
  kDestroy,
  kSet,
  kShow,
  kStats,
  kAllow,
  kShowconf,
  kReload
};

struct Request {
  Op op = Op::kShow;
  std::string name;                  // create, destroy, set; show (optional)
  std::vector<std::string> options;  // create, set: SPEC 6 OPTION words
  std::optional<bool> allow;         // allow: set when changing
  friend bool operator==(const Request&, const Request&) = default;
};

// An interface as `show` reports it.
struct InterfaceView {
  std::string name;
  InterfaceSettings settings;  // the tunnel's endpoints as configured
  bool running = false;
  InterfaceCounterValues counters;
  // The outer addresses the tunnel uses (what its names and zone resolved
  // to); unset while it is not in use, or when there is no tunnel.
  std::optional<Tunnel> addresses = std::nullopt;
  // Why the tunnel is not in use ("" when it is, or there is none): a name
  // that does not resolve, addresses another interface has, ... (SPEC 8).
  std::string unresolved = {};
  friend bool operator==(const InterfaceView&, const InterfaceView&) = default;
};

struct Response {
  std::optional<Error> error;  // set when the request was refused
  std::string subject;         // the interface a refusal concerns, or ""
  std::vector<InterfaceView> interfaces;     // show
  std::optional<GlobalCounterValues> stats;  // stats
  std::optional<bool> allow;                 // allow
  std::string config;                        // showconf: the TOML text
};

// A refusal of a request, about interface `subject` ("" for none).
Response RefusalResponse(Error error, std::string subject = "");

// "create", "destroy", ... as on the wire and on the command line.
std::string_view OpName(Op op);
// The inverse of OpName; nullopt for any other word.
std::optional<Op> OpFromName(std::string_view name);

// Encode* produce one line without the trailing newline. They never throw:
// text that is not valid UTF-8 (impossible for anything decoded from this
// protocol or from a configuration file) is encoded with U+FFFD in its place.
std::string EncodeRequest(const Request& request);
// EPROTO for what is not a well-formed request: not JSON, not an object, a
// missing or unknown op, a field the op does not take, a wrong type, a line
// longer than kMaxLineBytes. Never throws.
Result<Request> DecodeRequest(std::string_view line);
std::string EncodeResponse(const Response& response);
// EPROTO for what is not a well-formed response, or a line longer than
// kMaxResponseBytes. Fields this version does not know are ignored (a newer
// daemon may add some). Never throws.
Result<Response> DecodeResponse(std::string_view line);

// The JSON objects of SPEC 6, shared by the wire format and `etherip -j`.
nlohmann::json InterfaceJson(const InterfaceView& view);
nlohmann::json StatsJson(const GlobalCounterValues& stats);

// Splits a byte stream into lines (the framing of this protocol), for both
// ends of a connection: the daemon's reads requests (kMaxLineBytes, the
// default), a client's reads responses (kMaxResponseBytes). Feed bytes as
// they arrive, then take lines until none is complete. A line longer than
// the limit is an EPROTO error, and the stream is unusable from then on.
class LineAssembler {
 public:
  explicit LineAssembler(size_t max_line_bytes = kMaxLineBytes)
      : max_line_bytes_(max_line_bytes) {}

  void Feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete line without its '\n', nullopt when none is complete
  // yet, or EPROTO when the pending line is already too long.
  Result<std::optional<std::string>> Next();
  // Bytes received but not yet returned as a line.
  size_t pending() const { return buffer_.size() - consumed_; }

 private:
  size_t max_line_bytes_;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already returned
  size_t scanned_ = 0;   // bytes of buffer_ known to hold no '\n'
};

}  // namespace etherip::control

// The control protocol between `etherip` and `etheripd` (docs/control-protocol.md):
// one JSON object per line each way over a UNIX stream socket.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/counters.h"
#include "core/error.h"
#include "core/interface_options.h"

namespace etherip::control {

// Longest request or response line accepted (bytes, newline excluded).
inline constexpr size_t kMaxLineBytes = 1 << 20;

enum class Op { kCreate, kDestroy, kSet, kShow, kStats, kAllow, kShowconf, kReload };

struct Request {
  Op op = Op::kShow;
  std::string name;                  // create, destroy, set; show (optional)
  std::vector<std::string> options;  // create, set: SPEC 6 OPTION words
  std::optional<bool> allow;         // allow: set when changing
};

// An interface as `show` reports it.
struct InterfaceView {
  std::string name;
  InterfaceSettings settings;
  bool running = false;
  InterfaceCounterValues counters;
};

struct Response {
  std::optional<Error> error;  // set when the request was refused
  std::string subject;         // the interface a refusal concerns, or ""
  std::vector<InterfaceView> interfaces;    // show
  std::optional<GlobalCounterValues> stats;  // stats
  std::optional<bool> allow;                 // allow
  std::string config;                        // showconf: the TOML text
};

std::string_view OpName(Op op);

// Encode* produce one line without the trailing newline.
std::string EncodeRequest(const Request& request);
// EPROTO for what is not a well-formed request.
Result<Request> DecodeRequest(std::string_view line);
std::string EncodeResponse(const Response& response);
Result<Response> DecodeResponse(std::string_view line);

// The JSON objects of SPEC 6, shared by the wire format and `etherip -j`.
nlohmann::json InterfaceJson(const InterfaceView& view);
nlohmann::json StatsJson(const GlobalCounterValues& stats);

}  // namespace etherip::control

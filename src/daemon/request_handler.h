// Turns control requests into InterfaceManager calls and their responses,
// logging every change, and refusals as far as the rate limit lets them
// (a client decides how many refusals there are).
#pragma once

#include <functional>

#include "control/protocol.h"
#include "daemon/interface_manager.h"
#include "daemon/log_rate_limit.h"

namespace etherip {

class RequestHandler {
 public:
  // `reload` re-reads the configuration file and applies it.
  RequestHandler(InterfaceManager& manager, std::function<Status()> reload)
      : manager_(manager), reload_(std::move(reload)) {}

  control::Response Handle(const control::Request& request);
  // One request line in, one response line out (docs/control-protocol.md).
  std::string HandleLine(std::string_view line);

  // Refusal lines: bursts of 20, then one a second.
  static constexpr uint32_t kRefusalBurst = 20;
  static constexpr auto kRefusalInterval = std::chrono::seconds(1);

 private:
  control::Response Refuse(const control::Request& request, Error error);

  InterfaceManager& manager_;
  std::function<Status()> reload_;
  LogRateLimit refusals_{kRefusalBurst, kRefusalInterval};
};

}  // namespace etherip

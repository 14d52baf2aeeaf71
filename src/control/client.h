// The client side of the control socket, for `etherip`.
#pragma once

#include <chrono>
#include <string>

#include "control/protocol.h"

namespace etherip::control {

inline constexpr const char* kDefaultSocketPath = "/run/etherip/etheripd.sock";

// Sends one request and reads one response. Errors: ECONNREFUSED/ENOENT
// when no daemon listens, EACCES when not permitted, ETIMEDOUT, EPROTO.
Result<Response> Call(const std::string& socket_path, const Request& request,
                      std::chrono::milliseconds timeout =
                          std::chrono::seconds(30));

}  // namespace etherip::control

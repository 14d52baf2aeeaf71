// An address a TCP listener binds: "HOST:PORT", HOST an IPv4 literal or an
// IPv6 literal in brackets ("127.0.0.1:9797", "[::1]:9797"). No names: the
// daemon binds before it can resolve anything.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/ip_address.h"

namespace etherip::control {

struct ListenAddress {
  IpAddress host;
  uint16_t port = 0;  // 1..65535
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// EINVAL naming `text` when it is not HOST:PORT as above.
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace etherip::control

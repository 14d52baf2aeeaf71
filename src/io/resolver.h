// The name seam: what the daemon asks of the system's name resolution, for
// tunnel endpoints given as host names and zones given as interface names
// (SPEC 8, "Host names and zones"). Blocking by nature (getaddrinfo may
// wait on DNS for seconds): only the daemon's resolver thread calls it,
// never the control or forwarding thread. In-memory for unit tests
// (io/memory/memory_resolver.h), Linux in the daemon
// (io/linux/linux_resolver.h).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/ip_address.h"

namespace etherip {

class Resolver {
 public:
  virtual ~Resolver() = default;

  // The addresses of `host` as seen from domain `domain` ("" = the
  // daemon's own network namespace), of `family` (kNone: any), in the order
  // the system prefers; never empty on success. An error's message is the
  // system's reason, e.g. "Name or service not known".
  virtual Result<std::vector<IpAddress>> LookUpHost(std::string_view domain,
                                                    std::string_view host,
                                                    Family family) = 0;

  // The index of interface `name` in domain `domain`; ENODEV when the
  // domain has no such interface.
  virtual Result<uint32_t> LookUpInterface(std::string_view domain,
                                           std::string_view name) = 0;
};

}  // namespace etherip

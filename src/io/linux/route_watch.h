// RouteWatch: the routes of one network namespace, for `mtu auto`. It
// answers "what MTU does the route from SOURCE to DESTINATION have" (an
// RTM_GETROUTE, as `ip route get DESTINATION from SOURCE`, and the egress
// link's RTM_GETLINK when the route has no MTU of its own), and says when
// that answer may have changed: a route added, changed or removed
// (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE), a link whose MTU or
// administrative state changed or that went away (RTNLGRP_LINK, through a
// LinkMonitor and a table of the links' MTUs and states; a new link, or a
// change of anything else, such as a carrier, says nothing: the routes
// that use a link are announced themselves).
//
// Every socket belongs to the namespace that was the calling thread's at
// Open(), wherever the thread is later (LinuxHost opens one per domain,
// inside it). Not thread-safe.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/ip_address.h"
#include "io/host.h"
#include "io/linux/link_monitor.h"

struct mnl_socket;

namespace etherip {

class RouteWatch {
 public:
  // The event sockets' receive buffers: route and link events come in
  // bursts of a few hundred at most (a link going down takes its routes
  // with it); a queue that overflows costs a link dump and counts as a
  // change.
  static constexpr size_t kReceiveBuffer = size_t{1} << 20;

  // Opens the event sockets (non-blocking), the query socket, and lists
  // the links (their MTUs and states), in the calling thread's namespace.
  static Result<RouteWatch> Open();

  RouteWatch(RouteWatch&&) noexcept = default;
  RouteWatch& operator=(RouteWatch&&) noexcept = default;

  // Readable while events are queued: link events, route events.
  int link_fd() const { return links_.fd(); }
  int route_fd() const;

  // Reads every queued event without blocking. True when one of them may
  // have changed the answer of a Lookup (see above), or events were lost.
  Result<bool> Read();

  // The route from `source` to `destination` (same family; `source` may be
  // of family kNone: any source). RouteMtu::mtu is the route's RTAX_MTU
  // when it has one (`mtu N`, `mtu lock N`, or a path MTU the kernel
  // learned), else the MTU of its egress link. Errors: the kernel's, e.g.
  // ENETUNREACH "route to 192.0.2.2: network is unreachable" when there is
  // no route, or when `source` is an IPv4 address the namespace does not
  // have (LinuxHost then asks again without it).
  Result<RouteMtu> Lookup(const IpAddress& source,
                          const IpAddress& destination);

 private:
  struct SocketCloser {
    void operator()(mnl_socket* socket) const;
  };
  using Socket = std::unique_ptr<mnl_socket, SocketCloser>;
  struct LinkState {
    uint32_t mtu = 0;
    bool up = false;
    friend bool operator==(const LinkState&, const LinkState&) = default;
  };

  RouteWatch(LinkMonitor links, Socket routes, Socket query);

  // Replaces the table of links with what the kernel has now.
  Status ReloadLinks();

  LinkMonitor links_;
  Socket routes_;
  Socket query_;
  uint32_t next_sequence_ = 1;
  absl::flat_hash_map<int, LinkState> known_;
  std::vector<uint8_t> buffer_;
};

}  // namespace etherip

// One request to the kernel on a NETLINK_ROUTE socket and the reading of its
// whole answer: the shared part of LinkMonitor's link dump and RouteWatch's
// route lookups.
#pragma once

#include <libmnl/libmnl.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "core/error.h"

namespace etherip {

struct NetlinkAnswer {
  // A dump the kernel marked inconsistent (NLM_F_DUMP_INTR): the objects
  // changed while it was made; ask again for a consistent one.
  bool interrupted = false;
};

// Sends `request` (NLM_F_REQUEST is added; its sequence number is set to
// `sequence`) on `socket` and hands each message of the answer to `reply`,
// until the answer ends: NLMSG_DONE (its status checked), an NLMSG_ERROR
// (an error, with the kernel's extended-ack text when it gives one, or the
// acknowledgement 0), or, for a request with neither NLM_F_DUMP nor
// NLM_F_ACK, its one reply. Messages of other requests (leftovers of an
// abandoned one) are skipped. `buffer` holds one datagram. Errors name
// `context`.
Result<NetlinkAnswer> AskNetlink(
    mnl_socket* socket, nlmsghdr* request, uint32_t sequence,
    std::span<uint8_t> buffer, std::string_view context,
    const std::function<void(const nlmsghdr*)>& reply);

}  // namespace etherip

// Reading a netlink socket subscribed to kernel events (link, route), one
// datagram at a time, without blocking: the shared part of LinkMonitor and
// RouteWatch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/error.h"

namespace etherip {

struct KernelEventRead {
  enum Kind {
    kDatagram,  // buffer[0, size) holds one datagram the kernel sent
    kLost,      // the kernel dropped events (queue full, or one cut short)
    kNone,      // nothing is queued
  };
  Kind kind = kNone;
  size_t size = 0;
};

// The next datagram the kernel (netlink port 0) sent to `fd`; datagrams from
// any other sender (a process with CAP_NET_ADMIN can send to our port) are
// skipped. After kLost the kernel's queue still holds older events. An
// error other than these names `context`.
Result<KernelEventRead> ReadKernelEvent(int fd, std::span<uint8_t> buffer,
                                        std::string_view context);

}  // namespace etherip

#include "io/linux/kernel_events.h"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>

#include "io/linux/system_error.h"

namespace etherip {

Result<KernelEventRead> ReadKernelEvent(int fd, std::span<uint8_t> buffer,
                                        std::string_view context) {
  for (;;) {
    sockaddr_nl sender{};
    iovec part{buffer.data(), buffer.size()};
    msghdr header{};
    header.msg_name = &sender;
    header.msg_namelen = sizeof(sender);
    header.msg_iov = &part;
    header.msg_iovlen = 1;
    const ssize_t received = ::recvmsg(fd, &header, 0);
    if (received < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN) return KernelEventRead{KernelEventRead::kNone, 0};
      // The kernel reports a drop once, on the first receive after it.
      if (error == ENOBUFS) return KernelEventRead{KernelEventRead::kLost, 0};
      return FailSystem(error, context);
    }
    // A datagram cut short is an event lost.
    if (header.msg_flags & MSG_TRUNC) {
      return KernelEventRead{KernelEventRead::kLost, 0};
    }
    if (sender.nl_pid != 0) continue;
    return KernelEventRead{KernelEventRead::kDatagram,
                           static_cast<size_t>(received)};
  }
}

}  // namespace etherip

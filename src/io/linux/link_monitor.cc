#include "io/linux/link_monitor.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>

#include "io/linux/kernel_events.h"
#include "io/linux/netlink_ask.h"
#include "io/linux/system_error.h"

namespace etherip {
namespace {

// One datagram. Events are one message each, a few KiB; dump datagrams
// never exceed 32 KiB (netlink caps a dump skb at the reader's largest
// recvmsg, at most 32 KiB). 64 KiB leaves room for links with huge
// messages (many VFs); a datagram larger still is counted as lost.
constexpr size_t kBufferSize = 65536;

// Dumps interrupted by link changes are repeated this many times in all.
constexpr int kDumpAttempts = 5;

Status SetReceiveBuffer(int fd, size_t bytes) {
  const int size = static_cast<int>(std::min<size_t>(bytes, INT_MAX / 2));
  // SO_RCVBUFFORCE goes past net.core.rmem_max but needs CAP_NET_ADMIN;
  // without it, SO_RCVBUF (silently capped at rmem_max).
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0) {
    return {};
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0) {
    return FailSystem(errno, "rtnetlink: link events: receive buffer");
  }
  return {};
}

}  // namespace

void LinkMonitor::SocketCloser::operator()(mnl_socket* socket) const {
  mnl_socket_close(socket);
}

Result<LinkMonitor> LinkMonitor::Open(size_t receive_buffer) {
  Socket events(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!events) return FailSystem(errno, "rtnetlink: link events: socket");
  const int fd = mnl_socket_get_fd(events.get());
  // Before bind(): the buffer is in place before the first event queues.
  if (auto done = SetReceiveBuffer(fd, receive_buffer); !done) {
    return tl::unexpected(std::move(done.error()));
  }
  if (mnl_socket_bind(events.get(), RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
    return FailSystem(errno, "rtnetlink: link events: bind");
  }
  int granted = 0;
  socklen_t length = sizeof(granted);
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length) != 0) {
    return FailSystem(errno, "rtnetlink: link events: receive buffer");
  }

  // Blocking: a dump is a synchronous exchange with the kernel.
  Socket dump(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
  if (!dump) return FailSystem(errno, "rtnetlink: link dump: socket");
  if (mnl_socket_bind(dump.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return FailSystem(errno, "rtnetlink: link dump: bind");
  }
  return LinkMonitor(std::move(events), std::move(dump),
                     static_cast<size_t>(granted));
}

LinkMonitor::LinkMonitor(Socket events, Socket dump, size_t receive_buffer)
    : events_(std::move(events)),
      dump_(std::move(dump)),
      receive_buffer_(receive_buffer),
      buffer_(kBufferSize) {}

int LinkMonitor::fd() const { return mnl_socket_get_fd(events_.get()); }

Result<LinkEvents> LinkMonitor::Read() {
  LinkEvents result;
  const int fd = mnl_socket_get_fd(events_.get());
  for (;;) {
    auto read = ReadKernelEvent(fd, buffer_, "rtnetlink: link events: receive");
    if (!read) return tl::unexpected(std::move(read.error()));
    if (read->kind == KernelEventRead::kNone) break;
    if (read->kind == KernelEventRead::kLost) {
      result.overflowed = true;
      continue;
    }
    // After a loss, the rest of the queue is read only to be dropped.
    if (result.overflowed) continue;
    ParseLinkMessages(std::span<const uint8_t>(buffer_.data(), read->size),
                      result.events);
  }
  // Events read before the loss was reported are no better: the caller's
  // dump replaces them all.
  if (result.overflowed) result.events.clear();
  return result;
}

Result<std::vector<LinkInfo>> LinkMonitor::Dump() {
  std::vector<LinkInfo> links;
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    bool interrupted = false;
    links.clear();
    if (auto done = DumpOnce(links, interrupted); !done) {
      return tl::unexpected(std::move(done.error()));
    }
    if (!interrupted) return links;
  }
  return Fail(EAGAIN,
              fmt::format("rtnetlink: link dump: the links kept changing "
                          "during {} attempts",
                          kDumpAttempts));
}

Status LinkMonitor::DumpOnce(std::vector<LinkInfo>& links, bool& interrupted) {
  std::array<char, 256> request_buffer{};
  nlmsghdr* request = mnl_nlmsg_put_header(request_buffer.data());
  request->nlmsg_type = RTM_GETLINK;
  request->nlmsg_flags = NLM_F_DUMP;
  auto* link = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  // Statistics are the bulk of a link message and nobody here wants them.
  mnl_attr_put_u32(request, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  auto answer =
      AskNetlink(dump_.get(), request, next_sequence_++, buffer_,
                 "rtnetlink: link dump", [&](const nlmsghdr* message) {
                   if (auto event = ParseLinkMessage(message)) {
                     links.push_back(std::move(event->link));
                   }
                 });
  if (!answer) return tl::unexpected(std::move(answer.error()));
  interrupted = answer->interrupted;
  return {};
}

}  // namespace etherip

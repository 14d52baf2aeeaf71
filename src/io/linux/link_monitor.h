// LinkMonitor: the kernel's view of the links of one network namespace,
// as it changes. A NETLINK_ROUTE socket subscribed to RTNLGRP_LINK receives
// a RTM_NEWLINK for every new or changed link and a RTM_DELLINK for every
// link that goes away, whoever caused it (the daemon, `ip link`, the
// kernel); Read() hands them over. Dump() lists the links as they are now.
//
// The usual pattern keeps a table of links by ifindex:
//   auto monitor = LinkMonitor::Open();   // first: events start queueing
//   table = monitor->Dump();              // then: the state now
//   on fd() readable:
//     auto events = monitor->Read();
//     if (events->overflowed) table = monitor->Dump();  // events were lost
//     apply events->events in order
// Every event carries the link's whole state (not a difference) and the
// queue holds, in order, every event since the last loss; so applying
// queued events on top of a newer dump still ends in the kernel's state
// once the queue is drained (the last event of a link is its state now).
// Events from before a loss are another matter: the lost ones may have
// superseded them, so Read() discards them (see LinkEvents).
//
// What arrives for what (pinned down by tests/io/link_monitor_test.cc):
//   - new link, up/down, MTU, address, group, carrier: kChanged;
//   - rename (`ip link set X name Y`): kChanged, same ifindex, new name;
//   - deletion, and a move to another namespace (`ip link set X netns Y`):
//     kDeleted;
//   - one action may produce several events (LinuxTap::Create(): two, one
//     when the TAP is registered and one when its carrier goes off).
//     Nothing collapses them; the caller filters by ifindex and by what
//     changed;
//   - a change of group on a link that is down sends no event of its own
//     (the kernel's netdev_state_change() notifies only for up links); the
//     link's next event carries the new group.
//
// Both sockets belong to the namespace that was the calling thread's at
// Open(), wherever the thread is later. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/error.h"
#include "io/link_state.h"
#include "io/linux/link_message.h"

struct mnl_socket;

namespace etherip {

class LinkMonitor {
 public:
  // 32 MiB of socket receive buffer; the kernel doubles it for its
  // bookkeeping and charges each queued event its skb's true size, 2304
  // bytes for a TAP's RTM_NEWLINK with statistics (measured on Linux 6.18).
  // So ~29 000 events fit unread: the 20 000 that creating 10 000 TAPs
  // sends, with room to spare (8 MiB held ~7 300). The memory is charged
  // only while events are queued; an overflow costs a Dump() (10 000 links:
  // under 0.1 s).
  static constexpr size_t kDefaultReceiveBuffer = size_t{32} << 20;

  // Opens the event socket (non-blocking, close-on-exec, RTNLGRP_LINK,
  // receive buffer `receive_buffer` bytes: SO_RCVBUFFORCE, which needs
  // CAP_NET_ADMIN and ignores net.core.rmem_max, else SO_RCVBUF, capped by
  // rmem_max) and the private dump socket, in the calling thread's network
  // namespace.
  static Result<LinkMonitor> Open(
      size_t receive_buffer = kDefaultReceiveBuffer);

  LinkMonitor(LinkMonitor&&) noexcept = default;
  LinkMonitor& operator=(LinkMonitor&&) noexcept = default;

  // The event socket: readable while events are queued.
  int fd() const;
  // The receive buffer the kernel granted (SO_RCVBUF as read back: twice
  // what was set, see socket(7)).
  size_t receive_buffer() const { return receive_buffer_; }

  // Reads every queued datagram without blocking, until none is left
  // (EAGAIN), and returns their link events. ENOBUFS (the queue
  // overflowed and events were dropped) sets `overflowed`; reading goes on
  // until the queue is empty, and every event of this call is discarded
  // (see LinkEvents). An empty result is not an error. Errors: anything
  // else recvmsg() fails with (never expected).
  Result<LinkEvents> Read();

  // Every link of the namespace now (RTM_GETLINK dump, without
  // statistics), on the private socket: dump replies never mix with
  // events, and the event queue is left alone. When the link list changes
  // while the kernel dumps (NLM_F_DUMP_INTR), the dump is repeated, up to
  // a few times; then EAGAIN "rtnetlink: link dump: ...".
  Result<std::vector<LinkInfo>> Dump();

 private:
  struct SocketCloser {
    void operator()(mnl_socket* socket) const;
  };
  using Socket = std::unique_ptr<mnl_socket, SocketCloser>;

  LinkMonitor(Socket events, Socket dump, size_t receive_buffer);

  // One dump attempt: the links, and whether the kernel flagged the dump
  // as interrupted.
  Status DumpOnce(std::vector<LinkInfo>& links, bool& interrupted);

  Socket events_;
  Socket dump_;
  size_t receive_buffer_;
  uint32_t next_sequence_ = 1;
  std::vector<uint8_t> buffer_;  // one datagram, for either socket
};

}  // namespace etherip

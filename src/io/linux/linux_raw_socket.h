// LinuxRawSocket: the OuterSocket for one (address family, domain): a raw
// socket of IP protocol 97 (EtherIP) that all tunnels of that family in that
// network namespace share.
//
// The kernel builds the outer IP header (it must, to fragment), with the
// options set at Open() giving SPEC 1's values:
//   IPv4: TOS 0x10, TTL 64, DF clear (IP_PMTUDISC_DONT: the kernel fragments
//         a packet larger than the path MTU instead of refusing it).
//   IPv6: traffic class 0, hop limit 64, flow label 0 (no automatic flow
//         label), fragmented by the source (IPV6_PMTUDISC_DONT: a packet
//         larger than the path MTU is fragmented instead of refused, up to
//         64 KiB).
// Fragments are reassembled by the kernel before delivery.
//
// The socket is never connect()ed: it sends to and receives from every
// peer. That also keeps ICMP errors (e.g. "protocol unreachable" from a
// peer without EtherIP) away: an unconnected raw socket without IP_RECVERR
// ignores them, so they neither fail a later send nor wake the receiver.
//
// Every packet names its destination (msg_name) and its source (an
// IP_PKTINFO / IPV6_PKTINFO control message), so one socket serves tunnels
// with different local addresses. A source the namespace does not own is
// refused by the kernel with EINVAL.
//
// Per-tunnel outer header options (SPEC 8), per packet: a packet whose
// fields differ from the socket's defaults above carries control messages
// for those that differ, and only those: IP_TTL and IP_TOS (IPv4),
// IPV6_HOPLIMIT and IPV6_TCLASS (IPv6), SO_MARK (both; the kernel takes it
// with CAP_NET_RAW or CAP_NET_ADMIN). A packet with default fields costs
// nothing more than before. DF has no per-packet control a protocol-97
// socket takes: Linux 6.x has none for IPv4, and ignores IPV6_DONTFRAG on
// raw sockets of protocols other than IPPROTO_RAW (the packet is still
// fragmented; checked with captures). So the socket's path MTU discovery
// mode is the DF switch: IP(V6)_PMTUDISC_DONT (SPEC 1: the kernel
// fragments) or IP(V6)_PMTUDISC_DO (IPv4 DF set; a packet over the path
// MTU fails with EMSGSIZE, the kernel never fragments it). Send() sends
// each run of packets with the same `df` with one sendmmsg() and changes
// the mode (one setsockopt()) only where a run asks for the other one, so
// sockets whose tunnels agree never change it. Nothing else changes: the
// same socket, addresses, route lookup and checks.
//
// Receive queue drops: SO_RXQ_OVFL makes the kernel attach to each received
// packet the socket's running count of packets it dropped because the
// receive queue was full (a 32-bit counter that wraps); Receive() keeps the
// last count seen and TakeQueueDrops() hands out what it grew by.
//
// Batches: recvmmsg()/sendmmsg() over message arrays allocated once at
// Open() for kBatch packets; no allocation and no system call per packet.
// Receive() and Send() use separate arrays, so one thread may receive while
// another sends; neither may be called concurrently with itself.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/ip_address.h"
#include "core/packet_buffer.h"
#include "io/host.h"
#include "io/linux/unique_fd.h"

namespace etherip {

class LinuxRawSocket : public HostSocket {
 public:
  // Packets per recvmmsg()/sendmmsg(). Larger calls are split.
  static constexpr size_t kBatch = 64;
  static constexpr int kProtocol = 97;  // EtherIP (RFC 3378)

  // Opens the socket for `family` (kIpv4 or kIpv6, else EAFNOSUPPORT) in
  // network namespace `domain` (/run/netns/NAME; "" = the calling thread's
  // own). The thread enters the namespace only to create the socket and is
  // back in its original namespace when this returns, error or not. Errors:
  // EINVAL "domain NAME: no such domain"; EPERM without CAP_NET_RAW (or
  // CAP_SYS_ADMIN for another domain); the errno of a failed socket option.
  static Result<std::unique_ptr<LinuxRawSocket>> Open(Family family,
                                                      std::string_view domain);

  int fd() const override { return fd_.get(); }
  const std::string& domain() const { return domain_; }
  Family family() const override { return family_; }

  // Reads up to min(buffers.size(), addresses.size()) packets without
  // blocking; 0 when none is ready. Each buffer holds the payload (from the
  // EtherIP header on) and addresses carry the outer source and
  // destination: IPv4 from the IP header the socket hands over (options
  // skipped; one that does not parse is left whole with unset addresses),
  // IPv6 from the sender's address and IPV6_PKTINFO (with the interface it
  // came in through). An error other than
  // EAGAIN/EINTR is returned unless packets were read before it; then they
  // are returned and the error comes on the next call.
  Result<size_t> Receive(std::span<PacketBuffer> buffers,
                         std::span<InboundAddresses> addresses) override;

  // Sends in order until one packet fails; SendResult{sent, errno of
  // packets[sent]}. Each packet's destination must be of the socket's
  // family and its source of that family too, or unset (the kernel then
  // picks the source by route); otherwise EAFNOSUPPORT, without a system
  // call for that packet. A packet's scope (IPv6) names the interface it
  // leaves through (sin6_scope_id and the IPV6_PKTINFO index), as a
  // link-local destination needs. EAGAIN: the socket buffer is full.
  SendResult Send(std::span<const OutboundPacket> packets) override;

  // Packets the receive queue dropped since the last call, as learnt from
  // the packets received since (see above).
  uint64_t TakeQueueDrops() override;

 private:
  union SocketAddress {
    sockaddr_in v4;
    sockaddr_in6 v6;
  };
  // Room for the control messages of one packet. Received: an IP_PKTINFO
  // or IPV6_PKTINFO (40 bytes with its header) and SO_RXQ_OVFL (24); a
  // packet whose control messages do not fit loses them (MSG_CTRUNC),
  // never the packet. Sent: the source (40 at most) and up to three
  // options of 24 bytes each (112).
  static constexpr size_t kControlSize = 128;
  struct alignas(cmsghdr) Control {
    std::array<uint8_t, kControlSize> bytes;
  };
  // One direction's message arrays: msg_hdr i points at name[i], iov[i] and
  // control[i] once and for all.
  struct Batch {
    std::array<mmsghdr, kBatch> messages;
    std::array<iovec, kBatch> iov;
    std::array<SocketAddress, kBatch> names;
    std::array<Control, kBatch> controls;
    Batch();
  };

  LinuxRawSocket(UniqueFd fd, Family family, std::string domain)
      : fd_(std::move(fd)), family_(family), domain_(std::move(domain)) {}

  Status Configure();
  // Sets up send message `i` for `packet` (sharing message i - 1's address
  // and control message when `previous`, its packet, has the same
  // addresses); false on a family mismatch.
  bool PrepareSend(size_t i, const OutboundPacket& packet,
                   const OutboundPacket* previous);
  // Walks the control messages of received message `i` once: takes its
  // SO_RXQ_OVFL count, if it has one, and returns its outer addresses as
  // the message and its IPV6_PKTINFO give them (IPv6).
  InboundAddresses ReadControl(size_t i);
  // Puts the socket in the DF mode `df` (see above) unless it is there;
  // 0 or the errno of the setsockopt().
  int SetDontFragment(bool df);
  std::string Describe() const;

  UniqueFd fd_;
  Family family_;
  std::string domain_;
  Batch receive_;
  Batch send_;
  bool dont_fragment_ = false;  // the socket's DF mode
  uint32_t drop_count_ = 0;     // the kernel's count, as last seen
  uint64_t queue_drops_ = 0;    // grown by since the last TakeQueueDrops()
};

}  // namespace etherip

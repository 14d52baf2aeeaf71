// The network side: a socket for outer EtherIP packets of one address family
// in one domain (network namespace), shared by all tunnels there. Batch-
// shaped, like wireguard-go's conn.Bind.
#pragma once

#include <cstddef>
#include <span>
#include <utility>

#include "core/error.h"
#include "core/ip_address.h"
#include "core/outer_header.h"
#include "core/packet_buffer.h"

namespace etherip {

// The outer addresses of a received packet; its buffer holds the payload,
// from the EtherIP header on, whatever the family. Both unset: the socket
// could not parse the outer header (the payload is then the whole packet),
// which the receive decision counts as adrops.
struct InboundAddresses {
  IpAddress source;       // the peer
  IpAddress destination;  // ours
  uint32_t ingress = 0;   // the interface it came in through; 0: not known
};

// For a socket that reads whole outer packets of `family` (a Linux raw
// IPv4 socket, the in-memory one): narrows `buffer` to the payload and
// returns the outer addresses, so every family reaches the receive decision
// alike. A packet that does not parse is left whole, with unset addresses.
inline InboundAddresses TakeOuterHeader(Family family, PacketBuffer& buffer) {
  const auto bytes = std::as_const(buffer).data();
  const auto outer =
      family == Family::kIpv4 ? ParseIpv4Packet(bytes) : ParseIpv6Packet(bytes);
  if (!outer) return {};
  buffer.Narrow(outer->payload);
  return {outer->source, outer->destination};
}

struct OutboundPacket {
  std::span<const uint8_t> payload;  // EtherIP header and frame
  IpAddress source;
  IpAddress destination;
  // The interface (index in the socket's domain) link-local addresses are
  // on: the packet leaves through it. 0: the route decides.
  uint32_t scope = 0;
  // TTL, TOS, DF and firewall mark of the outer packet; the default is
  // SPEC 1's header, which a socket sends at no extra cost.
  OuterFields outer;
};

struct SendResult {
  size_t sent = 0;  // packets sent from the front of the batch
  int error = 0;    // when non-zero, packets[sent] failed with this errno
};

class OuterSocket {
 public:
  virtual ~OuterSocket() = default;

  virtual Family family() const = 0;

  // Reads up to buffers.size() packets without blocking. Returns how many;
  // 0 when none is ready. addresses.size() >= buffers.size(). Each buffer's
  // data() is the packet's payload (see InboundAddresses).
  virtual Result<size_t> Receive(std::span<PacketBuffer> buffers,
                                 std::span<InboundAddresses> addresses) = 0;

  // How many packets the socket's receive queue lost (it was full, so they
  // were dropped before anyone read them) since the last call, as far as
  // the socket has learnt by now; 0 when it cannot tell. Linux tells with
  // the packets that follow a loss, so a loss is reported once a later
  // packet has been received (SO_RXQ_OVFL). SPEC 5: qdrops.
  virtual uint64_t TakeQueueDrops() { return 0; }

  // Sends packets in order until one fails; the outer IP header is built
  // below this interface (by the kernel on Linux), with each packet's
  // `outer` fields. EAGAIN: no room now; the caller waits until the socket
  // is writable and sends the rest again. EMSGSIZE: a packet with `df` does
  // not fit the path MTU.
  virtual SendResult Send(std::span<const OutboundPacket> packets) = 0;
};

}  // namespace etherip

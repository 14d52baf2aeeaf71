// The network side: a socket for outer EtherIP packets of one address family
// in one domain (network namespace), shared by all tunnels there. Batch-
// shaped, like wireguard-go's conn.Bind.
#pragma once

#include <cstddef>
#include <span>

#include "core/error.h"
#include "core/ip_address.h"
#include "core/packet_buffer.h"

namespace etherip {

// The outer addresses of a received packet; its buffer holds the payload,
// from the EtherIP header on, whatever the family. Both unset: the socket
// could not parse the outer header (the payload is then the whole packet),
// which the receive decision counts as adrops.
struct InboundAddresses {
  IpAddress source;       // the peer
  IpAddress destination;  // ours
};

struct OutboundPacket {
  std::span<const uint8_t> payload;  // EtherIP header and frame
  IpAddress source;
  IpAddress destination;
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

  // Sends packets in order until one fails; the outer IP header is built
  // below this interface (by the kernel on Linux). EAGAIN: no room now; the
  // caller waits until the socket is writable and sends the rest again.
  virtual SendResult Send(std::span<const OutboundPacket> packets) = 0;
};

}  // namespace etherip

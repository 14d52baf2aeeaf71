// The send decision of SPEC 4: a frame read from an interface becomes an
// EtherIP payload for the tunnel's destination, or a counted drop.
#pragma once

#include <cstddef>

#include "core/counters.h"
#include "core/forwarding_table.h"
#include "core/packet_buffer.h"

namespace etherip {

struct SendVerdict {
  // Null when the frame was dropped (unknown interface, or no tunnel:
  // counted as the interface's oerrors).
  const ForwardingEntry* interface = nullptr;
  size_t frame_size = 0;  // the inner frame's bytes, for obytes
};

// On success the EtherIP header has been prepended to `packet` in its
// headroom: packet.data() is what goes after the outer IP header, to
// interface->tunnel.destination from interface->tunnel.source in
// interface->domain.
SendVerdict DecideSend(const ForwardingTable& table, InterfaceId interface,
                       PacketBuffer& packet);

// Counts the outcome of sending what DecideSend prepared: opackets and
// obytes (global and the interface's) when sent, the interface's oerrors
// when not.
void CountSendResult(const SendVerdict& verdict, bool sent,
                     GlobalCounters& counters);

}  // namespace etherip

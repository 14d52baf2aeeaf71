// The send decision of SPEC 4: a frame read from an interface becomes an
// EtherIP payload for the tunnel's destination, with the outer header
// fields the tunnel asks for, or a counted drop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/counters.h"
#include "core/forwarding_table.h"
#include "core/outer_header.h"
#include "core/packet_buffer.h"

namespace etherip {

struct SendVerdict {
  // Null when the frame was dropped (unknown interface; no tunnel, counted
  // as the interface's oerrors; the interface's own outer packet, counted
  // as loopdrops).
  const ForwardingEntry* interface = nullptr;
  size_t frame_size = 0;  // the inner frame's bytes, for obytes
  OuterFields outer;      // the outer header fields of this packet
};

// On success the EtherIP header has been prepended to `packet` in its
// headroom: packet.data() is what goes after the outer IP header, to
// interface->tunnel.destination from interface->tunnel.source in
// interface->domain, with `outer`'s fields. A frame that carries an outer
// packet of the interface's own tunnel (CarriesOwnTunnel) is dropped and
// counted in loopdrops, globally and on the interface.
SendVerdict DecideSend(const ForwardingTable& table, InterfaceId interface,
                       PacketBuffer& packet, GlobalCounters& counters);

// Counts the outcome of sending what DecideSend prepared: opackets and
// obytes (global and the interface's) when sent, the interface's oerrors
// when not.
void CountSendResult(const SendVerdict& verdict, bool sent,
                     GlobalCounters& counters);

// How many IP headers deep CarriesOwnTunnel looks: the frame's own packet
// and up to three EtherIP tunnels around the one it looks for.
inline constexpr int kLoopSearchDepth = 4;

// True when Ethernet frame `frame` holds, after any 802.1Q/802.1ad tags,
// an IPv4 or IPv6 packet of protocol 97 (as far as its EtherType and
// protocol byte tell): the frames CarriesOwnTunnel must look into. Inline:
// it runs for every frame sent, and says no to nearly all of them.
inline bool MayCarryEtherIp(std::span<const uint8_t> frame) {
  size_t at = 12;  // the EtherType, after the two MACs
  while (true) {
    if (frame.size() < at + 2) return false;
    const unsigned type = frame[at] << 8 | frame[at + 1];
    at += 2;
    if (type == 0x0800) {
      return frame.size() > at + 9 && frame[at + 9] == kIpProtocolEtherIp;
    }
    if (type == 0x86dd) {
      return frame.size() > at + 6 && frame[at + 6] == kIpProtocolEtherIp;
    }
    if (type != 0x8100 && type != 0x88a8) return false;
    at += 2;  // the rest of the VLAN tag
  }
}

// True when Ethernet frame `frame` (after any 802.1Q/802.1ad tags) holds an
// IPv4 or IPv6 packet of protocol 97 between `tunnel`'s two addresses, in
// either direction; or one of protocol 97 between other addresses whose
// EtherIP payload is a frame for which this holds, up to kLoopSearchDepth
// IP headers deep. IPv6: the fixed header's next header only (no extension
// headers are walked). A frame that is not protocol 97 costs a look at its
// EtherType and protocol byte.
bool CarriesOwnTunnel(std::span<const uint8_t> frame, const Tunnel& tunnel);

// The TOS (IPv4) or traffic class (IPv6) of the IP packet in Ethernet frame
// `frame` (after any 802.1Q/802.1ad tags); unset when it holds none.
std::optional<uint8_t> InnerTos(std::span<const uint8_t> frame);

// The outer TOS `tos inherit` sends for an inner TOS: its DSCP, with the
// ECN field Not-ECT (RFC 6040 compatibility mode: EtherIP decapsulators do
// not carry a congestion mark of the outer header into the frame).
inline uint8_t InheritedTos(uint8_t inner) { return inner & 0xfc; }

// The outer header fields of a packet of `entry`'s tunnel carrying `frame`:
// the tunnel's, with the TOS taken from the frame under `tos inherit`.
inline OuterFields OuterFieldsFor(const ForwardingEntry& entry,
                                  std::span<const uint8_t> frame) {
  OuterFields outer = entry.outer;
  if (entry.tos_inherit) [[unlikely]] {
    if (const auto tos = InnerTos(frame)) outer.tos = InheritedTos(*tos);
  }
  return outer;
}

}  // namespace etherip

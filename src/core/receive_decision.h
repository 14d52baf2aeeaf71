// The receive decision of SPEC 3: an outer packet that arrived in a domain
// becomes a frame for an interface, or a drop counted once, by name.
#pragma once

#include <cstdint>
#include <span>

#include "core/counters.h"
#include "core/forwarding_table.h"
#include "core/outer_header.h"

namespace etherip {

enum class ReceiveDrop : uint8_t {
  kNone = 0,
  kPolicy,       // allow is off: pdrops
  kNoInterface,  // no tunnel matches: noifdrops
  kMalformed,    // bad EtherIP header or frame too short: adrops
  kDown,         // the interface is not up: idrops
  // Not a drop: an EoIP keepalive (a header with nothing after it),
  // counted in keepalives and not delivered.
  kKeepalive,
};

struct ReceiveVerdict {
  ReceiveDrop drop = ReceiveDrop::kNone;
  const ForwardingEntry* interface = nullptr;  // set when delivered
  std::span<const uint8_t> frame;              // the inner Ethernet frame
};

// Decides and counts: pdrops, noifdrops, adrops or idrops (global and the
// interface's) on a drop; keepalives (global and the interface's) for an
// EoIP keepalive; the global and
// the interface's ipackets and ibytes (the bytes after the EtherIP header)
// on delivery. The lookup is by the standard key first (one lookup for a
// standard tunnel); only when no standard tunnel matches and the header
// has the EoIP form (an IPv6 packet) by the EoIP key with the header's ID. Both
// families take this one path: sockets hand over the outer addresses and the
// payload. Unset addresses mean that the outer header did not parse: adrops
// (after the allow check).
ReceiveVerdict DecideReceive(const ForwardingTable& table, bool allow,
                             DomainId arrival_domain, const OuterPacket& outer,
                             GlobalCounters& counters);

// DecideReceive for each packet of a batch (verdicts.size() >=
// packets.size()), with the batch's table lookups overlapped: every bucket
// is prefetched before any is read, then every interface's counters before
// any is written. Counts exactly as DecideReceive does, packet by packet.
void DecideReceiveBatch(const ForwardingTable& table, bool allow,
                        DomainId arrival_domain,
                        std::span<const OuterPacket> packets,
                        std::span<ReceiveVerdict> verdicts,
                        GlobalCounters& counters);

// The same for a whole IPv4 packet (header and options included), for
// tests and fuzzing: an outer header that does not parse counts as adrops
// (after the allow check).
ReceiveVerdict DecideReceiveIpv4(const ForwardingTable& table, bool allow,
                                 DomainId arrival_domain,
                                 std::span<const uint8_t> packet,
                                 GlobalCounters& counters);

}  // namespace etherip

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
};

struct ReceiveVerdict {
  ReceiveDrop drop = ReceiveDrop::kNone;
  const ForwardingEntry* interface = nullptr;  // set when delivered
  std::span<const uint8_t> frame;              // the inner Ethernet frame
};

// Decides and counts: pdrops, noifdrops, adrops or idrops (global and the
// interface's) on a drop; the global and
// the interface's ipackets and ibytes (the bytes after the EtherIP header)
// on delivery. Both families take this one path: sockets hand over the
// outer addresses and the payload. Unset addresses mean that the outer
// header did not parse: adrops (after the allow check).
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

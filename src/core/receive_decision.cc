#include "core/receive_decision.h"

#include "core/etherip_header.h"

namespace etherip {
namespace {

ReceiveVerdict Drop(ReceiveDrop reason, Counter& counter) {
  counter.Increment();
  return ReceiveVerdict{reason, nullptr, {}};
}

}  // namespace

ReceiveVerdict DecideReceive(const ForwardingTable& table, bool allow,
                             DomainId arrival_domain, const OuterPacket& outer,
                             GlobalCounters& counters) {
  if (!allow) return Drop(ReceiveDrop::kPolicy, counters.pdrops);
  // Our source is their destination and the other way round.
  const ForwardingEntry* entry =
      table.FindByTunnel(arrival_domain, outer.destination, outer.source);
  if (entry == nullptr) {
    return Drop(ReceiveDrop::kNoInterface, counters.noifdrops);
  }
  if (!HasValidEtherIpHeader(outer.payload) ||
      outer.payload.size() < kEtherIpHeaderSize + kEthernetHeaderSize) {
    return Drop(ReceiveDrop::kMalformed, counters.adrops);
  }
  const auto frame = outer.payload.subspan(kEtherIpHeaderSize);
  counters.ipackets.Increment();
  counters.ibytes.Add(frame.size());
  entry->counters->ipackets.Increment();
  entry->counters->ibytes.Add(frame.size());
  return ReceiveVerdict{ReceiveDrop::kNone, entry, frame};
}

ReceiveVerdict DecideReceiveIpv4(const ForwardingTable& table, bool allow,
                                 DomainId arrival_domain,
                                 std::span<const uint8_t> packet,
                                 GlobalCounters& counters) {
  if (!allow) return Drop(ReceiveDrop::kPolicy, counters.pdrops);
  const auto outer = ParseIpv4Packet(packet);
  if (!outer) return Drop(ReceiveDrop::kMalformed, counters.adrops);
  return DecideReceive(table, allow, arrival_domain, *outer, counters);
}

}  // namespace etherip

#include "core/receive_decision.h"

#include <algorithm>
#include <array>

#include "core/etherip_header.h"

namespace etherip {
namespace {

ReceiveVerdict Drop(ReceiveDrop reason, Counter& counter) {
  counter.Increment();
  return ReceiveVerdict{reason, nullptr, {}};
}

// Steps 2-4 of SPEC 3 once the lookup is done (`bucket` null: no tunnel).
ReceiveVerdict Conclude(const ForwardingTable& table,
                        const TunnelIndex::Bucket* bucket,
                        std::span<const uint8_t> payload, uint32_t ingress,
                        GlobalCounters& counters) {
  if (bucket == nullptr) {
    return Drop(ReceiveDrop::kNoInterface, counters.noifdrops);
  }
  const ForwardingEntry* entry = table.EntryAt(*bucket);
  // A zoned (link-local) tunnel is the one on its link only: the same
  // addresses seen through another interface are someone else.
  if (entry->tunnel.scope != 0 && ingress != 0 &&
      ingress != entry->tunnel.scope) {
    return Drop(ReceiveDrop::kNoInterface, counters.noifdrops);
  }
  if (entry->eoip.has_value()) [[unlikely]] {
    // Found by its EoIP key: the header (form and ID) matched already.
    if (payload.size() == kEtherIpHeaderSize) {
      bucket->counters->keepalives.Increment();
      counters.keepalives.Increment();
      return ReceiveVerdict{ReceiveDrop::kKeepalive, nullptr, {}};
    }
  } else if (!HasValidEtherIpHeader(payload, entry->header)) {
    return Drop(ReceiveDrop::kMalformed, counters.adrops);
  }
  if (payload.size() < kEtherIpHeaderSize + kEthernetHeaderSize) {
    return Drop(ReceiveDrop::kMalformed, counters.adrops);
  }
  if (!entry->up) {
    // The kernel would drop the frame: a link that is down takes none.
    bucket->counters->idrops.Increment();
    return Drop(ReceiveDrop::kDown, counters.idrops);
  }
  const auto frame = payload.subspan(kEtherIpHeaderSize);
  counters.ipackets.Increment();
  counters.ibytes.Add(frame.size());
  bucket->counters->ipackets.Increment();
  bucket->counters->ibytes.Add(frame.size());
  return ReceiveVerdict{ReceiveDrop::kNone, entry, frame};
}

// Unset addresses: the socket could not parse the outer header.
bool HasOuterAddresses(const OuterPacket& outer) {
  return outer.source.family() != Family::kNone;
}

// Our source is their destination and the other way round.
ForwardingKey KeyOf(DomainId arrival_domain, const IpAddress& source,
                    const IpAddress& destination) {
  return MakeForwardingKey(arrival_domain, destination, source);
}

// After the standard key found nothing: turns `key` into the EoIP key of
// the payload's header (true), or false when no EoIP tunnel can match (not
// IPv6, or not the EoIP form).
bool ToEoipKey(ForwardingKey& key, std::span<const uint8_t> payload) {
  if (key.family != static_cast<uint16_t>(Family::kIpv6)) return false;
  const auto id = EoipIdOf(payload);
  if (!id) return false;
  key.eoip = EoipKeyTag(*id);
  return true;
}

}  // namespace

ReceiveVerdict DecideReceive(const ForwardingTable& table, bool allow,
                             DomainId arrival_domain, const OuterPacket& outer,
                             GlobalCounters& counters) {
  if (!allow) return Drop(ReceiveDrop::kPolicy, counters.pdrops);
  if (!HasOuterAddresses(outer)) {
    return Drop(ReceiveDrop::kMalformed, counters.adrops);
  }
  ForwardingKey key = KeyOf(arrival_domain, outer.source, outer.destination);
  const TunnelIndex::Bucket* bucket =
      table.index().Find(key, TunnelIndex::Hash(key));
  if (bucket == nullptr && ToEoipKey(key, outer.payload)) {
    bucket = table.index().Find(key, TunnelIndex::Hash(key));
  }
  return Conclude(table, bucket, outer.payload, outer.ingress, counters);
}

namespace {

// A batch in flight: packets whose outer addresses are known, waiting for
// their lookups. Fixed size, on the stack: no allocation per packet.
class LookupPipeline {
 public:
  static constexpr size_t kDepth = 64;  // a whole recvmmsg batch

  LookupPipeline(const ForwardingTable& table,
                 std::span<ReceiveVerdict> verdicts, GlobalCounters& counters)
      : table_(table), verdicts_(verdicts), counters_(counters) {}

  // Queues the packet whose verdict goes to verdicts[position]; its bucket
  // is prefetched now. Flushes when the pipeline is full.
  void Add(size_t position, const ForwardingKey& key,
           std::span<const uint8_t> payload, uint32_t ingress) {
    if (count_ == kDepth) Flush();
    Pending& pending = pending_[count_++];
    pending.key = key;
    pending.hash = TunnelIndex::Hash(key);
    pending.position = position;
    pending.payload = payload;
    pending.eoip = false;
    pending.ingress = ingress;
    table_.index().Prefetch(pending.hash);
  }

  // Looks every queued packet up (prefetching its interface's counters, or
  // for a miss that may be EoIP the bucket of its EoIP key), then concludes
  // each (after the second lookup of those).
  void Flush() {
    const TunnelIndex& index = table_.index();
    for (size_t i = 0; i < count_; ++i) {
      Pending& pending = pending_[i];
      pending.hit = index.Find(pending.key, pending.hash);
      if (pending.hit != nullptr) {
        __builtin_prefetch(pending.hit->counters, 1);
      } else if (ToEoipKey(pending.key, pending.payload)) [[unlikely]] {
        pending.hash = TunnelIndex::Hash(pending.key);
        pending.eoip = true;
        index.Prefetch(pending.hash);
      }
    }
    for (size_t i = 0; i < count_; ++i) {
      Pending& pending = pending_[i];
      if (pending.eoip) [[unlikely]] {
        pending.hit = index.Find(pending.key, pending.hash);
        pending.eoip = false;
      }
      verdicts_[pending.position] = Conclude(
          table_, pending.hit, pending.payload, pending.ingress, counters_);
    }
    count_ = 0;
  }

 private:
  struct Pending {
    ForwardingKey key;
    uint64_t hash;
    size_t position;
    std::span<const uint8_t> payload;
    uint32_t ingress;
    const TunnelIndex::Bucket* hit;
    bool eoip;  // a second lookup, by the EoIP key, is due
  };
  const ForwardingTable& table_;
  std::span<ReceiveVerdict> verdicts_;
  GlobalCounters& counters_;
  std::array<Pending, kDepth> pending_;
  size_t count_ = 0;
};

// Every packet of a batch refused by policy (allow is off).
void DropAllByPolicy(size_t count, std::span<ReceiveVerdict> verdicts,
                     GlobalCounters& counters) {
  for (size_t i = 0; i < count; ++i) {
    verdicts[i] = Drop(ReceiveDrop::kPolicy, counters.pdrops);
  }
}

}  // namespace

void DecideReceiveBatch(const ForwardingTable& table, bool allow,
                        DomainId arrival_domain,
                        std::span<const OuterPacket> packets,
                        std::span<ReceiveVerdict> verdicts,
                        GlobalCounters& counters) {
  if (!allow) return DropAllByPolicy(packets.size(), verdicts, counters);
  LookupPipeline pipeline(table, verdicts, counters);
  for (size_t i = 0; i < packets.size(); ++i) {
    if (!HasOuterAddresses(packets[i])) {
      verdicts[i] = Drop(ReceiveDrop::kMalformed, counters.adrops);
      continue;
    }
    pipeline.Add(
        i, KeyOf(arrival_domain, packets[i].source, packets[i].destination),
        packets[i].payload, packets[i].ingress);
  }
  pipeline.Flush();
}

ReceiveVerdict DecideReceiveIpv4(const ForwardingTable& table, bool allow,
                                 DomainId arrival_domain,
                                 std::span<const uint8_t> packet,
                                 GlobalCounters& counters) {
  const auto outer = ParseIpv4Packet(packet);
  return DecideReceive(table, allow, arrival_domain,
                       outer ? *outer : OuterPacket{{}, {}, packet}, counters);
}

}  // namespace etherip

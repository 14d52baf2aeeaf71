// The forwarding table: the tunnel table as the forwarding path reads it,
// by interface id (send) and by tunnel key (receive). Built in bulk, then
// changed one interface at a time (Upsert, Erase) in O(1) amortised, by the
// one thread that reads it (the forwarding loop), between batches.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/counters.h"
#include "core/interface_options.h"
#include "core/tunnel_index.h"

namespace etherip {

using InterfaceId = uint32_t;  // dense: a destroyed interface's id is reused
using DomainId = uint32_t;     // 0 = the daemon's own namespace; never reused

// Builds the key of a tunnel as the receive path looks it up. Inline: it
// runs for every received packet.
// `eoip`: kStandardKeyTag, or EoipKeyTag(id) for an EoIP tunnel.
inline ForwardingKey MakeForwardingKey(DomainId domain, const IpAddress& local,
                                       const IpAddress& remote,
                                       uint16_t eoip = kStandardKeyTag) {
  ForwardingKey key;
  key.domain = domain;
  key.family = static_cast<uint16_t>(local.family());
  key.eoip = eoip;
  const auto l = local.bytes();
  const auto r = remote.bytes();
  // std::copy, not memcpy: an address of no family has an empty, null span.
  std::copy(l.begin(), l.end(), key.local.begin());
  std::copy(r.begin(), r.end(), key.remote.begin());
  return key;
}

struct ForwardingEntry {
  InterfaceId id = 0;
  DomainId domain = 0;
  bool has_tunnel = false;
  bool up = false;
  HeaderMode header = HeaderMode::kStandard;  // what is sent and accepted
  // Set: a MikroTik EoIPv6 tunnel with this ID (its header replaces the
  // header mode's), sending a keepalive every `keepalive` seconds (0: none).
  std::optional<uint16_t> eoip;
  uint32_t keepalive = 0;
  // The outer header fields of every packet sent (SPEC 8), the TOS unset
  // for the family's default; with tos_inherit, each packet's TOS comes
  // from its frame instead (DecideSend).
  bool tos_inherit = false;
  OuterFields outer;
  Tunnel tunnel;  // valid when has_tunnel
  InterfaceCounters* counters = nullptr;
};

// Which outer sockets the forwarding path needs: one per (family, domain).
struct Endpoint {
  Family family;
  DomainId domain;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

class ForwardingTable {
 public:
  ForwardingTable() = default;
  // Entries may come in any order; ids and tunnel keys must be distinct.
  // owners[i] keeps entries[i].counters alive as long as the table has it.
  ForwardingTable(std::vector<ForwardingEntry> entries,
                  std::vector<std::shared_ptr<InterfaceCounters>> owners);

  // Adds the interface entry.id, or replaces the entry with that id (and
  // reindexes its tunnel key if it changed). entry.counters is set to
  // counters.get(), which the table keeps alive. A tunnel key that another
  // entry has is taken over: that entry is then found by id only until it
  // is upserted or erased (a change set that swaps two tunnels passes
  // through this state). Returns the counters the table held for the id
  // before (null if none), so that the caller chooses when they are
  // released. O(1) amortised.
  std::shared_ptr<InterfaceCounters> Upsert(
      ForwardingEntry entry, std::shared_ptr<InterfaceCounters> counters);
  // Removes the interface `id`, if there; the last entry moves into its
  // slot (entries() order changes). Returns the counters the table held for
  // it (null if none), as Upsert does. O(1) amortised.
  std::shared_ptr<InterfaceCounters> Erase(InterfaceId id);

  // The interface whose tunnel is (domain, local -> remote), standard or
  // with EoIP ID `eoip`, or null.
  const ForwardingEntry* FindByTunnel(
      DomainId domain, const IpAddress& local, const IpAddress& remote,
      std::optional<uint16_t> eoip = std::nullopt) const {
    const ForwardingKey key = MakeForwardingKey(
        domain, local, remote, eoip ? EoipKeyTag(*eoip) : kStandardKeyTag);
    const TunnelIndex::Bucket* bucket =
        index_.Find(key, TunnelIndex::Hash(key));
    return bucket == nullptr ? nullptr : EntryAt(*bucket);
  }
  // The receive index, for batched lookups (DecideReceiveBatch).
  const TunnelIndex& index() const { return index_; }
  // The entry a bucket of index() names; computes the address only.
  const ForwardingEntry* EntryAt(const TunnelIndex::Bucket& bucket) const {
    return &entries_[bucket.slot()];
  }
  // The interface with this id, or null.
  const ForwardingEntry* FindById(InterfaceId id) const {
    if (id >= slot_of_id_.size() || slot_of_id_[id] == kNoSlot) return nullptr;
    return &entries_[slot_of_id_[id]];
  }
  // In no particular order.
  const std::vector<ForwardingEntry>& entries() const { return entries_; }
  // Distinct (family, domain) pairs of the tunnels, in a stable order.
  std::vector<Endpoint> Endpoints() const;

 private:
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  static ForwardingKey KeyOf(const ForwardingEntry& entry) {
    return MakeForwardingKey(
        entry.domain, entry.tunnel.source, entry.tunnel.destination,
        entry.eoip ? EoipKeyTag(*entry.eoip) : kStandardKeyTag);
  }
  // Makes the index send entries_[slot]'s tunnel key to `slot` (taking the
  // key over from another entry if one has it).
  void Index(uint32_t slot);
  // Removes entries_[slot]'s tunnel key from the index if it names `slot`.
  void Unindex(uint32_t slot);

  std::vector<ForwardingEntry> entries_;                    // dense
  std::vector<std::shared_ptr<InterfaceCounters>> owners_;  // by slot
  std::vector<uint32_t> slot_of_id_;  // kNoSlot: no such interface
  TunnelIndex index_;
};

}  // namespace etherip

// The forwarding snapshot: an immutable view of the tunnel table that the
// forwarding path reads without locks. The control plane builds a new one on
// every change and publishes it; packets in flight keep the old one alive.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/counters.h"
#include "core/interface_options.h"
#include "core/tunnel_index.h"

namespace etherip {

using InterfaceId = uint32_t;  // dense: a destroyed interface's id is reused
using DomainId = uint32_t;     // 0 = the daemon's own namespace; never reused

// Builds the key of a tunnel as the receive path looks it up. Inline: it
// runs for every received packet.
inline ForwardingKey MakeForwardingKey(DomainId domain, const IpAddress& local,
                                       const IpAddress& remote) {
  ForwardingKey key;
  key.domain = domain;
  key.family = static_cast<uint32_t>(local.family());
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
  // Entries may come in any order; ids must be distinct. The counters
  // outlive the table through `owners`.
  ForwardingTable(std::vector<ForwardingEntry> entries,
                  std::vector<std::shared_ptr<InterfaceCounters>> owners);

  // The interface whose tunnel is (domain, local -> remote), or null.
  const ForwardingEntry* FindByTunnel(DomainId domain, const IpAddress& local,
                                      const IpAddress& remote) const {
    const ForwardingKey key = MakeForwardingKey(domain, local, remote);
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
  const std::vector<ForwardingEntry>& entries() const { return entries_; }
  // Distinct (family, domain) pairs of the tunnels, in a stable order.
  std::vector<Endpoint> Endpoints() const;

 private:
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  std::vector<ForwardingEntry> entries_;
  std::vector<uint32_t> slot_of_id_;
  TunnelIndex index_;
  std::vector<std::shared_ptr<InterfaceCounters>> owners_;
};

}  // namespace etherip

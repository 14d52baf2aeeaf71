// The forwarding snapshot: an immutable view of the tunnel table that the
// forwarding path reads without locks. The control plane builds a new one on
// every change and publishes it; packets in flight keep the old one alive.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>

#include "core/counters.h"
#include "core/interface_options.h"

namespace etherip {

using InterfaceId = uint32_t;  // dense: a destroyed interface's id is reused
using DomainId = uint32_t;     // 0 = the daemon's own namespace; never reused

// (domain, local, remote): what identifies a tunnel on receive. 40 bytes
// without padding, hashed as one block.
struct ForwardingKey {
  uint32_t domain = 0;
  uint32_t family = 0;
  std::array<uint8_t, 16> local{};
  std::array<uint8_t, 16> remote{};

  static ForwardingKey Of(DomainId domain, const IpAddress& local,
                          const IpAddress& remote);
  friend bool operator==(const ForwardingKey&, const ForwardingKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const ForwardingKey& key) {
    return H::combine_contiguous(std::move(h),
                                 reinterpret_cast<const char*>(&key),
                                 sizeof key);
  }
};
static_assert(sizeof(ForwardingKey) == 40);

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
    auto it = by_key_.find(ForwardingKey::Of(domain, local, remote));
    return it == by_key_.end() ? nullptr : &entries_[it->second];
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
  absl::flat_hash_map<ForwardingKey, uint32_t> by_key_;
  std::vector<std::shared_ptr<InterfaceCounters>> owners_;
};

}  // namespace etherip

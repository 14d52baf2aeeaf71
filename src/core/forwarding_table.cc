#include "core/forwarding_table.h"

#include <algorithm>
#include <utility>

namespace etherip {

ForwardingTable::ForwardingTable(
    std::vector<ForwardingEntry> entries,
    std::vector<std::shared_ptr<InterfaceCounters>> owners)
    : entries_(std::move(entries)), owners_(std::move(owners)) {
  owners_.resize(entries_.size());
  InterfaceId max_id = 0;
  for (const auto& entry : entries_) max_id = std::max(max_id, entry.id);
  slot_of_id_.assign(entries_.empty() ? 0 : max_id + 1, kNoSlot);
  std::vector<TunnelIndex::Item> items;
  items.reserve(entries_.size());
  for (uint32_t slot = 0; slot < entries_.size(); ++slot) {
    const ForwardingEntry& entry = entries_[slot];
    slot_of_id_[entry.id] = slot;
    if (entry.has_tunnel) items.push_back({KeyOf(entry), slot, entry.counters});
  }
  index_ = TunnelIndex(items);
}

void ForwardingTable::Index(uint32_t slot) {
  const ForwardingEntry& entry = entries_[slot];
  if (!entry.has_tunnel) return;
  const TunnelIndex::Item item{KeyOf(entry), slot, entry.counters};
  if (!index_.Update(item)) index_.Insert(item);
}

void ForwardingTable::Unindex(uint32_t slot) {
  const ForwardingEntry& entry = entries_[slot];
  if (!entry.has_tunnel) return;
  const ForwardingKey key = KeyOf(entry);
  const TunnelIndex::Bucket* bucket = index_.Find(key, TunnelIndex::Hash(key));
  if (bucket != nullptr && bucket->slot() == slot) index_.Erase(key);
}

std::shared_ptr<InterfaceCounters> ForwardingTable::Upsert(
    ForwardingEntry entry, std::shared_ptr<InterfaceCounters> counters) {
  entry.counters = counters.get();
  const InterfaceId id = entry.id;
  if (id >= slot_of_id_.size()) slot_of_id_.resize(id + 1, kNoSlot);
  uint32_t slot = slot_of_id_[id];
  std::shared_ptr<InterfaceCounters> released;
  if (slot == kNoSlot) {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.push_back(entry);
    owners_.push_back(std::move(counters));
    slot_of_id_[id] = slot;
  } else {
    const ForwardingEntry& old = entries_[slot];
    // Same key: Index below repoints its bucket in place.
    if (old.has_tunnel && !(entry.has_tunnel && KeyOf(old) == KeyOf(entry))) {
      Unindex(slot);
    }
    entries_[slot] = entry;
    released = std::exchange(owners_[slot], std::move(counters));
  }
  Index(slot);
  return released;
}

std::shared_ptr<InterfaceCounters> ForwardingTable::Erase(InterfaceId id) {
  if (id >= slot_of_id_.size() || slot_of_id_[id] == kNoSlot) return nullptr;
  const uint32_t slot = slot_of_id_[id];
  Unindex(slot);
  std::shared_ptr<InterfaceCounters> released = std::move(owners_[slot]);
  const auto last = static_cast<uint32_t>(entries_.size() - 1);
  if (slot != last) {
    // The last entry fills the hole: its id and its bucket follow it.
    entries_[slot] = entries_[last];
    owners_[slot] = std::move(owners_[last]);
    const ForwardingEntry& moved = entries_[slot];
    slot_of_id_[moved.id] = slot;
    if (moved.has_tunnel) {
      const ForwardingKey key = KeyOf(moved);
      const TunnelIndex::Bucket* bucket =
          index_.Find(key, TunnelIndex::Hash(key));
      if (bucket != nullptr && bucket->slot() == last) {
        index_.Update({key, slot, moved.counters});
      }
    }
  }
  entries_.pop_back();
  owners_.pop_back();
  slot_of_id_[id] = kNoSlot;
  return released;
}

std::vector<Endpoint> ForwardingTable::Endpoints() const {
  std::vector<Endpoint> endpoints;
  for (const auto& entry : entries_) {
    if (!entry.has_tunnel) continue;
    Endpoint endpoint{entry.tunnel.source.family(), entry.domain};
    if (std::find(endpoints.begin(), endpoints.end(), endpoint) ==
        endpoints.end()) {
      endpoints.push_back(endpoint);
    }
  }
  std::sort(endpoints.begin(), endpoints.end(), [](auto& a, auto& b) {
    return std::pair(a.domain, a.family) < std::pair(b.domain, b.family);
  });
  return endpoints;
}

}  // namespace etherip

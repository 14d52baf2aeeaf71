#include "core/forwarding_table.h"

#include <algorithm>

namespace etherip {

ForwardingTable::ForwardingTable(
    std::vector<ForwardingEntry> entries,
    std::vector<std::shared_ptr<InterfaceCounters>> owners)
    : entries_(std::move(entries)), owners_(std::move(owners)) {
  InterfaceId max_id = 0;
  for (const auto& entry : entries_) max_id = std::max(max_id, entry.id);
  slot_of_id_.assign(entries_.empty() ? 0 : max_id + 1, kNoSlot);
  std::vector<TunnelIndex::Item> items;
  items.reserve(entries_.size());
  for (uint32_t slot = 0; slot < entries_.size(); ++slot) {
    const ForwardingEntry& entry = entries_[slot];
    slot_of_id_[entry.id] = slot;
    if (entry.has_tunnel) {
      items.push_back({MakeForwardingKey(entry.domain, entry.tunnel.source,
                                         entry.tunnel.destination),
                       slot, entry.counters});
    }
  }
  index_ = TunnelIndex(items);
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

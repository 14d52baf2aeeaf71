#include "core/tunnel_index.h"

#include <sys/mman.h>

#include <bit>
#include <cstdlib>
#include <new>

namespace etherip {

TunnelIndex::TunnelIndex(std::span<const Item> items) {
  if (items.empty()) return;
  // Load factor at most 1/2: probe sequences stay short, and a lookup for
  // a key that is not there (noifdrops) stops at an empty bucket quickly.
  const uint64_t capacity = std::bit_ceil(uint64_t{items.size()} * 2);
  // Large tables sit on transparent huge pages where the kernel allows it:
  // with 4 KiB pages, random lookups over 100 000 tunnels miss the TLB too.
  constexpr size_t kHugePage = 2 << 20;
  const size_t bytes = capacity * sizeof(Bucket);
  const size_t alignment = bytes >= kHugePage ? kHugePage : alignof(Bucket);
  const size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  void* memory = std::aligned_alloc(alignment, rounded);
  if (memory == nullptr) throw std::bad_alloc();
  if (alignment == kHugePage) (void)madvise(memory, rounded, MADV_HUGEPAGE);
  buckets_.reset(new (memory) Bucket[capacity]);
  mask_ = capacity - 1;
  for (const Item& item : items) {
    uint64_t i = Hash(item.key) & mask_;
    while (buckets_[i].slot_plus_one != 0) i = (i + 1) & mask_;
    buckets_[i].key = item.key;
    buckets_[i].slot_plus_one = item.slot + 1;
    buckets_[i].counters = item.counters;
  }
}

void TunnelIndex::FreeBuckets::operator()(Bucket* buckets) const {
  std::free(buckets);  // Bucket is trivially destructible
}

}  // namespace etherip

#include "core/tunnel_index.h"

#include <sys/mman.h>

#include <bit>
#include <cstdlib>
#include <new>

namespace etherip {

namespace {

// Large tables sit on transparent huge pages where the kernel allows it:
// with 4 KiB pages, random lookups over 100 000 tunnels miss the TLB too.
void* AllocateBuckets(uint64_t capacity) {
  constexpr size_t kHugePage = 2 << 20;
  const size_t bytes = capacity * sizeof(TunnelIndex::Bucket);
  const size_t alignment =
      bytes >= kHugePage ? kHugePage : alignof(TunnelIndex::Bucket);
  const size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  void* memory = std::aligned_alloc(alignment, rounded);
  if (memory == nullptr) throw std::bad_alloc();
  if (alignment == kHugePage) (void)madvise(memory, rounded, MADV_HUGEPAGE);
  return memory;
}

}  // namespace

uint64_t TunnelIndex::CapacityFor(size_t items) {
  // Load factor at most 1/2: probe sequences stay short, and a lookup for
  // a key that is not there (noifdrops) stops at an empty bucket quickly.
  return std::bit_ceil(uint64_t{items} * 2);
}

TunnelIndex::TunnelIndex(std::span<const Item> items) {
  if (items.empty()) return;
  Rehash(CapacityFor(items.size()));
  for (const Item& item : items) {
    Bucket bucket;
    bucket.key = item.key;
    bucket.slot_plus_one = item.slot + 1;
    bucket.counters = item.counters;
    Place(bucket);
  }
  size_ = items.size();
}

void TunnelIndex::Rehash(uint64_t capacity) {
  const uint64_t old_capacity = this->capacity();
  auto old = std::move(buckets_);
  buckets_.reset(new (AllocateBuckets(capacity)) Bucket[capacity]);
  mask_ = capacity - 1;
  for (uint64_t i = 0; i < old_capacity; ++i) {
    if (old[i].slot_plus_one != 0) Place(old[i]);
  }
}

void TunnelIndex::Place(const Bucket& bucket) {
  uint64_t i = Hash(bucket.key) & mask_;
  while (buckets_[i].slot_plus_one != 0) i = (i + 1) & mask_;
  buckets_[i] = bucket;
}

TunnelIndex::Bucket* TunnelIndex::FindBucket(const ForwardingKey& key) {
  return const_cast<Bucket*>(Find(key, Hash(key)));
}

void TunnelIndex::Insert(const Item& item) {
  if ((size_ + 1) * 2 > capacity()) Rehash(CapacityFor(size_ + 1));
  Bucket bucket;
  bucket.key = item.key;
  bucket.slot_plus_one = item.slot + 1;
  bucket.counters = item.counters;
  Place(bucket);
  ++size_;
}

bool TunnelIndex::Update(const Item& item) {
  Bucket* bucket = FindBucket(item.key);
  if (bucket == nullptr) return false;
  bucket->slot_plus_one = item.slot + 1;
  bucket->counters = item.counters;
  return true;
}

bool TunnelIndex::Erase(const ForwardingKey& key) {
  Bucket* found = FindBucket(key);
  if (found == nullptr) return false;
  // Backward shift: walk the rest of the cluster and move up each key whose
  // probe sequence passes the hole (its home is not in (hole, i]), so every
  // key stays reachable from its home without crossing an empty bucket.
  uint64_t hole = static_cast<uint64_t>(found - buckets_.get());
  for (uint64_t i = (hole + 1) & mask_; buckets_[i].slot_plus_one != 0;
       i = (i + 1) & mask_) {
    const uint64_t home = Hash(buckets_[i].key) & mask_;
    if (((i - home) & mask_) >= ((i - hole) & mask_)) {
      buckets_[hole] = buckets_[i];
      hole = i;
    }
  }
  buckets_[hole] = Bucket{};
  --size_;
  if (size_ == 0) {
    buckets_.reset();
    mask_ = 0;
  } else if (size_ * 8 < capacity()) {
    // Back to the bulk load. Every rehash leaves the load in (1/4, 1/2], so
    // a shrink comes after at least as many erases as keys remain, which
    // also pay for a grow that may follow it: O(1) amortised.
    Rehash(CapacityFor(size_));
  }
  return true;
}

void TunnelIndex::FreeBuckets::operator()(Bucket* buckets) const {
  std::free(buckets);  // Bucket is trivially destructible
}

}  // namespace etherip

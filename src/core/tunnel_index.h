// The receive-side index of the forwarding table: tunnel key -> interface.
// Built in bulk, then changed one key at a time (Insert, Update, Erase) by
// the one thread that also reads it.
//
// Why not absl::flat_hash_map (which the control plane uses): a receive
// lookup with keys spread over 100 000 tunnels is bound by cache misses, and
// a Swiss table costs a control-byte miss, a slot miss, then the entry and
// the counters. Here one 64-byte bucket holds the key, the interface's slot
// and its counters' address, so a hit is one line, and callers with a batch
// can prefetch every bucket before looking at any (DecideReceiveBatch).
// Measured in bench/etherip_bench.cc.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

#include "core/counters.h"

namespace etherip {

// The `eoip` field of a standard tunnel's key; an EoIP tunnel's is its
// tunnel ID + 1 (EoipKeyTag).
inline constexpr uint16_t kStandardKeyTag = 0;
constexpr uint16_t EoipKeyTag(uint16_t id) {
  return static_cast<uint16_t>(id + 1);
}

// (domain, local, remote, EoIP ID): what identifies a tunnel on receive. 40
// bytes without padding, compared and hashed as one block.
struct ForwardingKey {
  uint32_t domain = 0;
  uint16_t family = 0;
  uint16_t eoip = kStandardKeyTag;  // kStandardKeyTag or EoipKeyTag(id)
  std::array<uint8_t, 16> local{};
  std::array<uint8_t, 16> remote{};

  friend bool operator==(const ForwardingKey&, const ForwardingKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const ForwardingKey& key) {
    return H::combine_contiguous(
        std::move(h), reinterpret_cast<const char*>(&key), sizeof key);
  }
};
static_assert(sizeof(ForwardingKey) == 40);

class TunnelIndex {
 public:
  struct alignas(64) Bucket {
    ForwardingKey key;
    uint32_t slot_plus_one = 0;  // 0: empty
    uint32_t unused = 0;
    InterfaceCounters* counters = nullptr;
    uint32_t slot() const { return slot_plus_one - 1; }
  };
  static_assert(sizeof(Bucket) == 64);

  struct Item {
    ForwardingKey key;
    uint32_t slot;
    InterfaceCounters* counters;
  };

  TunnelIndex() = default;
  // Keys must be distinct.
  explicit TunnelIndex(std::span<const Item> items);
  // A moved-from index is empty.
  TunnelIndex(TunnelIndex&& other) noexcept { *this = std::move(other); }
  TunnelIndex& operator=(TunnelIndex&& other) noexcept {
    buckets_ = std::move(other.buckets_);
    mask_ = std::exchange(other.mask_, 0);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  // Adds item.key, which must not be present. Amortised O(1): the buckets
  // double (one rehash) when the load would pass 1/2, the load factor the
  // bulk constructor builds with.
  void Insert(const Item& item);
  // Points item.key, which is present, at item's slot and counters; false
  // (and no change) when the key is not there.
  bool Update(const Item& item);
  // Removes `key`; false when it was not there. Linear probing with
  // backward-shift deletion: the entries after it in its cluster move up,
  // so no tombstones lengthen later probes. The buckets halve (one rehash)
  // when the load falls under 1/8; the last erase frees them.
  bool Erase(const ForwardingKey& key);

  static uint64_t Hash(const ForwardingKey& key) {
    uint64_t w[5];
    std::memcpy(w, &key, sizeof w);
    // wyhash-style multiply-fold of the five words.
    const uint64_t a = Fold(w[0] ^ 0xa0761d6478bd642full, w[1] ^ kSeed);
    const uint64_t b = Fold(w[2] ^ 0xe7037ed1a0b428dbull, w[3] ^ kSeed);
    return Fold(a ^ b, w[4] ^ 0x8ebc6af09c88c6e3ull);
  }
  void Prefetch(uint64_t hash) const {
    if (buckets_) __builtin_prefetch(&buckets_[hash & mask_]);
  }
  const Bucket* Find(const ForwardingKey& key, uint64_t hash) const {
    if (!buckets_) return nullptr;
    for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Bucket& bucket = buckets_[i];
      if (bucket.slot_plus_one == 0) return nullptr;
      if (std::memcmp(&bucket.key, &key, sizeof key) == 0) return &bucket;
    }
  }
  size_t capacity() const { return buckets_ ? mask_ + 1 : 0; }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kSeed = 0x589965cc75374cc3ull;
  static uint64_t Fold(uint64_t a, uint64_t b) {
    const unsigned __int128 product =
        static_cast<unsigned __int128>(a) * static_cast<unsigned __int128>(b);
    return static_cast<uint64_t>(product) ^
           static_cast<uint64_t>(product >> 64);
  }

  // Buckets for `items` keys at a load of at most 1/2.
  static uint64_t CapacityFor(size_t items);
  // Moves every key into `capacity` (a power of two) new, empty buckets.
  void Rehash(uint64_t capacity);
  // Places a key known to be absent, without growing.
  void Place(const Bucket& bucket);
  Bucket* FindBucket(const ForwardingKey& key);

  struct FreeBuckets {
    void operator()(Bucket* buckets) const;
  };
  std::unique_ptr<Bucket[], FreeBuckets> buckets_;
  uint64_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace etherip

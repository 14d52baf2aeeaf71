#include "core/tunnel_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace etherip {
namespace {

// A distinct key per n (the remote address carries n).
ForwardingKey KeyOf(uint32_t n) {
  ForwardingKey key;
  key.family = 4;
  key.local = {192, 0, 2, 1};
  key.remote = {203, 0, static_cast<uint8_t>(n >> 16),
                static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  return key;
}

// The index against a std::map model: every key of the model is found with
// its slot and counters, and `absent` keys are not.
void ExpectMatches(const TunnelIndex& index,
                   const std::map<uint32_t, uint32_t>& model,
                   const std::vector<uint32_t>& absent = {}) {
  ASSERT_EQ(index.size(), model.size());
  // The bulk load factor: at most 1/2.
  EXPECT_GE(index.capacity(), 2 * index.size());
  for (const auto& [n, slot] : model) {
    const ForwardingKey key = KeyOf(n);
    const TunnelIndex::Bucket* bucket = index.Find(key, TunnelIndex::Hash(key));
    ASSERT_NE(bucket, nullptr) << n;
    EXPECT_EQ(bucket->slot(), slot) << n;
    EXPECT_EQ(bucket->counters,
              reinterpret_cast<InterfaceCounters*>(uintptr_t{slot + 1} * 64));
  }
  for (uint32_t n : absent) {
    const ForwardingKey key = KeyOf(n);
    EXPECT_EQ(index.Find(key, TunnelIndex::Hash(key)), nullptr) << n;
  }
}

TunnelIndex::Item ItemOf(uint32_t n, uint32_t slot) {
  // A recognisable, never dereferenced counters address per slot.
  return {KeyOf(n), slot,
          reinterpret_cast<InterfaceCounters*>(uintptr_t{slot + 1} * 64)};
}

TEST(TunnelIndex, InsertGrowsFromEmptyAndKeepsEveryKey) {
  TunnelIndex index;
  std::map<uint32_t, uint32_t> model;
  for (uint32_t n = 0; n < 1000; ++n) {
    index.Insert(ItemOf(n, n));
    model[n] = n;
    if (n % 97 == 0) ExpectMatches(index, model, {n + 1, n + 5000});
  }
  ExpectMatches(index, model, {1000, 1001});
  EXPECT_EQ(index.capacity(), 2048u);
}

TEST(TunnelIndex, UpdateRepointsAPresentKeyOnly) {
  TunnelIndex index;
  index.Insert(ItemOf(1, 0));
  EXPECT_TRUE(index.Update(ItemOf(1, 7)));
  EXPECT_FALSE(index.Update(ItemOf(2, 3)));
  ExpectMatches(index, {{1, 7}}, {2});
}

TEST(TunnelIndex, EraseShrinksAndTheLastOneFreesTheBuckets) {
  std::vector<TunnelIndex::Item> items;
  std::map<uint32_t, uint32_t> model;
  for (uint32_t n = 0; n < 500; ++n) {
    items.push_back(ItemOf(n, n));
    model[n] = n;
  }
  TunnelIndex index(items);
  EXPECT_EQ(index.capacity(), 1024u);
  for (uint32_t n = 0; n < 500; ++n) {
    ASSERT_TRUE(index.Erase(KeyOf(n)));
    EXPECT_FALSE(index.Erase(KeyOf(n)));
    model.erase(n);
    if (n % 50 == 0 || model.size() < 4) ExpectMatches(index, model, {n});
    // Never under 1/8 full.
    if (!model.empty()) {
      EXPECT_LE(index.capacity(), 8 * model.size());
    }
  }
  EXPECT_EQ(index.capacity(), 0u);
  EXPECT_EQ(index.Find(KeyOf(0), TunnelIndex::Hash(KeyOf(0))), nullptr);
  index.Insert(ItemOf(3, 3));  // usable again
  ExpectMatches(index, {{3, 3}}, {0});
}

// Keys whose home bucket, at `capacity`, is `home`.
std::vector<uint32_t> KeysHomedAt(uint64_t home, uint64_t capacity,
                                  size_t count, uint32_t from) {
  std::vector<uint32_t> keys;
  for (uint32_t n = from; keys.size() < count; ++n) {
    if ((TunnelIndex::Hash(KeyOf(n)) & (capacity - 1)) == home) {
      keys.push_back(n);
    }
  }
  return keys;
}

// One cluster that runs off the end of the buckets and wraps to the front:
// erasing any key of it must leave every other reachable (backward shift
// across the wrap), whichever key goes.
TEST(TunnelIndex, EraseInAClusterThatWrapsAround) {
  constexpr uint64_t kCapacity = 32;  // 16 keys at most, load 1/2
  // Inserted in this order they fill buckets 30 and 31 (homed at 30), 0 to
  // 2 (homed at 31) and 3 and 4 (homed at 0).
  const std::vector<uint32_t> second_last =
      KeysHomedAt(kCapacity - 2, kCapacity, 2, 0);
  const std::vector<uint32_t> last =
      KeysHomedAt(kCapacity - 1, kCapacity, 3, 0);
  const std::vector<uint32_t> first = KeysHomedAt(0, kCapacity, 2, 0);
  std::vector<uint32_t> cluster;
  for (const auto* keys : {&second_last, &last, &first}) {
    cluster.insert(cluster.end(), keys->begin(), keys->end());
  }
  // Fillers elsewhere give the index its 32 buckets and no more.
  std::vector<uint32_t> fillers = KeysHomedAt(10, kCapacity, 9, 0);
  for (size_t victim = 0; victim < cluster.size(); ++victim) {
    std::vector<TunnelIndex::Item> items;
    std::map<uint32_t, uint32_t> model;
    uint32_t slot = 0;
    for (const auto* keys : {&cluster, &fillers}) {
      for (uint32_t n : *keys) {
        items.push_back(ItemOf(n, slot));
        model[n] = slot++;
      }
    }
    TunnelIndex index(items);
    ASSERT_EQ(index.capacity(), kCapacity);
    ASSERT_TRUE(index.Erase(KeyOf(cluster[victim])));
    model.erase(cluster[victim]);
    ExpectMatches(index, model, {cluster[victim]});
    // And the cluster empties in any order from there.
    for (uint32_t n : cluster) {
      if (n == cluster[victim]) continue;
      ASSERT_TRUE(index.Erase(KeyOf(n)));
      model.erase(n);
      ExpectMatches(index, model, {n});
    }
  }
}

TEST(TunnelIndex, RandomInsertsAndErasesMatchAMap) {
  std::mt19937 random(97);
  TunnelIndex index;
  std::map<uint32_t, uint32_t> model;
  // Phases grow the index (many keys live) and shrink it (few), so growth,
  // shrinking and erases in every kind of cluster are all exercised.
  for (uint32_t universe : {64u, 3000u, 40u, 2000u, 8u}) {
    std::uniform_int_distribution<uint32_t> pick(0, universe - 1);
    for (int step = 0; step < 6000; ++step) {
      const uint32_t n = pick(random);
      const uint32_t slot = pick(random);
      if (random() % 3 == 0) {
        EXPECT_EQ(index.Erase(KeyOf(n)), model.erase(n) == 1);
      } else if (model.contains(n)) {
        ASSERT_TRUE(index.Update(ItemOf(n, slot)));
        model[n] = slot;
      } else {
        index.Insert(ItemOf(n, slot));
        model[n] = slot;
      }
      if (step % 500 == 0) ExpectMatches(index, model, {n + 1'000'000});
    }
    // About half goes: the next phase starts from a shrinking index.
    for (auto it = model.begin(); it != model.end();) {
      if (random() % 2 == 0) {
        ASSERT_TRUE(index.Erase(KeyOf(it->first)));
        it = model.erase(it);
      } else {
        ++it;
      }
    }
    ExpectMatches(index, model);
  }
}

}  // namespace
}  // namespace etherip

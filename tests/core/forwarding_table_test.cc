#include "core/forwarding_table.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "core/core_fixtures.h"

namespace etherip {
namespace {

using testing_support::Ip;
using testing_support::MakeTunnel;

struct Built {
  std::vector<ForwardingEntry> entries;
  std::vector<std::shared_ptr<InterfaceCounters>> owners;

  void Add(InterfaceId id, DomainId domain, std::optional<Tunnel> tunnel) {
    auto counters = std::make_shared<InterfaceCounters>();
    ForwardingEntry entry;
    entry.id = id;
    entry.domain = domain;
    entry.has_tunnel = tunnel.has_value();
    if (tunnel) entry.tunnel = *tunnel;
    entry.counters = counters.get();
    entries.push_back(entry);
    owners.push_back(std::move(counters));
  }
  ForwardingTable Table() { return ForwardingTable(entries, owners); }
};

TEST(ForwardingKey, IsFortyBytesAndPadsIpv4WithZeros) {
  const ForwardingKey key =
      MakeForwardingKey(7, Ip("192.0.2.1"), Ip("198.51.100.2"));
  EXPECT_EQ(key.domain, 7u);
  EXPECT_EQ(key.family, 4u);
  EXPECT_EQ(key.local, (std::array<uint8_t, 16>{192, 0, 2, 1}));
  EXPECT_EQ(key.remote, (std::array<uint8_t, 16>{198, 51, 100, 2}));
}

TEST(ForwardingKey, DistinguishesIpv4FromIpv6WithTheSameLeadingBytes) {
  // c000:201:: starts with the bytes of 192.0.2.1.
  EXPECT_NE(MakeForwardingKey(0, Ip("192.0.2.1"), Ip("192.0.2.2")),
            MakeForwardingKey(0, Ip("c000:201::"), Ip("c000:202::")));
}

TEST(ForwardingTable, FindByTunnelMatchesDomainLocalAndRemoteExactly) {
  Built built;
  built.Add(0, 0, MakeTunnel("192.0.2.1", "192.0.2.2"));
  built.Add(1, 3, MakeTunnel("192.0.2.1", "192.0.2.2"));
  built.Add(2, 0, MakeTunnel("2001:db8::1", "2001:db8::2"));
  const ForwardingTable table = built.Table();
  ASSERT_NE(table.FindByTunnel(0, Ip("192.0.2.1"), Ip("192.0.2.2")), nullptr);
  EXPECT_EQ(table.FindByTunnel(0, Ip("192.0.2.1"), Ip("192.0.2.2"))->id, 0u);
  EXPECT_EQ(table.FindByTunnel(3, Ip("192.0.2.1"), Ip("192.0.2.2"))->id, 1u);
  EXPECT_EQ(table.FindByTunnel(0, Ip("2001:db8::1"), Ip("2001:db8::2"))->id,
            2u);
  EXPECT_EQ(table.FindByTunnel(1, Ip("192.0.2.1"), Ip("192.0.2.2")), nullptr);
  EXPECT_EQ(table.FindByTunnel(0, Ip("192.0.2.2"), Ip("192.0.2.1")), nullptr);
  EXPECT_EQ(table.FindByTunnel(0, Ip("192.0.2.1"), Ip("192.0.2.3")), nullptr);
  EXPECT_EQ(table.FindByTunnel(0, Ip("c000:201::"), Ip("c000:202::")), nullptr);
  EXPECT_EQ(table.FindByTunnel(3, Ip("2001:db8::1"), Ip("2001:db8::2")),
            nullptr);
}

TEST(ForwardingTable, FindByIdHandlesSparseIdsInAnyOrder) {
  Built built;
  built.Add(5, 0, std::nullopt);
  built.Add(0, 0, MakeTunnel("192.0.2.1", "192.0.2.2"));
  built.Add(2, 0, std::nullopt);
  const ForwardingTable table = built.Table();
  for (InterfaceId id : {0u, 2u, 5u}) {
    ASSERT_NE(table.FindById(id), nullptr) << id;
    EXPECT_EQ(table.FindById(id)->id, id);
  }
  for (InterfaceId id : {1u, 3u, 4u, 6u, 1000u, UINT32_MAX}) {
    EXPECT_EQ(table.FindById(id), nullptr) << id;
  }
}

TEST(ForwardingTable, InterfacesWithoutTunnelAreFoundByIdOnly) {
  Built built;
  built.Add(0, 0, std::nullopt);
  const ForwardingTable table = built.Table();
  ASSERT_NE(table.FindById(0), nullptr);
  EXPECT_FALSE(table.FindById(0)->has_tunnel);
  // A default (addressless) tunnel must not be found either.
  EXPECT_EQ(table.FindByTunnel(0, IpAddress(), IpAddress()), nullptr);
}

TEST(ForwardingTable, EmptyTableFindsNothing) {
  const ForwardingTable table({}, {});
  EXPECT_EQ(table.FindById(0), nullptr);
  EXPECT_EQ(table.FindByTunnel(0, Ip("192.0.2.1"), Ip("192.0.2.2")), nullptr);
  EXPECT_TRUE(table.entries().empty());
  EXPECT_TRUE(table.Endpoints().empty());
}

TEST(ForwardingTable, EndpointsAreDistinctSortedByDomainThenFamily) {
  Built built;
  built.Add(0, 2, MakeTunnel("2001:db8::1", "2001:db8::2"));
  built.Add(1, 0, MakeTunnel("2001:db8::1", "2001:db8::3"));
  built.Add(2, 2, MakeTunnel("192.0.2.1", "192.0.2.2"));
  built.Add(3, 0, MakeTunnel("192.0.2.1", "192.0.2.2"));
  built.Add(4, 0, MakeTunnel("192.0.2.1", "192.0.2.3"));
  built.Add(5, 7, std::nullopt);  // no tunnel: needs no socket
  const ForwardingTable table = built.Table();
  const std::vector<Endpoint> expected = {
      {Family::kIpv4, 0},
      {Family::kIpv6, 0},
      {Family::kIpv4, 2},
      {Family::kIpv6, 2},
  };
  EXPECT_EQ(table.Endpoints(), expected);
}

TEST(ForwardingTable, KeepsCountersAliveThroughItsOwners) {
  Built built;
  built.Add(0, 0, MakeTunnel("192.0.2.1", "192.0.2.2"));
  const ForwardingTable table = built.Table();
  built.owners.clear();
  table.FindById(0)->counters->oerrors.Increment();
  EXPECT_EQ(table.FindById(0)->counters->oerrors.Get(), 1u);
}

TEST(ForwardingTable, ScalesToManyTunnels) {
  Built built;
  for (InterfaceId id = 0; id < 5000; ++id) {
    const std::array<uint8_t, 4> remote = {
        198, 51, static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
    built.Add(id, id % 3, Tunnel{Ip("192.0.2.1"), IpAddress::V4(remote)});
  }
  const ForwardingTable table = built.Table();
  for (InterfaceId id = 0; id < 5000; ++id) {
    const std::array<uint8_t, 4> remote = {
        198, 51, static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
    const ForwardingEntry* entry =
        table.FindByTunnel(id % 3, Ip("192.0.2.1"), IpAddress::V4(remote));
    ASSERT_NE(entry, nullptr) << id;
    EXPECT_EQ(entry->id, id);
    EXPECT_EQ(table.FindByTunnel((id + 1) % 3, Ip("192.0.2.1"),
                                 IpAddress::V4(remote)),
              nullptr);
  }
}

// --- changes in place ---

ForwardingEntry EntryOf(InterfaceId id, DomainId domain,
                        std::optional<Tunnel> tunnel) {
  ForwardingEntry entry;
  entry.id = id;
  entry.domain = domain;
  entry.has_tunnel = tunnel.has_value();
  if (tunnel) entry.tunnel = *tunnel;
  return entry;
}

// Tunnel n of a pool: 192.0.2.1 -> 198.51.x.y.
Tunnel PoolTunnel(uint32_t n) {
  const std::array<uint8_t, 4> remote = {198, 51, static_cast<uint8_t>(n >> 8),
                                         static_cast<uint8_t>(n)};
  return Tunnel{Ip("192.0.2.1"), IpAddress::V4(remote)};
}

TEST(ForwardingTable, UpsertAddsAndReplacesAnInterface) {
  ForwardingTable table;
  auto first = std::make_shared<InterfaceCounters>();
  EXPECT_EQ(table.Upsert(EntryOf(3, 0, PoolTunnel(1)), first), nullptr);
  ASSERT_NE(table.FindById(3), nullptr);
  EXPECT_EQ(table.FindById(3)->counters, first.get());
  EXPECT_EQ(table.FindByTunnel(0, Ip("192.0.2.1"), PoolTunnel(1).destination),
            table.FindById(3));

  // The same id with another tunnel, in another domain, and new counters:
  // the old key is gone, the old counters are handed back.
  auto second = std::make_shared<InterfaceCounters>();
  EXPECT_EQ(table.Upsert(EntryOf(3, 2, PoolTunnel(2)), second), first);
  EXPECT_EQ(table.entries().size(), 1u);
  EXPECT_EQ(table.FindById(3)->counters, second.get());
  EXPECT_EQ(table.FindById(3)->domain, 2u);
  EXPECT_EQ(table.FindByTunnel(0, Ip("192.0.2.1"), PoolTunnel(1).destination),
            nullptr);
  EXPECT_EQ(table.FindByTunnel(2, Ip("192.0.2.1"), PoolTunnel(2).destination),
            table.FindById(3));
  EXPECT_EQ(table.index().size(), 1u);

  // Same key, new counters: the index hands out the new ones.
  auto third = std::make_shared<InterfaceCounters>();
  EXPECT_EQ(table.Upsert(EntryOf(3, 2, PoolTunnel(2)), third), second);
  const ForwardingKey key =
      MakeForwardingKey(2, Ip("192.0.2.1"), PoolTunnel(2).destination);
  EXPECT_EQ(table.index().Find(key, TunnelIndex::Hash(key))->counters,
            third.get());

  // No tunnel any more: found by id only.
  table.Upsert(EntryOf(3, 2, std::nullopt), third);
  EXPECT_EQ(table.FindByTunnel(2, Ip("192.0.2.1"), PoolTunnel(2).destination),
            nullptr);
  EXPECT_EQ(table.index().size(), 0u);
  EXPECT_FALSE(table.FindById(3)->has_tunnel);
}

TEST(ForwardingTable, EraseMovesTheLastEntryIntoTheHole) {
  Built built;
  for (InterfaceId id = 0; id < 4; ++id) built.Add(id, 0, PoolTunnel(id));
  ForwardingTable table = built.Table();
  const InterfaceCounters* last = built.owners[3].get();
  built.owners.clear();
  EXPECT_NE(table.Erase(1), nullptr);
  EXPECT_EQ(table.Erase(1), nullptr);
  EXPECT_EQ(table.Erase(99), nullptr);
  EXPECT_EQ(table.entries().size(), 3u);
  EXPECT_EQ(table.FindById(1), nullptr);
  EXPECT_EQ(table.FindByTunnel(0, Ip("192.0.2.1"), PoolTunnel(1).destination),
            nullptr);
  // Interface 3 now sits where 1 was, found by id and by tunnel, with its
  // counters (kept alive by the table).
  const ForwardingEntry* moved = table.FindById(3);
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(moved, &table.entries()[1]);
  EXPECT_EQ(moved->counters, last);
  EXPECT_EQ(table.FindByTunnel(0, Ip("192.0.2.1"), PoolTunnel(3).destination),
            moved);
  moved->counters->ipackets.Increment();
  EXPECT_EQ(moved->counters->ipackets.Get(), 1u);
}

// A reload that swaps two interfaces' tunnels arrives as two upserts: in
// between, both would have one key. The second takes it over, and once the
// first has its new key, each is found by its own.
TEST(ForwardingTable, UpsertsThatSwapTwoTunnelsPassThroughATakeover) {
  Built built;
  built.Add(0, 0, PoolTunnel(10));
  built.Add(1, 0, PoolTunnel(11));
  ForwardingTable table = built.Table();
  const IpAddress local = Ip("192.0.2.1");
  table.Upsert(EntryOf(0, 0, PoolTunnel(11)), built.owners[0]);
  EXPECT_EQ(table.FindByTunnel(0, local, PoolTunnel(11).destination)->id, 0u);
  EXPECT_EQ(table.FindByTunnel(0, local, PoolTunnel(10).destination), nullptr);
  EXPECT_EQ(table.FindById(1)->tunnel, PoolTunnel(11));  // by id only
  table.Upsert(EntryOf(1, 0, PoolTunnel(10)), built.owners[1]);
  EXPECT_EQ(table.FindByTunnel(0, local, PoolTunnel(10).destination)->id, 1u);
  EXPECT_EQ(table.FindByTunnel(0, local, PoolTunnel(11).destination)->id, 0u);
  EXPECT_EQ(table.index().size(), 2u);

  // An erase of the one that lost a key never removes the other's.
  table.Upsert(EntryOf(1, 0, PoolTunnel(11)), built.owners[1]);
  table.Erase(0);
  EXPECT_EQ(table.FindByTunnel(0, local, PoolTunnel(11).destination)->id, 1u);
}

// Random upserts and erases against a std::map model: every interface is
// found by id with its entry and counters, and by tunnel when it has one;
// erased ids and unused tunnels are not found. The phases grow the table
// to thousands of interfaces and shrink it back, so the index grows,
// shrinks and erases inside clusters of every shape.
TEST(ForwardingTable, RandomUpsertsAndErasesMatchAMap) {
  struct Model {
    std::optional<uint32_t> tunnel;  // PoolTunnel(n)
    DomainId domain;
    std::shared_ptr<InterfaceCounters> counters;
  };
  std::map<InterfaceId, Model> model;
  std::map<std::pair<DomainId, uint32_t>, InterfaceId> by_tunnel;
  ForwardingTable table;
  std::mt19937 random(7);

  auto check = [&](uint32_t id_range, uint32_t pool) {
    ASSERT_EQ(table.entries().size(), model.size());
    ASSERT_EQ(table.index().size(), by_tunnel.size());
    for (InterfaceId id = 0; id < id_range; ++id) {
      const ForwardingEntry* entry = table.FindById(id);
      auto it = model.find(id);
      if (it == model.end()) {
        ASSERT_EQ(entry, nullptr) << id;
        continue;
      }
      ASSERT_NE(entry, nullptr) << id;
      EXPECT_EQ(entry->id, id);
      EXPECT_EQ(entry->domain, it->second.domain);
      EXPECT_EQ(entry->counters, it->second.counters.get());
      ASSERT_EQ(entry->has_tunnel, it->second.tunnel.has_value()) << id;
      if (entry->has_tunnel) {
        EXPECT_EQ(entry->tunnel, PoolTunnel(*it->second.tunnel));
      }
    }
    for (DomainId domain = 0; domain < 2; ++domain) {
      for (uint32_t n = 0; n < pool; ++n) {
        const ForwardingEntry* entry = table.FindByTunnel(
            domain, Ip("192.0.2.1"), PoolTunnel(n).destination);
        auto it = by_tunnel.find({domain, n});
        if (it == by_tunnel.end()) {
          ASSERT_EQ(entry, nullptr) << domain << " " << n;
        } else {
          ASSERT_NE(entry, nullptr) << domain << " " << n;
          EXPECT_EQ(entry->id, it->second);
        }
      }
    }
  };

  struct Phase {
    uint32_t ids;    // interface ids drawn from [0, ids)
    uint32_t pool;   // tunnels drawn from [0, pool)
    int erase_in_8;  // erases per 8 steps
    int steps;
  };
  for (const Phase phase :
       {Phase{50, 80, 3, 4000}, Phase{3000, 6000, 1, 9000},
        Phase{3000, 6000, 7, 9000}, Phase{20, 30, 4, 2000}}) {
    std::uniform_int_distribution<uint32_t> pick_id(0, phase.ids - 1);
    std::uniform_int_distribution<uint32_t> pick_tunnel(0, phase.pool - 1);
    for (int step = 0; step < phase.steps; ++step) {
      const InterfaceId id = pick_id(random);
      auto it = model.find(id);
      if (static_cast<int>(random() % 8) < phase.erase_in_8) {
        EXPECT_EQ(table.Erase(id) != nullptr, it != model.end());
        if (it != model.end()) {
          if (it->second.tunnel) {
            by_tunnel.erase({it->second.domain, *it->second.tunnel});
          }
          model.erase(it);
        }
      } else {
        Model next;
        next.domain = random() % 2;
        // A tunnel no other interface has (as the tunnel table ensures),
        // or none.
        if (random() % 5 != 0) {
          const uint32_t n = pick_tunnel(random);
          auto owner = by_tunnel.find({next.domain, n});
          if (owner == by_tunnel.end() || owner->second == id) next.tunnel = n;
        }
        // Sometimes new counters (a new interface with a reused id).
        next.counters = it != model.end() && random() % 4 != 0
                            ? it->second.counters
                            : std::make_shared<InterfaceCounters>();
        if (it != model.end() && it->second.tunnel) {
          by_tunnel.erase({it->second.domain, *it->second.tunnel});
        }
        if (next.tunnel) by_tunnel[{next.domain, *next.tunnel}] = id;
        table.Upsert(
            EntryOf(id, next.domain,
                    next.tunnel ? std::optional(PoolTunnel(*next.tunnel))
                                : std::nullopt),
            next.counters);
        model[id] = std::move(next);
      }
      const bool large = phase.ids > 100;
      if (step % (large ? 1500 : 40) == 0) check(phase.ids + 2, phase.pool);
    }
    check(phase.ids + 2, phase.pool);
  }
  for (auto& [id, entry] : model) ASSERT_NE(table.Erase(id), nullptr);
  EXPECT_TRUE(table.entries().empty());
  EXPECT_EQ(table.index().size(), 0u);
}

}  // namespace
}  // namespace etherip

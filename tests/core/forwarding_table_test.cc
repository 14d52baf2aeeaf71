#include "core/forwarding_table.h"

#include <gtest/gtest.h>

#include <memory>
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

}  // namespace
}  // namespace etherip

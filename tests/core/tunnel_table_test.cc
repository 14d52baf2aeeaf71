#include "core/tunnel_table.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/core_fixtures.h"

namespace etherip {
namespace {

using testing_support::FakeDomains;
using testing_support::Ip;
using testing_support::MakeTunnel;
using testing_support::Options;
using testing_support::SequentialMac;
using testing_support::SequentialMacs;
using testing_support::SnapshotOf;
using testing_support::ViewOf;

// Claims every domain exists, to show which names the table refuses itself.
class EveryDomain : public DomainCatalog {
 public:
  bool Exists(std::string_view) const override { return true; }
};

class TunnelTableTest : public ::testing::Test {
 protected:
  const InterfaceState& MustCreate(std::string_view name,
                                   std::initializer_list<std::string> words) {
    auto created = table_.Create(name, Options(words), domains_);
    if (!created) ADD_FAILURE() << name << ": " << created.error().message;
    return *created.value();
  }
  Status Set(std::string_view name, std::initializer_list<std::string> words) {
    return table_.Set(name, Options(words), domains_);
  }

  // Expects `status` to be a refusal with `code` whose message contains
  // `part`, and the table and its snapshot to be as they were.
  template <typename R>
  void ExpectRefusedAndUnchanged(const R& result, int code,
                                 std::string_view part) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, code) << result.error().message;
    EXPECT_NE(result.error().message.find(part), std::string::npos)
        << result.error().message;
    EXPECT_EQ(ViewOf(table_), before_);
    EXPECT_EQ(SnapshotOf(table_), snapshot_before_);
  }
  void RememberState() {
    before_ = ViewOf(table_);
    snapshot_before_ = SnapshotOf(table_);
  }

  FakeDomains domains_{"blue", "red"};
  TunnelTable table_{SequentialMacs()};
  std::vector<testing_support::InterfaceView> before_;
  std::vector<testing_support::EntryView> snapshot_before_;
};

// --- create ---

TEST_F(TunnelTableTest, CreateWithoutOptionsGivesTheDefaults) {
  const InterfaceState& state = MustCreate("etherip0", {});
  EXPECT_EQ(state.name, "etherip0");
  EXPECT_EQ(state.id, 0u);
  EXPECT_FALSE(state.settings.up);
  EXPECT_EQ(state.settings.mtu, 1500u);
  EXPECT_FALSE(state.settings.tunnel);
  EXPECT_EQ(state.settings.domain, "");
  EXPECT_EQ(state.settings.lladdr, SequentialMac(1));
  ASSERT_NE(state.counters, nullptr);
  EXPECT_EQ(state.counters->Read(), InterfaceCounterValues{});
  EXPECT_EQ(table_.size(), 1u);
}

TEST_F(TunnelTableTest, CreateAppliesOptions) {
  const InterfaceState& state = MustCreate(
      "etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue", "up",
                   "mtu", "1400", "lladdr", "fe:e1:ba:d0:00:01"});
  EXPECT_EQ(state.settings.tunnel, MakeTunnel("192.0.2.1", "192.0.2.2"));
  EXPECT_EQ(state.settings.domain, "blue");
  EXPECT_TRUE(state.settings.up);
  EXPECT_EQ(state.settings.mtu, 1400u);
  EXPECT_EQ(state.settings.lladdr.ToString(), "fe:e1:ba:d0:00:01");
}

TEST_F(TunnelTableTest, CreateOptionOrderDoesNotMatter) {
  auto a = table_.PrepareCreate(
      "etherip0",
      Options({"domain", "blue", "tunnel", "192.0.2.1", "192.0.2.2"}),
      domains_);
  auto b = table_.PrepareCreate(
      "etherip0",
      Options({"tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue"}),
      domains_);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->tunnel, b->tunnel);
  EXPECT_EQ(a->domain, b->domain);
}

TEST_F(TunnelTableTest, PrepareCreateChangesNothing) {
  auto settings = table_.PrepareCreate(
      "etherip0", Options({"tunnel", "192.0.2.1", "192.0.2.2"}), domains_);
  ASSERT_TRUE(settings);
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(table_.Find("etherip0"), nullptr);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2")),
            nullptr);
  EXPECT_TRUE(table_.BuildForwardingTable().entries().empty());
}

TEST_F(TunnelTableTest, CreateRefusesInvalidNames) {
  RememberState();
  for (std::string name : {"", "0123456789abcdef", "a/b", "a%d", "a:1", "a b",
                           "a\tb", ".", ".."}) {
    ExpectRefusedAndUnchanged(table_.Create(name, {}, domains_), EINVAL,
                              "invalid interface name");
  }
}

TEST_F(TunnelTableTest, CreateRefusesAnExistingNameWithEexist) {
  MustCreate("etherip0", {"mtu", "1400"});
  RememberState();
  ExpectRefusedAndUnchanged(
      table_.Create("etherip0", Options({"mtu", "9000"}), domains_), EEXIST,
      "");
}

TEST_F(TunnelTableTest, CreateRefusesUnknownDomain) {
  RememberState();
  ExpectRefusedAndUnchanged(
      table_.Create("etherip0", Options({"domain", "green"}), domains_), EINVAL,
      "domain green: no such domain");
}

TEST_F(TunnelTableTest, RefusesDomainNamesThatCannotNameANamespace) {
  EveryDomain every;
  RememberState();
  for (const std::string& domain :
       std::vector<std::string>{".", "..", "a/b", std::string(256, 'n'),
                                std::string("blue\0x", 6)}) {
    ExpectRefusedAndUnchanged(
        table_.Create("etherip0", Options({"domain", domain}), every), EINVAL,
        "no such domain");
  }
  EXPECT_TRUE(
      table_.Create("etherip0", Options({"domain", "anything"}), every));
}

TEST_F(TunnelTableTest, CreateRefusesBadOptionValuesWithEinval) {
  RememberState();
  ExpectRefusedAndUnchanged(
      table_.Create("etherip0", Options({"tunnel", "192.0.2.1", "2001:db8::2"}),
                    domains_),
      EINVAL, "invalid argument");
  ExpectRefusedAndUnchanged(
      table_.Create("etherip0", Options({"up", "mtu", "67"}), domains_), EINVAL,
      "mtu 67");
  ExpectRefusedAndUnchanged(
      table_.Create("etherip0", Options({"lladdr", "ff:ff:ff:ff:ff:ff"}),
                    domains_),
      EINVAL, "not a unicast address");
}

TEST_F(TunnelTableTest, CreateRefusesDuplicateTunnelWithEaddrnotavail) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  RememberState();
  ExpectRefusedAndUnchanged(
      table_.Create("etherip1", Options({"tunnel", "192.0.2.1", "192.0.2.2"}),
                    domains_),
      EADDRNOTAVAIL, "tunnel 192.0.2.1 -> 192.0.2.2: address not available");
}

TEST_F(TunnelTableTest, DuplicateIpv6TunnelIsRefusedWhateverTheSpelling) {
  MustCreate("etherip0", {"tunnel", "2001:db8::1", "2001:db8::2"});
  RememberState();
  ExpectRefusedAndUnchanged(
      table_.Create("etherip1",
                    Options({"tunnel", "2001:DB8:0:0::1", "2001:db8::0:2"}),
                    domains_),
      EADDRNOTAVAIL, "address not available");
}

TEST_F(TunnelTableTest, SameTunnelInDifferentDomainsIsAllowed) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  MustCreate("etherip1",
             {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue"});
  MustCreate("etherip2", {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "red"});
  const Tunnel tunnel = MakeTunnel("192.0.2.1", "192.0.2.2");
  EXPECT_EQ(table_.FindByTunnel("", tunnel)->name, "etherip0");
  EXPECT_EQ(table_.FindByTunnel("blue", tunnel)->name, "etherip1");
  EXPECT_EQ(table_.FindByTunnel("red", tunnel)->name, "etherip2");
}

TEST_F(TunnelTableTest, ReversedTunnelIsADifferentTunnel) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  MustCreate("etherip1", {"tunnel", "192.0.2.2", "192.0.2.1"});
  EXPECT_EQ(table_.size(), 2u);
}

TEST_F(TunnelTableTest, TunnelsSharingOneEndAreAllowed) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  MustCreate("etherip1", {"tunnel", "192.0.2.1", "192.0.2.3"});
  MustCreate("etherip2", {"tunnel", "192.0.2.4", "192.0.2.2"});
  EXPECT_EQ(table_.size(), 3u);
}

// --- set ---

TEST_F(TunnelTableTest, SetChangesOnlyWhatItNames) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "1400"});
  ASSERT_TRUE(Set("etherip0", {"up"}));
  const InterfaceState* state = table_.Find("etherip0");
  EXPECT_TRUE(state->settings.up);
  EXPECT_EQ(state->settings.mtu, 1400u);
  EXPECT_EQ(state->settings.tunnel, MakeTunnel("192.0.2.1", "192.0.2.2"));
  EXPECT_EQ(state->settings.lladdr, SequentialMac(1));
}

TEST_F(TunnelTableTest, SetKeepsTheRandomMacAndTheCounters) {
  const InterfaceState& created = MustCreate("etherip0", {});
  const auto* counters = created.counters.get();
  const InterfaceId id = created.id;
  ASSERT_TRUE(Set("etherip0", {"mtu", "9000", "tunnel", "192.0.2.1",
                               "192.0.2.2", "domain", "blue"}));
  const InterfaceState* state = table_.Find("etherip0");
  EXPECT_EQ(state->settings.lladdr, SequentialMac(1));
  EXPECT_EQ(state->counters.get(), counters);
  EXPECT_EQ(state->id, id);
}

TEST_F(TunnelTableTest, SetRefusesUnknownInterfaceWithEnxio) {
  MustCreate("etherip0", {});
  RememberState();
  ExpectRefusedAndUnchanged(Set("etherip1", {"up"}), ENXIO,
                            "no such interface");
}

TEST_F(TunnelTableTest, SetRefusesDuplicateTunnelAndChangesNothing) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  MustCreate("etherip1", {"tunnel", "192.0.2.1", "192.0.2.3"});
  RememberState();
  ExpectRefusedAndUnchanged(
      Set("etherip1",
          {"up", "mtu", "1400", "tunnel", "192.0.2.1", "192.0.2.2"}),
      EADDRNOTAVAIL, "tunnel 192.0.2.1 -> 192.0.2.2: address not available");
}

TEST_F(TunnelTableTest, SetRefusesDomainChangeThatWouldDuplicate) {
  // The reference does not re-check on a domain change; SPEC 3 does.
  MustCreate("etherip0",
             {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue"});
  MustCreate("etherip1", {"tunnel", "192.0.2.1", "192.0.2.2"});
  RememberState();
  ExpectRefusedAndUnchanged(Set("etherip1", {"domain", "blue"}), EADDRNOTAVAIL,
                            "address not available");
  ExpectRefusedAndUnchanged(Set("etherip0", {"-domain"}), EADDRNOTAVAIL,
                            "address not available");
}

TEST_F(TunnelTableTest, SetRefusesUnknownDomainAndChangesNothing) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  RememberState();
  ExpectRefusedAndUnchanged(Set("etherip0", {"up", "domain", "green"}), EINVAL,
                            "domain green: no such domain");
}

TEST_F(TunnelTableTest, SetRefusesABadValueAfterGoodOnesAndChangesNothing) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  RememberState();
  ExpectRefusedAndUnchanged(
      Set("etherip0", {"up", "mtu", "9000", "-tunnel", "lladdr", "zz"}), EINVAL,
      "lladdr zz");
  ExpectRefusedAndUnchanged(
      Set("etherip0", {"tunnel", "192.0.2.9", "192.0.2.2", "mtu", "65001"}),
      EINVAL, "mtu 65001");
}

TEST_F(TunnelTableTest, SetOwnTunnelAgainIsAllowed) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  EXPECT_TRUE(Set("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2"))->name,
            "etherip0");
}

TEST_F(TunnelTableTest, SetDomainMovesTheTunnel) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  ASSERT_TRUE(Set("etherip0", {"domain", "blue"}));
  const Tunnel tunnel = MakeTunnel("192.0.2.1", "192.0.2.2");
  EXPECT_EQ(table_.FindByTunnel("", tunnel), nullptr);
  EXPECT_EQ(table_.FindByTunnel("blue", tunnel)->name, "etherip0");
  // Its old place is free.
  MustCreate("etherip1", {"tunnel", "192.0.2.1", "192.0.2.2"});
}

TEST_F(TunnelTableTest, ChangingATunnelFreesTheOldOne) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  ASSERT_TRUE(Set("etherip0", {"tunnel", "192.0.2.1", "192.0.2.3"}));
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2")),
            nullptr);
  MustCreate("etherip1", {"tunnel", "192.0.2.1", "192.0.2.2"});
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.3"))->name,
            "etherip0");
}

TEST_F(TunnelTableTest, RemovingATunnelFreesIt) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "up"});
  ASSERT_TRUE(Set("etherip0", {"-tunnel"}));
  EXPECT_FALSE(table_.Find("etherip0")->settings.tunnel);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2")),
            nullptr);
  MustCreate("etherip1", {"tunnel", "192.0.2.1", "192.0.2.2"});
}

TEST_F(TunnelTableTest, SwappingTunnelsOneByOneIsRefusedMidway) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  MustCreate("etherip1", {"tunnel", "192.0.2.1", "192.0.2.3"});
  RememberState();
  ExpectRefusedAndUnchanged(
      Set("etherip0", {"tunnel", "192.0.2.1", "192.0.2.3"}), EADDRNOTAVAIL,
      "address not available");
}

// --- destroy and ids ---

TEST_F(TunnelTableTest, DestroyRefusesUnknownInterfaceWithEnxio) {
  MustCreate("etherip0", {});
  RememberState();
  ExpectRefusedAndUnchanged(table_.Destroy("etherip1"), ENXIO,
                            "no such interface");
  ExpectRefusedAndUnchanged(table_.PrepareDestroy("etherip1"), ENXIO,
                            "no such interface");
}

TEST_F(TunnelTableTest, DestroyFreesNameTunnelAndId) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  ASSERT_TRUE(table_.Destroy("etherip0"));
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(table_.Find("etherip0"), nullptr);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2")),
            nullptr);
  const InterfaceState& again =
      MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  EXPECT_EQ(again.id, 0u);
}

TEST_F(TunnelTableTest, IdsAreDenseAndTheLowestFreeIdIsReused) {
  EXPECT_EQ(MustCreate("a", {}).id, 0u);
  EXPECT_EQ(MustCreate("b", {}).id, 1u);
  EXPECT_EQ(MustCreate("c", {}).id, 2u);
  ASSERT_TRUE(table_.Destroy("b"));
  ASSERT_TRUE(table_.Destroy("a"));
  EXPECT_EQ(MustCreate("d", {}).id, 0u);
  EXPECT_EQ(MustCreate("e", {}).id, 1u);
  EXPECT_EQ(MustCreate("f", {}).id, 3u);
}

TEST_F(TunnelTableTest, NewInterfaceAfterDestroyGetsFreshCounters) {
  const InterfaceState& first = MustCreate("etherip0", {});
  first.counters->ipackets.Add(5);
  ASSERT_TRUE(table_.Destroy("etherip0"));
  EXPECT_EQ(MustCreate("etherip0", {}).counters->Read(),
            InterfaceCounterValues{});
}

// --- lookups and listing ---

TEST_F(TunnelTableTest, FindByTunnelComparesDomainSourceAndDestination) {
  MustCreate("etherip0",
             {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue"});
  EXPECT_EQ(
      table_.FindByTunnel("blue", MakeTunnel("192.0.2.1", "192.0.2.2"))->name,
      "etherip0");
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2")),
            nullptr);
  EXPECT_EQ(table_.FindByTunnel("blue", MakeTunnel("192.0.2.2", "192.0.2.1")),
            nullptr);
  EXPECT_EQ(table_.FindByTunnel("blue", MakeTunnel("192.0.2.1", "192.0.2.3")),
            nullptr);
}

TEST_F(TunnelTableTest, ListIsOrderedByName) {
  MustCreate("etherip2", {});
  MustCreate("etherip10", {});
  MustCreate("etherip1", {});
  std::vector<std::string> names;
  for (const InterfaceState* state : table_.List())
    names.push_back(state->name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"etherip1", "etherip10", "etherip2"}));
}

TEST_F(TunnelTableTest, RunningNeedsUpATunnelAndAnExistingDomain) {
  const InterfaceState& a =
      MustCreate("a", {"up", "tunnel", "192.0.2.1", "192.0.2.2"});
  const InterfaceState& b =
      MustCreate("b", {"tunnel", "192.0.2.1", "192.0.2.3"});
  const InterfaceState& c = MustCreate("c", {"up"});
  const InterfaceState& d = MustCreate(
      "d", {"up", "tunnel", "192.0.2.1", "192.0.2.4", "domain", "blue"});
  EXPECT_TRUE(TunnelTable::IsRunning(a, domains_));
  EXPECT_FALSE(TunnelTable::IsRunning(b, domains_));  // down
  EXPECT_FALSE(TunnelTable::IsRunning(c, domains_));  // no tunnel
  EXPECT_TRUE(TunnelTable::IsRunning(d, domains_));
  domains_.Remove("blue");
  EXPECT_FALSE(TunnelTable::IsRunning(d, domains_));  // domain gone
  EXPECT_TRUE(TunnelTable::IsRunning(a, domains_));
}

TEST_F(TunnelTableTest, RemovingTheTunnelStopsRunning) {
  MustCreate("a", {"up", "tunnel", "192.0.2.1", "192.0.2.2"});
  ASSERT_TRUE(Set("a", {"-tunnel"}));
  EXPECT_FALSE(TunnelTable::IsRunning(*table_.Find("a"), domains_));
}

TEST_F(TunnelTableTest, DomainIdsAreInternedAndStable) {
  EXPECT_EQ(table_.DomainIdOf(""), 0u);
  const DomainId blue = table_.DomainIdOf("blue");
  const DomainId red = table_.DomainIdOf("red");
  EXPECT_NE(blue, 0u);
  EXPECT_NE(red, blue);
  EXPECT_EQ(table_.DomainIdOf("blue"), blue);
  EXPECT_EQ(table_.DomainName(blue), "blue");
  EXPECT_EQ(table_.DomainName(red), "red");
  EXPECT_EQ(table_.DomainName(0), "");
  EXPECT_EQ(table_.DomainName(1000), "");
}

// --- the forwarding snapshot ---

TEST_F(TunnelTableTest, SnapshotMirrorsTheTable) {
  const InterfaceState& a = MustCreate(
      "a", {"up", "tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue"});
  const InterfaceState& b = MustCreate("b", {});
  const ForwardingTable snapshot = table_.BuildForwardingTable();
  const ForwardingEntry* ea = snapshot.FindById(a.id);
  ASSERT_NE(ea, nullptr);
  EXPECT_TRUE(ea->has_tunnel);
  EXPECT_EQ(ea->tunnel, MakeTunnel("192.0.2.1", "192.0.2.2"));
  EXPECT_EQ(ea->domain, table_.DomainIdOf("blue"));
  EXPECT_TRUE(ea->up);
  EXPECT_EQ(ea->counters, a.counters.get());
  const ForwardingEntry* eb = snapshot.FindById(b.id);
  ASSERT_NE(eb, nullptr);
  EXPECT_FALSE(eb->has_tunnel);
  EXPECT_FALSE(eb->up);
  EXPECT_EQ(snapshot.FindByTunnel(table_.DomainIdOf("blue"), Ip("192.0.2.1"),
                                  Ip("192.0.2.2")),
            ea);
  EXPECT_EQ(snapshot.FindByTunnel(0, Ip("192.0.2.1"), Ip("192.0.2.2")),
            nullptr);
}

// The entry of one interface, as a change publishes it, is the one the
// whole table would have.
TEST_F(TunnelTableTest, EntryOfIsTheInterfacesEntryInTheWholeTable) {
  MustCreate("a", {"up", "tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue"});
  MustCreate("b", {});
  MustCreate("c", {"tunnel", "2001:db8::1", "2001:db8::2"});
  const ForwardingTable whole = table_.BuildForwardingTable();
  std::vector<ForwardingEntry> entries;
  std::vector<std::shared_ptr<InterfaceCounters>> owners;
  for (const InterfaceState* state : table_.List()) {
    entries.push_back(table_.EntryOf(*state));
    owners.push_back(state->counters);
  }
  EXPECT_EQ(testing_support::ViewOf(ForwardingTable(entries, owners)),
            testing_support::ViewOf(whole));
  EXPECT_EQ(table_.EntryOf(*table_.Find("a")).domain,
            table_.DomainIdOf("blue"));
}

TEST_F(TunnelTableTest, OldSnapshotKeepsDestroyedInterfacesCountersAlive) {
  MustCreate("a", {"tunnel", "192.0.2.1", "192.0.2.2"});
  const ForwardingTable snapshot = table_.BuildForwardingTable();
  ASSERT_TRUE(table_.Destroy("a"));
  // Packets in flight still count into the old snapshot's counters.
  snapshot.entries()[0].counters->ipackets.Increment();
  EXPECT_EQ(snapshot.entries()[0].counters->ipackets.Get(), 1u);
  EXPECT_TRUE(table_.BuildForwardingTable().entries().empty());
}

// --- replace (reload) ---

InterfaceSpec Spec(std::string name, std::initializer_list<std::string> words,
                   bool has_lladdr = false) {
  InterfaceSpec spec{std::move(name), {}, has_lladdr};
  EXPECT_TRUE(ApplyInterfaceOptions(Options(words), spec.settings));
  return spec;
}

std::vector<std::string> Names(
    const std::vector<std::pair<std::string, InterfaceSettings>>& list) {
  std::vector<std::string> names;
  for (const auto& [name, settings] : list) names.push_back(name);
  return names;
}

using NameList = std::vector<std::string>;

TEST_F(TunnelTableTest, ReplaceComputesOnlyTheDifference) {
  const InterfaceState& same =
      MustCreate("same", {"up", "tunnel", "192.0.2.1", "192.0.2.2"});
  MustCreate("changed", {"tunnel", "192.0.2.1", "192.0.2.3"});
  MustCreate("removed", {"tunnel", "192.0.2.1", "192.0.2.4"});
  const InterfaceId same_id = same.id;
  const InterfaceCounters* same_counters = same.counters.get();
  const InterfaceSettings same_settings = same.settings;

  const std::vector<InterfaceSpec> specs = {
      Spec("same", {"up", "tunnel", "192.0.2.1", "192.0.2.2"}),
      Spec("changed", {"tunnel", "192.0.2.1", "192.0.2.3", "mtu", "1400"}),
      Spec("added", {"tunnel", "192.0.2.1", "192.0.2.4"}),
  };
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan) << plan.error().error.message;
  EXPECT_EQ(plan->destroy, NameList{"removed"});
  EXPECT_EQ(Names(plan->change), NameList{"changed"});
  EXPECT_EQ(Names(plan->create), NameList{"added"});
  EXPECT_FALSE(plan->empty());

  table_.CommitReplace(*plan);
  EXPECT_EQ(table_.Find("removed"), nullptr);
  EXPECT_EQ(table_.Find("changed")->settings.mtu, 1400u);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.4"))->name,
            "added");
  const InterfaceState* after = table_.Find("same");
  EXPECT_EQ(after->id, same_id);
  EXPECT_EQ(after->counters.get(), same_counters);
  EXPECT_EQ(after->settings, same_settings);
}

TEST_F(TunnelTableTest, ReplaceWithTheCurrentStateIsAnEmptyPlan) {
  MustCreate("a", {"up", "tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue",
                   "mtu", "9000"});
  MustCreate("b", {});
  const std::vector<InterfaceSpec> specs = {
      Spec("a", {"up", "tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue",
                 "mtu", "9000"}),
      Spec("b", {}),
  };
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->empty());
}

TEST_F(TunnelTableTest, ReplaceKeepsTheValueOfAnAutomaticMtu) {
  MustCreate("a", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "auto"});
  MustCreate("b", {"mtu", "1400"});
  // The value the daemon followed since.
  InterfaceSettings followed = table_.Find("a")->settings;
  followed.mtu = 1364;
  table_.CommitSet("a", followed);
  // The file says `auto` for both (its value: the default).
  const std::vector<InterfaceSpec> specs = {
      Spec("a", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "auto"}),
      Spec("b", {"mtu", "auto"}),
  };
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan);
  // "a" is unchanged: it keeps 1364. "b" becomes automatic: the caller
  // computes its value; until then, the spec's.
  ASSERT_EQ(Names(plan->change), NameList{"b"});
  EXPECT_TRUE(plan->change[0].second.mtu_auto);
  EXPECT_EQ(plan->change[0].second.mtu, kDefaultMtu);
  table_.CommitReplace(*plan);
  EXPECT_EQ(table_.Find("a")->settings.mtu, 1364u);
  EXPECT_TRUE(table_.Find("a")->settings.mtu_auto);
}

TEST_F(TunnelTableTest, ReplaceKeepsTheMacWhenTheSpecHasNone) {
  MustCreate("a", {});
  const MacAddress mac = table_.Find("a")->settings.lladdr;
  const std::vector<InterfaceSpec> specs = {Spec("a", {"mtu", "1400"})};
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->change.size(), 1u);
  EXPECT_EQ(plan->change[0].second.lladdr, mac);
  table_.CommitReplace(*plan);
  EXPECT_EQ(table_.Find("a")->settings.lladdr, mac);
}

TEST_F(TunnelTableTest, ReplaceSetsTheMacTheSpecGives) {
  MustCreate("a", {});
  const std::vector<InterfaceSpec> specs = {
      Spec("a", {"lladdr", "fe:e1:ba:d0:00:01"}, /*has_lladdr=*/true)};
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan);
  table_.CommitReplace(*plan);
  EXPECT_EQ(table_.Find("a")->settings.lladdr.ToString(), "fe:e1:ba:d0:00:01");
}

TEST_F(TunnelTableTest, ReplaceGivesNewInterfacesARandomMac) {
  MustCreate("a", {});  // takes SequentialMac(1)
  const std::vector<InterfaceSpec> specs = {Spec("a", {}), Spec("b", {})};
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan);
  ASSERT_EQ(plan->create.size(), 1u);
  const MacAddress mac = plan->create[0].second.lladdr;
  EXPECT_FALSE(mac.is_zero());
  EXPECT_FALSE(mac.is_multicast());
  EXPECT_NE(mac, SequentialMac(1));
  table_.CommitReplace(*plan);
  EXPECT_EQ(table_.Find("b")->settings.lladdr, mac);
}

TEST_F(TunnelTableTest, ReplaceSwapsTunnelsBetweenTwoInterfaces) {
  MustCreate("a", {"tunnel", "192.0.2.1", "192.0.2.2"});
  MustCreate("b", {"tunnel", "192.0.2.1", "192.0.2.3"});
  const std::vector<InterfaceSpec> specs = {
      Spec("a", {"tunnel", "192.0.2.1", "192.0.2.3"}),
      Spec("b", {"tunnel", "192.0.2.1", "192.0.2.2"}),
  };
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan) << plan.error().error.message;
  EXPECT_EQ(Names(plan->change), (NameList{"a", "b"}));
  table_.CommitReplace(*plan);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2"))->name,
            "b");
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.3"))->name,
            "a");
  const ForwardingTable snapshot = table_.BuildForwardingTable();
  EXPECT_EQ(snapshot.FindByTunnel(0, Ip("192.0.2.1"), Ip("192.0.2.2"))->id,
            table_.Find("b")->id);
  EXPECT_EQ(snapshot.FindByTunnel(0, Ip("192.0.2.1"), Ip("192.0.2.3"))->id,
            table_.Find("a")->id);
  // Both old keys are still guarded after the swap.
  EXPECT_FALSE(Set("a", {"tunnel", "192.0.2.1", "192.0.2.2"}));
}

TEST_F(TunnelTableTest, ReplaceFreesTheOldTunnelOfAChangedInterface) {
  MustCreate("a", {"tunnel", "192.0.2.1", "192.0.2.2"});
  MustCreate("b", {"tunnel", "192.0.2.1", "192.0.2.3"});
  // b moves to a new tunnel; nobody takes its old one.
  const std::vector<InterfaceSpec> specs = {
      Spec("a", {"tunnel", "192.0.2.1", "192.0.2.2"}),
      Spec("b", {"tunnel", "192.0.2.1", "192.0.2.4"}),
  };
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan) << plan.error().error.message;
  table_.CommitReplace(*plan);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.3")),
            nullptr);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.4"))->name,
            "b");
  MustCreate("c", {"tunnel", "192.0.2.1", "192.0.2.3"});
}

TEST_F(TunnelTableTest, ReplaceMovesATunnelToAnotherDomain) {
  MustCreate("a", {"tunnel", "192.0.2.1", "192.0.2.2"});
  const std::vector<InterfaceSpec> specs = {
      Spec("a", {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue"})};
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan) << plan.error().error.message;
  table_.CommitReplace(*plan);
  const Tunnel tunnel = MakeTunnel("192.0.2.1", "192.0.2.2");
  EXPECT_EQ(table_.FindByTunnel("", tunnel), nullptr);
  EXPECT_EQ(table_.FindByTunnel("blue", tunnel)->name, "a");
  const ForwardingTable snapshot = table_.BuildForwardingTable();
  EXPECT_NE(snapshot.FindByTunnel(table_.DomainIdOf("blue"), Ip("192.0.2.1"),
                                  Ip("192.0.2.2")),
            nullptr);
  EXPECT_EQ(snapshot.FindByTunnel(0, Ip("192.0.2.1"), Ip("192.0.2.2")),
            nullptr);
}

TEST_F(TunnelTableTest, ReplaceLetsANewInterfaceTakeTheTunnelOfARemovedOne) {
  MustCreate("old", {"tunnel", "192.0.2.1", "192.0.2.2"});
  const std::vector<InterfaceSpec> specs = {
      Spec("new", {"tunnel", "192.0.2.1", "192.0.2.2"})};
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan) << plan.error().error.message;
  table_.CommitReplace(*plan);
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2"))->name,
            "new");
  // The freed id is reused.
  EXPECT_EQ(table_.Find("new")->id, 0u);
}

TEST_F(TunnelTableTest, ReplaceWithNoSpecsDestroysEverything) {
  MustCreate("a", {});
  MustCreate("b", {"tunnel", "192.0.2.1", "192.0.2.2"});
  auto plan = table_.PrepareReplace({}, domains_);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->destroy, (NameList{"a", "b"}));
  table_.CommitReplace(*plan);
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_TRUE(table_.BuildForwardingTable().entries().empty());
}

TEST_F(TunnelTableTest, PrepareReplaceChangesNothing) {
  MustCreate("a", {"tunnel", "192.0.2.1", "192.0.2.2"});
  RememberState();
  const std::vector<InterfaceSpec> specs = {Spec("b", {"up"})};
  ASSERT_TRUE(table_.PrepareReplace(specs, domains_));
  EXPECT_EQ(ViewOf(table_), before_);
  EXPECT_EQ(SnapshotOf(table_), snapshot_before_);
}

// Expects PrepareReplace to refuse spec `index` with `code`.
#define EXPECT_REPLACE_REFUSED(specs, index_, code_, part)                   \
  do {                                                                       \
    auto plan = table_.PrepareReplace(specs, domains_);                      \
    ASSERT_FALSE(plan);                                                      \
    EXPECT_EQ(plan.error().index, index_);                                   \
    EXPECT_EQ(plan.error().error.code, code_) << plan.error().error.message; \
    EXPECT_NE(plan.error().error.message.find(part), std::string::npos)      \
        << plan.error().error.message;                                       \
  } while (0)

TEST_F(TunnelTableTest, ReplaceRefusesDuplicateTunnelsAmongSpecs) {
  const std::vector<InterfaceSpec> specs = {
      Spec("a", {"tunnel", "192.0.2.1", "192.0.2.2"}),
      Spec("b", {"tunnel", "192.0.2.1", "192.0.2.3"}),
      Spec("c", {"tunnel", "192.0.2.1", "192.0.2.2"}),
  };
  EXPECT_REPLACE_REFUSED(
      specs, 2u, EADDRNOTAVAIL,
      "tunnel 192.0.2.1 -> 192.0.2.2: address not available");
}

TEST_F(TunnelTableTest, ReplaceAllowsTheSameTunnelInDifferentDomains) {
  const std::vector<InterfaceSpec> specs = {
      Spec("a", {"tunnel", "192.0.2.1", "192.0.2.2"}),
      Spec("b", {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue"}),
  };
  EXPECT_TRUE(table_.PrepareReplace(specs, domains_));
}

TEST_F(TunnelTableTest, ReplaceRefusesANameGivenTwice) {
  const std::vector<InterfaceSpec> specs = {Spec("a", {}), Spec("a", {"up"})};
  EXPECT_REPLACE_REFUSED(specs, 1u, EEXIST, "");
}

TEST_F(TunnelTableTest, ReplaceRefusesAnInvalidName) {
  const std::vector<InterfaceSpec> specs = {Spec("ok", {}), Spec("a/b", {})};
  EXPECT_REPLACE_REFUSED(specs, 1u, EINVAL, "invalid interface name");
}

TEST_F(TunnelTableTest, ReplaceRefusesAnUnknownDomain) {
  const std::vector<InterfaceSpec> specs = {Spec("a", {"domain", "green"})};
  EXPECT_REPLACE_REFUSED(specs, 0u, EINVAL, "domain green: no such domain");
}

TEST_F(TunnelTableTest, ReplaceRefusesABadTunnel) {
  std::vector<InterfaceSpec> specs = {Spec("a", {})};
  specs[0].settings.tunnel = MakeTunnel("192.0.2.1", "2001:db8::1");
  EXPECT_REPLACE_REFUSED(specs, 0u, EINVAL, "invalid argument");
  specs[0].settings.tunnel = MakeTunnel("192.0.2.1", "224.0.0.1");
  EXPECT_REPLACE_REFUSED(specs, 0u, EINVAL, "invalid argument");
  specs[0].settings.tunnel = MakeTunnel("::", "2001:db8::1");
  EXPECT_REPLACE_REFUSED(specs, 0u, EINVAL, "invalid argument");
}

TEST_F(TunnelTableTest, ReplaceRefusesAnMtuOutOfRange) {
  std::vector<InterfaceSpec> specs = {Spec("a", {})};
  specs[0].settings.mtu = 67;
  EXPECT_REPLACE_REFUSED(specs, 0u, EINVAL, "mtu 67");
  specs[0].settings.mtu = 65001;
  EXPECT_REPLACE_REFUSED(specs, 0u, EINVAL, "mtu 65001");
}

TEST_F(TunnelTableTest, ReplaceRefusesANonUnicastLladdr) {
  std::vector<InterfaceSpec> specs = {Spec("a", {}, /*has_lladdr=*/true)};
  specs[0].settings.lladdr = MacAddress({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01});
  EXPECT_REPLACE_REFUSED(specs, 0u, EINVAL, "lladdr");
  specs[0].settings.lladdr = MacAddress();
  EXPECT_REPLACE_REFUSED(specs, 0u, EINVAL, "lladdr");
}

// --- host names and zones (SPEC 8) ---

class NamedTunnelTest : public TunnelTableTest {
 protected:
  // The resolver's answer for the interface's tunnel as it is now.
  bool Answer(std::string_view name, Result<Tunnel> answer) {
    const InterfaceState* state = table_.Find(name);
    return table_.CommitResolution(name, state->settings.domain,
                                   *state->settings.tunnel, answer);
  }
  static Result<Tunnel> NotFound() {
    return Fail(ENOENT, "peer.example: Name or service not known");
  }
  bool InUse(std::string_view name) { return table_.Find(name)->in_use(); }
  const ForwardingEntry* EntryOf(std::string_view name) {
    forwarding_ = table_.BuildForwardingTable();
    return forwarding_.FindById(table_.Find(name)->id);
  }
  ForwardingTable forwarding_;
};

TEST_F(NamedTunnelTest, ANameIsAcceptedAndNotInUseUntilItResolves) {
  const InterfaceState& state =
      MustCreate("etherip0", {"up", "tunnel", "192.0.2.1", "peer.example"});
  EXPECT_FALSE(state.in_use());
  EXPECT_FALSE(state.addresses);
  EXPECT_EQ(table_.Unresolved(state), kNotResolved);
  EXPECT_FALSE(TunnelTable::IsRunning(state, domains_));
  EXPECT_FALSE(EntryOf("etherip0")->has_tunnel);
  EXPECT_TRUE(table_.endpoint_users().empty());  // no socket needed yet

  EXPECT_TRUE(Answer("etherip0", MakeTunnel("192.0.2.1", "192.0.2.2")));
  EXPECT_TRUE(state.in_use());
  EXPECT_EQ(table_.Unresolved(state), "");
  EXPECT_TRUE(TunnelTable::IsRunning(state, domains_));
  ASSERT_TRUE(EntryOf("etherip0")->has_tunnel);
  EXPECT_EQ(EntryOf("etherip0")->tunnel, MakeTunnel("192.0.2.1", "192.0.2.2"));
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2")),
            &state);
  EXPECT_EQ(table_.endpoint_users().size(), 1u);
  // The configured tunnel is still the name.
  EXPECT_EQ(state.settings.tunnel->ToString(), "192.0.2.1 -> peer.example");
  // The same answer again changes nothing.
  EXPECT_FALSE(Answer("etherip0", MakeTunnel("192.0.2.1", "192.0.2.2")));
}

TEST_F(NamedTunnelTest, ANewAddressMovesTheTunnelAndItsKey) {
  const InterfaceState& state =
      MustCreate("etherip0", {"tunnel", "192.0.2.1", "peer.example"});
  ASSERT_TRUE(Answer("etherip0", MakeTunnel("192.0.2.1", "192.0.2.2")));
  ASSERT_TRUE(Answer("etherip0", MakeTunnel("192.0.2.1", "192.0.2.3")));
  EXPECT_TRUE(state.in_use());
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2")),
            nullptr);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.3")),
            &state);
  EXPECT_EQ(EntryOf("etherip0")->tunnel, MakeTunnel("192.0.2.1", "192.0.2.3"));
}

TEST_F(NamedTunnelTest, ANameThatStopsResolvingTakesTheTunnelOutOfUse) {
  const InterfaceState& state =
      MustCreate("etherip0", {"up", "tunnel", "192.0.2.1", "peer.example"});
  ASSERT_TRUE(Answer("etherip0", MakeTunnel("192.0.2.1", "192.0.2.2")));
  ASSERT_TRUE(Answer("etherip0", NotFound()));
  EXPECT_FALSE(state.in_use());
  EXPECT_FALSE(state.addresses);
  EXPECT_EQ(table_.Unresolved(state),
            "peer.example: Name or service not known");
  EXPECT_FALSE(TunnelTable::IsRunning(state, domains_));
  EXPECT_FALSE(EntryOf("etherip0")->has_tunnel);
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.2")),
            nullptr);
  EXPECT_TRUE(table_.endpoint_users().empty());
}

TEST_F(NamedTunnelTest, AnswersAboutAnotherTunnelOrDomainAreIgnored) {
  MustCreate("etherip0", {"tunnel", "192.0.2.1", "peer.example"});
  const TunnelConfig old = *table_.Find("etherip0")->settings.tunnel;
  ASSERT_TRUE(Set("etherip0", {"tunnel", "192.0.2.1", "other.example"}));
  EXPECT_FALSE(table_.CommitResolution("etherip0", "", old,
                                       MakeTunnel("192.0.2.1", "192.0.2.2")));
  EXPECT_FALSE(table_.CommitResolution(
      "etherip0", "blue", *table_.Find("etherip0")->settings.tunnel,
      MakeTunnel("192.0.2.1", "192.0.2.2")));
  EXPECT_FALSE(table_.CommitResolution("etherip9", "", old,
                                       MakeTunnel("192.0.2.1", "192.0.2.2")));
  EXPECT_EQ(table_.Unresolved(*table_.Find("etherip0")), kNotResolved);
  // Nor are addresses that cannot be a tunnel, or not its literal's.
  EXPECT_FALSE(Answer("etherip0", MakeTunnel("192.0.2.1", "127.0.0.1")));
  EXPECT_FALSE(Answer("etherip0", MakeTunnel("192.0.2.9", "192.0.2.2")));
}

TEST_F(NamedTunnelTest, SettingsOtherThanTheTunnelKeepWhatItResolvedTo) {
  const InterfaceState& state =
      MustCreate("etherip0", {"tunnel", "192.0.2.1", "peer.example"});
  ASSERT_TRUE(Answer("etherip0", MakeTunnel("192.0.2.1", "192.0.2.2")));
  ASSERT_TRUE(Set("etherip0", {"mtu", "1400", "up"}));
  EXPECT_TRUE(state.in_use());
  // The same tunnel set again is no change either.
  ASSERT_TRUE(Set("etherip0", {"tunnel", "192.0.2.1", "peer.example"}));
  EXPECT_TRUE(state.in_use());
  // Another domain is another lookup.
  ASSERT_TRUE(Set("etherip0", {"domain", "blue"}));
  EXPECT_FALSE(state.in_use());
  EXPECT_EQ(table_.Unresolved(state), kNotResolved);
}

TEST_F(NamedTunnelTest, ANameResolvingToAnotherTunnelsKeyWaitsForIt) {
  MustCreate("etherip0", {"up", "tunnel", "192.0.2.1", "192.0.2.9"});
  const InterfaceState& named =
      MustCreate("etherip1", {"up", "tunnel", "192.0.2.1", "clash.example"});
  ASSERT_TRUE(Answer("etherip1", MakeTunnel("192.0.2.1", "192.0.2.9")));
  EXPECT_FALSE(named.in_use());
  EXPECT_EQ(table_.Unresolved(named),
            "192.0.2.1 -> 192.0.2.9 is in use by etherip0");
  EXPECT_FALSE(TunnelTable::IsRunning(named, domains_));
  EXPECT_EQ(table_.FindByTunnel("", MakeTunnel("192.0.2.1", "192.0.2.9"))->name,
            "etherip0");
  EXPECT_TRUE(table_.TakeAffected().empty());
  // The key's holder goes: the waiting tunnel takes it.
  ASSERT_TRUE(table_.Destroy("etherip0"));
  EXPECT_EQ(table_.TakeAffected(), (NameList{"etherip1"}));
  EXPECT_TRUE(named.in_use());
  EXPECT_EQ(EntryOf("etherip1")->tunnel, MakeTunnel("192.0.2.1", "192.0.2.9"));
  EXPECT_EQ(table_.endpoint_users().size(), 1u);
}

TEST_F(NamedTunnelTest, ATunnelOfLiteralsTakesItsKeyFromANamedOne) {
  const InterfaceState& named =
      MustCreate("etherip1", {"tunnel", "192.0.2.1", "clash.example"});
  ASSERT_TRUE(Answer("etherip1", MakeTunnel("192.0.2.1", "192.0.2.9")));
  ASSERT_TRUE(named.in_use());
  // Never refused for what a name resolved to.
  const InterfaceState& literal =
      MustCreate("etherip0", {"tunnel", "192.0.2.1", "192.0.2.9"});
  EXPECT_TRUE(literal.in_use());
  EXPECT_FALSE(named.in_use());
  EXPECT_EQ(table_.TakeAffected(), (NameList{"etherip1"}));
  EXPECT_EQ(table_.Unresolved(named),
            "192.0.2.1 -> 192.0.2.9 is in use by etherip0");
  EXPECT_EQ(table_.endpoint_users().begin()->second, 1u);
  // The literal moves on: the named one has its key back.
  ASSERT_TRUE(Set("etherip0", {"tunnel", "192.0.2.1", "192.0.2.8"}));
  EXPECT_TRUE(named.in_use());
  EXPECT_EQ(table_.TakeAffected(), (NameList{"etherip1"}));
  EXPECT_EQ(table_.endpoint_users().begin()->second, 2u);
}

TEST_F(NamedTunnelTest, OfTwoNamesTheFirstToResolveKeepsTheKey) {
  const InterfaceState& first =
      MustCreate("b", {"tunnel", "192.0.2.1", "one.example"});
  const InterfaceState& second =
      MustCreate("a", {"tunnel", "192.0.2.1", "two.example"});
  ASSERT_TRUE(Answer("b", MakeTunnel("192.0.2.1", "192.0.2.9")));
  ASSERT_TRUE(Answer("a", MakeTunnel("192.0.2.1", "192.0.2.9")));
  EXPECT_TRUE(first.in_use());
  EXPECT_FALSE(second.in_use());
  EXPECT_EQ(table_.Unresolved(second), "192.0.2.1 -> 192.0.2.9 is in use by b");
  // A rename keeps the key and the line.
  table_.CommitRename("b", "c");
  EXPECT_EQ(table_.Unresolved(second), "192.0.2.1 -> 192.0.2.9 is in use by c");
  EXPECT_TRUE(table_.Find("c")->in_use());
  table_.CommitRename("a", "d");
  // The first moves elsewhere: the second gets it.
  ASSERT_TRUE(Answer("c", MakeTunnel("192.0.2.1", "192.0.2.10")));
  EXPECT_EQ(table_.TakeAffected(), (NameList{"d"}));
  EXPECT_TRUE(table_.Find("c")->in_use());
  EXPECT_TRUE(table_.Find("d")->in_use());
}

TEST_F(NamedTunnelTest, AZoneNamingAnInterfaceWaitsForItsIndex) {
  const InterfaceState& state = MustCreate(
      "etherip0", {"up", "tunnel", "fe80::a%veth0", "fe80::b%veth0"});
  // Its key is taken at once, as a tunnel of literals: the same addresses
  // on another zone are refused (the zone is not part of the key).
  EXPECT_TRUE(state.holds_key);
  EXPECT_FALSE(state.in_use());
  EXPECT_EQ(table_.Unresolved(state), kNotResolved);
  RememberState();
  ExpectRefusedAndUnchanged(
      table_.Create("etherip1",
                    Options({"tunnel", "fe80::a%veth1", "fe80::b%veth1"}),
                    domains_),
      EADDRNOTAVAIL, "address not available");
  ASSERT_TRUE(Answer("etherip0", Fail(ENODEV, "zone veth0: No such device")));
  EXPECT_EQ(table_.Unresolved(state), "zone veth0: No such device");
  EXPECT_FALSE(TunnelTable::IsRunning(state, domains_));
  ASSERT_TRUE(Answer("etherip0", Tunnel{Ip("fe80::a"), Ip("fe80::b"), 5}));
  EXPECT_TRUE(state.in_use());
  ASSERT_TRUE(EntryOf("etherip0")->has_tunnel);
  EXPECT_EQ(EntryOf("etherip0")->tunnel.scope, 5u);
  // An index as zone needs no lookup.
  const InterfaceState& indexed =
      MustCreate("etherip2", {"tunnel", "fe80::c", "fe80::d%7"});
  EXPECT_TRUE(indexed.in_use());
  EXPECT_EQ(EntryOf("etherip2")->tunnel.scope, 7u);
}

TEST_F(NamedTunnelTest, ReplaceKeysOnlyLiteralsAndKeepsResolvedTunnels) {
  // Two names may be the same in a file: only what they resolve to counts.
  std::vector<InterfaceSpec> specs = {
      Spec("a", {"tunnel", "192.0.2.1", "peer.example"}),
      Spec("b", {"tunnel", "192.0.2.1", "peer.example"}),
  };
  auto plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan);
  table_.CommitReplace(*plan);
  ASSERT_TRUE(Answer("a", MakeTunnel("192.0.2.1", "192.0.2.2")));
  ASSERT_TRUE(Answer("b", MakeTunnel("192.0.2.1", "192.0.2.2")));
  EXPECT_TRUE(table_.Find("a")->in_use());
  EXPECT_FALSE(table_.Find("b")->in_use());
  // The same file with another MTU for "a": it keeps what it resolved to.
  specs[0].settings.lladdr = table_.Find("a")->settings.lladdr;
  specs[0].has_lladdr = true;
  specs[0].settings.mtu = 1400;
  plan = table_.PrepareReplace(specs, domains_);
  ASSERT_TRUE(plan);
  table_.CommitReplace(*plan);
  EXPECT_TRUE(table_.Find("a")->in_use());
  // Literals that differ only in their zones are one tunnel.
  const std::vector<InterfaceSpec> zoned = {
      Spec("a", {"tunnel", "fe80::a%eth0", "fe80::b"}),
      Spec("b", {"tunnel", "fe80::a%eth1", "fe80::b"}),
  };
  EXPECT_REPLACE_REFUSED(zoned, 1u, EADDRNOTAVAIL, "address not available");
}

}  // namespace
}  // namespace etherip

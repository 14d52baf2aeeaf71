// The interface manager over the in-memory host: requests, reloads, link
// events and shutdown, with every host step made to fail in turn. A refused
// request or reload must leave the host, the published data plane, the
// configuration file and what `show` reports exactly as they were.
#include "daemon/interface_manager.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "io/memory/memory_host.h"
#include "io/memory/memory_resolver.h"

namespace etherip {
namespace {

using Op = MemoryHost::Op;

// Keeps what the data plane would: the entries and the devices (so a
// device lives while it is published, as in the forwarding loop).
class RecordingPlane : public PlanePublisher {
 public:
  void Apply(PlaneChanges changes) override {
    ++applied;
    for (InterfaceId id : changes.erased_interfaces) interfaces.erase(id);
    for (auto& update : changes.interfaces) {
      interfaces[update.entry.id] = std::move(update);
    }
    for (const Endpoint& endpoint : changes.erased_sockets) {
      sockets.erase(std::pair(endpoint.family, endpoint.domain));
    }
    for (auto& socket : changes.sockets) {
      sockets[std::pair(socket.endpoint.family, socket.endpoint.domain)] =
          socket.socket;
    }
  }
  std::map<InterfaceId, PlaneChanges::Interface> interfaces;
  std::map<std::pair<Family, DomainId>, std::shared_ptr<OuterSocket>> sockets;
  size_t applied = 0;
};

constexpr const char* kPath = "/etc/etherip/etheripd.conf";

std::vector<InterfaceOption> Options(std::initializer_list<std::string> words) {
  auto parsed = ParseInterfaceOptions(std::vector<std::string>(words));
  EXPECT_TRUE(parsed.has_value());
  return parsed.value_or(std::vector<InterfaceOption>{});
}

control::Config ConfigOf(std::string_view text) {
  auto config = control::ParseConfig(text, kPath);
  EXPECT_TRUE(config.has_value()) << config.error().message;
  return config.value_or(control::Config{});
}

class InterfaceManagerTest : public ::testing::Test {
 protected:
  InterfaceManagerTest() { MakeManager(); }

  void MakeManager() {
    manager_.reset();
    manager_ = std::make_unique<InterfaceManager>(
        host_, plane_, counters_, allow_,
        InterfaceManager::Options{kPath, kGroup, false});
  }

  // Everything a refused request must leave as it was.
  struct Observed {
    std::vector<LinkInfo> links;
    std::vector<control::InterfaceView> views;
    std::string file;
    size_t sockets = 0;
    std::vector<InterfaceId> published;
    friend bool operator==(const Observed&, const Observed&) = default;
  };
  Observed Observe() {
    Observed observed;
    observed.links = *host_.DumpLinks();
    observed.views = *manager_->Show(std::nullopt);
    observed.file = host_.files()[kPath];
    observed.sockets = host_.open_sockets();
    for (const auto& [id, update] : plane_.interfaces) {
      observed.published.push_back(id);
    }
    return observed;
  }

  void Create(std::string_view name, std::initializer_list<std::string> words) {
    auto done = manager_->Create(name, Options(words));
    ASSERT_TRUE(done.has_value()) << done.error().message;
  }
  control::InterfaceView View(std::string_view name) {
    auto views = manager_->Show(name);
    EXPECT_TRUE(views.has_value()) << name;
    return views ? views->front() : control::InterfaceView{};
  }
  // The published entry of the interface whose link is `name`.
  const ForwardingEntry* Published(std::string_view name) {
    const auto link = host_.Link(name);
    if (!link) return nullptr;
    for (const auto& [id, update] : plane_.interfaces) {
      const auto* tap = dynamic_cast<const TapDevice*>(update.device.get());
      if (tap != nullptr && tap->ifindex() == link->ifindex) {
        return &update.entry;
      }
    }
    return nullptr;
  }

  static constexpr uint32_t kGroup = 0x45490001;
  MemoryHost host_;
  RecordingPlane plane_;
  GlobalCounters counters_;
  std::atomic<bool> allow_{false};
  std::unique_ptr<InterfaceManager> manager_;
};

// --- Requests -----------------------------------------------------------

TEST_F(InterfaceManagerTest, CreateMakesTheLinkAndPublishesIt) {
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "1400",
                      "lladdr", "fe:e1:ba:d0:00:01", "up"});
  const auto link = host_.Link("etherip0");
  ASSERT_TRUE(link);
  EXPECT_TRUE(link->up);
  EXPECT_EQ(link->mtu, 1400u);
  EXPECT_EQ(link->address.ToString(), "fe:e1:ba:d0:00:01");
  EXPECT_EQ(link->group, kGroup);
  EXPECT_TRUE(host_.carrier("etherip0"));
  EXPECT_TRUE(View("etherip0").running);
  const ForwardingEntry* entry = Published("etherip0");
  ASSERT_NE(entry, nullptr);
  EXPECT_TRUE(entry->up);
  EXPECT_TRUE(entry->has_tunnel);
  EXPECT_EQ(plane_.sockets.size(), 1u);
}

TEST_F(InterfaceManagerTest, EachFailedStepOfCreateChangesNothing) {
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "up"});
  for (Op op : {Op::kCreateTap, Op::kSetLinkGroup, Op::kSetLinkAddress,
                Op::kSetLinkMtu, Op::kSetLinkUp, Op::kOpenSocket}) {
    SCOPED_TRACE(static_cast<int>(op));
    const Observed before = Observe();
    host_.FailNext(op, Error{EIO, "injected"});
    auto done = manager_->Create(
        "etherip1", Options({"tunnel", "2001:db8::1", "2001:db8::2", "up"}));
    ASSERT_FALSE(done.has_value());
    EXPECT_EQ(done.error().code, EIO);
    EXPECT_EQ(Observe(), before);
  }
}

TEST_F(InterfaceManagerTest, EachFailedStepOfSetRestoresTheLink) {
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "1400"});
  for (Op op : {Op::kSetLinkAddress, Op::kSetLinkMtu, Op::kSetLinkUp,
                Op::kOpenSocket}) {
    SCOPED_TRACE(static_cast<int>(op));
    const Observed before = Observe();
    host_.FailNext(op, Error{EIO, "injected"});
    auto done = manager_->Set(
        "etherip0", Options({"tunnel", "2001:db8::1", "2001:db8::2", "mtu",
                             "9000", "lladdr", "fe:e1:ba:d0:00:09", "up"}));
    ASSERT_FALSE(done.has_value());
    manager_->HandleLinkEvents();  // the undo's own events change nothing
    EXPECT_EQ(Observe(), before);
  }
}

TEST_F(InterfaceManagerTest, SetAppliesTheRequestWhateverTheDaemonBelieved) {
  Create("etherip0", {"up"});
  // Taken down behind the daemon's back; the event is not read yet.
  ASSERT_TRUE(host_.KernelSetUp("etherip0", false));
  ASSERT_TRUE(manager_->Set("etherip0", Options({"up"})));
  EXPECT_TRUE(host_.Link("etherip0")->up);
  manager_->HandleLinkEvents();
  EXPECT_TRUE(View("etherip0").settings.up);
}

TEST_F(InterfaceManagerTest, DestroyRemovesTheLinkAndUnpublishes) {
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  ASSERT_TRUE(manager_->Destroy("etherip0"));
  EXPECT_FALSE(host_.Link("etherip0"));
  EXPECT_TRUE(plane_.interfaces.empty());
  EXPECT_TRUE(plane_.sockets.empty());
  EXPECT_EQ(host_.open_sockets(), 0u);
  EXPECT_EQ(manager_->Destroy("etherip0").error().code, ENXIO);
}

// --- Reload ---------------------------------------------------------------

constexpr std::string_view kTwo = R"(
allow = true
[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
mtu = 1400
up = true
[[interface]]
name = "etherip1"
source = "192.0.2.1"
destination = "192.0.2.3"
up = true
)";

constexpr std::string_view kChanged = R"(
[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
mtu = 1300
up = true
[[interface]]
name = "etherip1"
source = "192.0.2.1"
destination = "192.0.2.3"
mtu = 1280
[[interface]]
name = "etherip2"
source = "2001:db8::1"
destination = "2001:db8::2"
)";

TEST_F(InterfaceManagerTest, ReloadFailingAtAnyStepChangesNothing) {
  ASSERT_TRUE(manager_->Replace(ConfigOf(kTwo), kPath));
  ASSERT_TRUE(allow_.load());
  // Each step of the second reload in turn: the TAP of etherip2, its
  // settings, the IPv6 socket, then each link change of etherip0 and
  // etherip1 (the second one fails after the first has been applied).
  struct Step {
    Op op;
    size_t skip;
  };
  for (Step step : {Step{Op::kCreateTap, 0}, Step{Op::kSetLinkMtu, 0},
                    Step{Op::kOpenSocket, 0}, Step{Op::kSetLinkMtu, 1},
                    Step{Op::kSetLinkMtu, 2}, Step{Op::kSetLinkUp, 1}}) {
    SCOPED_TRACE(static_cast<int>(step.op) * 10 + step.skip);
    const Observed before = Observe();
    host_.FailNext(step.op, Error{EIO, "injected"}, step.skip);
    auto done = manager_->Replace(ConfigOf(kChanged), kPath);
    ASSERT_FALSE(done.has_value());
    manager_->HandleLinkEvents();
    EXPECT_EQ(Observe(), before);
    EXPECT_TRUE(allow_.load());
  }
  ASSERT_TRUE(manager_->Replace(ConfigOf(kChanged), kPath));
  EXPECT_EQ(host_.Link("etherip1")->mtu, 1280u);
  EXPECT_FALSE(host_.Link("etherip1")->up);
  EXPECT_TRUE(host_.Link("etherip2"));
  EXPECT_FALSE(allow_.load());
}

constexpr std::string_view kEoip = R"(
[[interface]]
name = "eoip1"
source = "2001:db8::1"
destination = "2001:db8::2"
eoip = 1
up = true
[[interface]]
name = "eoip2"
source = "2001:db8::1"
destination = "2001:db8::2"
eoip = 2
keepalive = 0
up = true
)";

TEST_F(InterfaceManagerTest, EoipTunnelsArePublishedSavedAndSwappedByReload) {
  ASSERT_TRUE(manager_->Replace(ConfigOf(kEoip), kPath));
  ASSERT_NE(Published("eoip1"), nullptr);
  EXPECT_EQ(Published("eoip1")->eoip, 1);
  EXPECT_EQ(Published("eoip1")->keepalive, kDefaultKeepalive);
  EXPECT_EQ(Published("eoip2")->eoip, 2);
  EXPECT_EQ(Published("eoip2")->keepalive, 0u);
  EXPECT_EQ(View("eoip2").settings.eoip, 2);
  // showconf writes what recreates them.
  const std::string conf = manager_->ShowConf();
  EXPECT_NE(conf.find("eoip = 1\nup = true\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("eoip = 2\nkeepalive = 0\nup = true\n"),
            std::string::npos)
      << conf;
  // A reload that swaps the IDs of the two.
  std::string swapped(kEoip);
  swapped.replace(swapped.find("eoip = 1"), 8, "eoip = 9");
  swapped.replace(swapped.find("eoip = 2"), 8, "eoip = 1");
  swapped.replace(swapped.find("eoip = 9"), 8, "eoip = 2");
  ASSERT_TRUE(manager_->Replace(ConfigOf(swapped), kPath));
  EXPECT_EQ(Published("eoip1")->eoip, 2);
  EXPECT_EQ(Published("eoip2")->eoip, 1);
  // A standard tunnel on their pair is refused, and changes nothing.
  const Observed before = Observe();
  auto refused = manager_->Create(
      "plain", Options({"tunnel", "2001:db8::1", "2001:db8::2"}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, EEXIST);
  EXPECT_EQ(Observe(), before);
  // -eoip on the other one too: then a standard tunnel is all it is.
  ASSERT_TRUE(manager_->Destroy("eoip2"));
  ASSERT_TRUE(manager_->Set("eoip1", Options({"-eoip"})));
  EXPECT_EQ(Published("eoip1")->eoip, std::nullopt);
  EXPECT_EQ(manager_->ShowConf().find("eoip ="), std::string::npos);
}

TEST_F(InterfaceManagerTest, DisableIpv6TakesIpv6OffEveryInterface) {
  const std::string with = "disable_ipv6 = true\n" + std::string(kTwo);
  ASSERT_TRUE(manager_->Replace(ConfigOf(with), kPath));
  EXPECT_FALSE(host_.ipv6("etherip0"));
  EXPECT_FALSE(host_.ipv6("etherip1"));
  EXPECT_NE(manager_->ShowConf().find("disable_ipv6 = true\n"),
            std::string::npos);
  Create("etherip2", {"up"});
  EXPECT_FALSE(host_.ipv6("etherip2"));
  // A create whose IPv6 step fails leaves no link behind.
  host_.FailNext(Op::kSetLinkIpv6, Error{EIO, "injected"});
  EXPECT_FALSE(manager_->Create("etherip3", Options({"up"})));
  EXPECT_FALSE(host_.Link("etherip3"));

  // Turned off by a reload: every interface has IPv6 again, unless the
  // reload fails part way, which leaves each as it was.
  host_.FailNext(Op::kSetLinkIpv6, Error{EIO, "injected"}, 1);
  ASSERT_FALSE(manager_->Replace(ConfigOf(kTwo), kPath));
  EXPECT_FALSE(host_.ipv6("etherip0"));
  EXPECT_FALSE(host_.ipv6("etherip1"));
  ASSERT_TRUE(manager_->Replace(ConfigOf(kTwo), kPath));
  EXPECT_TRUE(host_.ipv6("etherip0"));
  EXPECT_TRUE(host_.ipv6("etherip1"));
  EXPECT_EQ(manager_->ShowConf().find("disable_ipv6"), std::string::npos);
}

TEST_F(InterfaceManagerTest, MasterIsJoinedOnCreateAndLeftOnlyWhenAsked) {
  ASSERT_TRUE(host_.KernelAddLink("br0"));
  Create("etherip0", {"master", "br0", "up"});
  EXPECT_EQ(host_.master("etherip0"), "br0");
  EXPECT_EQ(View("etherip0").settings.master, "br0");
  // No such master: refused, nothing made.
  const Observed before = Observe();
  auto refused = manager_->Create("etherip1", Options({"master", "br9"}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ENODEV);
  EXPECT_EQ(Observe(), before);
  // A reload that drops the line stops managing it: the port stays.
  constexpr std::string_view kWith = R"(
[[interface]]
name = "etherip0"
master = "br0"
up = true
)";
  constexpr std::string_view kWithout = R"(
[[interface]]
name = "etherip0"
up = true
)";
  ASSERT_TRUE(manager_->Replace(ConfigOf(kWithout), kPath));
  EXPECT_EQ(host_.master("etherip0"), "br0");
  EXPECT_EQ(View("etherip0").settings.master, "");
  ASSERT_TRUE(manager_->Replace(ConfigOf(kWith), kPath));
  EXPECT_EQ(View("etherip0").settings.master, "br0");
  // `-master` leaves it; a failed `master` puts nothing back wrong.
  ASSERT_TRUE(manager_->Set("etherip0", Options({"-master"})));
  EXPECT_EQ(host_.master("etherip0"), "");
  host_.FailNext(Op::kSetLinkUp, Error{EIO, "injected"});
  ASSERT_FALSE(manager_->Set("etherip0", Options({"master", "br0"})));
  EXPECT_EQ(host_.master("etherip0"), "");
  EXPECT_EQ(View("etherip0").settings.master, "");
}

// --- The kernel's truth -----------------------------------------------------

TEST_F(InterfaceManagerTest, FollowsAdminStateMtuAndMacChangedOutside) {
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "up"});
  ASSERT_TRUE(host_.KernelSetUp("etherip0", false));
  ASSERT_TRUE(host_.KernelSetMtu("etherip0", 9000));
  const MacAddress mac({0xfe, 0xe1, 0xba, 0xd0, 0x00, 0x42});
  ASSERT_TRUE(host_.KernelSetAddress("etherip0", mac));
  manager_->HandleLinkEvents();
  const auto view = View("etherip0");
  EXPECT_FALSE(view.settings.up);
  EXPECT_FALSE(view.running);
  EXPECT_EQ(view.settings.mtu, 9000u);
  EXPECT_EQ(view.settings.lladdr, mac);
  EXPECT_FALSE(host_.carrier("etherip0"));
  ASSERT_NE(Published("etherip0"), nullptr);
  EXPECT_FALSE(Published("etherip0")->up);  // received frames: idrops
  const std::string conf = manager_->ShowConf();
  EXPECT_NE(conf.find("mtu = 9000"), std::string::npos) << conf;
  EXPECT_NE(conf.find("fe:e1:ba:d0:00:42"), std::string::npos) << conf;
}

TEST_F(InterfaceManagerTest, AnMtuAboveTheRangeIsSetBack) {
  Create("etherip0", {"mtu", "1400"});
  ASSERT_TRUE(host_.KernelSetMtu("etherip0", 65535));
  manager_->HandleLinkEvents();
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1400u);
  EXPECT_EQ(View("etherip0").settings.mtu, 1400u);
  EXPECT_NE(manager_->ShowConf().find("mtu = 1400"), std::string::npos);
}

TEST_F(InterfaceManagerTest, FollowsARenameAndNeverTakesAnotherLink) {
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  ASSERT_TRUE(host_.KernelRename("etherip0", "renamed0"));
  ASSERT_TRUE(host_.KernelAddLink("etherip0"));  // e.g. a bridge
  manager_->HandleLinkEvents();
  auto views = manager_->Show(std::nullopt);
  ASSERT_EQ(views->size(), 1u);
  EXPECT_EQ(views->front().name, "renamed0");
  EXPECT_EQ(manager_->Destroy("etherip0").error().code, ENXIO);
  ASSERT_TRUE(manager_->Destroy("renamed0"));
  EXPECT_FALSE(host_.Link("renamed0"));
  EXPECT_TRUE(host_.Link("etherip0"));  // the bridge is not ours
}

TEST_F(InterfaceManagerTest, ALinkDeletedOutsideLeavesAtOnce) {
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  Create("etherip1", {"tunnel", "192.0.2.1", "192.0.2.3"});
  ASSERT_TRUE(host_.KernelDelete("etherip0"));
  manager_->HandleLinkEvents();
  EXPECT_EQ(manager_->Show("etherip0").error().code, ENXIO);
  EXPECT_EQ(plane_.interfaces.size(), 1u);
  // Its name can be used again.
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
}

TEST_F(InterfaceManagerTest, LostEventsAreRecoveredFromADump) {
  Create("etherip0", {"up"});
  Create("etherip1", {"up"});
  ASSERT_TRUE(host_.KernelSetMtu("etherip0", 1280));
  ASSERT_TRUE(host_.KernelDelete("etherip1"));
  host_.KernelOverflowEvents();
  manager_->HandleLinkEvents();
  EXPECT_EQ(View("etherip0").settings.mtu, 1280u);
  EXPECT_EQ(manager_->Show("etherip1").error().code, ENXIO);
  EXPECT_EQ(plane_.interfaces.size(), 1u);
}

// --- mtu auto ---------------------------------------------------------------

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

TEST_F(InterfaceManagerTest, AutoMtuIsTheRouteMtuLessTheEncapsulation) {
  host_.KernelSetRoute("", Ip("192.0.2.2"), {1500, 7});
  host_.KernelSetRoute("", Ip("2001:db8::2"), {1500, 7});
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "auto"});
  Create("etherip1", {"mtu", "auto", "tunnel", "2001:db8::1", "2001:db8::2"});
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1464u);
  EXPECT_EQ(host_.Link("etherip1")->mtu, 1444u);
  const auto view = View("etherip0");
  EXPECT_TRUE(view.settings.mtu_auto);
  EXPECT_EQ(view.settings.mtu, 1464u);
  EXPECT_TRUE(View("etherip1").settings.mtu_auto);
  EXPECT_EQ(View("etherip1").settings.mtu, 1444u);
  EXPECT_EQ(host_.watched_routes(), std::set<std::string>{""});
  // showconf keeps `auto`, not the value it gave.
  const std::string conf = manager_->ShowConf();
  EXPECT_NE(conf.find("mtu = \"auto\""), std::string::npos) << conf;
  EXPECT_EQ(conf.find("1464"), std::string::npos) << conf;
}

TEST_F(InterfaceManagerTest, AutoMtuWithoutARouteOrTunnelKeepsItsValue) {
  Create("etherip0", {"mtu", "auto"});
  EXPECT_EQ(View("etherip0").settings.mtu, kDefaultMtu);
  EXPECT_TRUE(View("etherip0").settings.mtu_auto);
  EXPECT_EQ(host_.calls(Op::kLookupRouteMtu), 0u);
  // A tunnel without a route: still the value it had.
  ASSERT_TRUE(
      manager_->Set("etherip0", Options({"tunnel", "192.0.2.1", "192.0.2.2"})));
  EXPECT_EQ(View("etherip0").settings.mtu, kDefaultMtu);
  // The route appears: followed.
  host_.KernelSetRoute("", Ip("192.0.2.2"), {1400, 7});
  manager_->HandleRouteEvents();
  ASSERT_TRUE(manager_->routes_pending());
  manager_->FollowRoutes();
  EXPECT_FALSE(manager_->routes_pending());
  EXPECT_EQ(View("etherip0").settings.mtu, 1364u);
  // The route goes: the last value stays.
  host_.KernelDeleteRoute("", Ip("192.0.2.2"));
  manager_->HandleRouteEvents();
  manager_->FollowRoutes();
  EXPECT_EQ(View("etherip0").settings.mtu, 1364u);
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1364u);
  // A failed lookup is no refusal either.
  host_.FailNext(Op::kLookupRouteMtu, Error{EIO, "injected"});
  ASSERT_TRUE(manager_->Set("etherip0", Options({"up"})));
  EXPECT_EQ(View("etherip0").settings.mtu, 1364u);
}

TEST_F(InterfaceManagerTest, ARouteChangeUpdatesTheMtuOfItsDomainOnly) {
  host_.AddDomain("underlay");
  host_.KernelSetRoute("", Ip("192.0.2.2"), {1500, 7});
  host_.KernelSetRoute("underlay", Ip("192.0.2.2"), {1500, 3});
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "auto"});
  Create("etherip1", {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "underlay",
                      "mtu", "auto"});
  Create("etherip2", {"tunnel", "192.0.2.1", "192.0.2.3", "mtu", "1500"});
  EXPECT_EQ(host_.watched_routes(), (std::set<std::string>{"", "underlay"}));
  const size_t applied = plane_.applied;
  host_.KernelSetRoute("underlay", Ip("192.0.2.2"), {1300, 3});
  manager_->HandleRouteEvents();
  manager_->FollowRoutes();
  EXPECT_EQ(View("etherip0").settings.mtu, 1464u);
  EXPECT_EQ(View("etherip1").settings.mtu, 1264u);
  EXPECT_EQ(host_.Link("etherip1")->mtu, 1264u);
  EXPECT_EQ(View("etherip2").settings.mtu, 1500u);
  EXPECT_GT(plane_.applied, applied);  // the interface was published again
  // The link event of the daemon's own change changes nothing more.
  manager_->HandleLinkEvents();
  EXPECT_EQ(View("etherip1").settings.mtu, 1264u);
  EXPECT_TRUE(View("etherip1").settings.mtu_auto);
}

TEST_F(InterfaceManagerTest, MtuNTurnsAutoOffAndMtuAutoTurnsItOn) {
  host_.KernelSetRoute("", Ip("192.0.2.2"), {9000, 7});
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "auto"});
  EXPECT_EQ(View("etherip0").settings.mtu, 8964u);
  ASSERT_TRUE(manager_->Set("etherip0", Options({"mtu", "1400"})));
  EXPECT_FALSE(View("etherip0").settings.mtu_auto);
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1400u);
  // No longer followed, nor watched.
  EXPECT_TRUE(host_.watched_routes().empty());
  host_.KernelSetRoute("", Ip("192.0.2.2"), {1500, 7});
  manager_->HandleRouteEvents();
  manager_->FollowRoutes();
  EXPECT_EQ(View("etherip0").settings.mtu, 1400u);
  ASSERT_TRUE(manager_->Set("etherip0", Options({"mtu", "auto"})));
  EXPECT_TRUE(View("etherip0").settings.mtu_auto);
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1464u);
}

TEST_F(InterfaceManagerTest, AnAutoMtuSetOutsideIsSetBack) {
  host_.KernelSetRoute("", Ip("192.0.2.2"), {1500, 7});
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "auto"});
  ASSERT_TRUE(host_.KernelSetMtu("etherip0", 1300));
  manager_->HandleLinkEvents();
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1464u);
  EXPECT_EQ(View("etherip0").settings.mtu, 1464u);
  EXPECT_TRUE(View("etherip0").settings.mtu_auto);
}

TEST_F(InterfaceManagerTest, ARouteThroughTheInterfaceItselfIsNoAnswer) {
  host_.KernelSetRoute("", Ip("192.0.2.2"), {1500, 7});
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "auto"});
  const int own = host_.Link("etherip0")->ifindex;
  host_.KernelSetRoute("", Ip("192.0.2.2"), {1464, own});
  manager_->HandleRouteEvents();
  manager_->FollowRoutes();
  EXPECT_EQ(View("etherip0").settings.mtu, 1464u);
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1464u);
}

constexpr std::string_view kAuto = R"(
[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
mtu = "auto"
up = true
)";

TEST_F(InterfaceManagerTest, ReloadKeepsAutoAndTheValueItFollows) {
  host_.KernelSetRoute("", Ip("192.0.2.2"), {1500, 7});
  ASSERT_TRUE(manager_->Replace(ConfigOf(kAuto), kPath));
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1464u);
  EXPECT_TRUE(View("etherip0").settings.mtu_auto);
  host_.KernelSetRoute("", Ip("192.0.2.2"), {1400, 7});
  manager_->HandleRouteEvents();
  manager_->FollowRoutes();
  EXPECT_EQ(View("etherip0").settings.mtu, 1364u);
  // The same file again: nothing to change, the followed value stays.
  const size_t lookups = host_.calls(Op::kLookupRouteMtu);
  const size_t mtu_sets = host_.calls(Op::kSetLinkMtu);
  ASSERT_TRUE(manager_->Replace(ConfigOf(kAuto), kPath));
  EXPECT_EQ(View("etherip0").settings.mtu, 1364u);
  EXPECT_EQ(host_.calls(Op::kSetLinkMtu), mtu_sets);
  EXPECT_EQ(host_.calls(Op::kLookupRouteMtu), lookups);
  // A file with a fixed MTU turns auto off; back to auto recomputes it.
  std::string fixed(kAuto);
  fixed.replace(fixed.find("\"auto\""), 6, "1280");
  ASSERT_TRUE(manager_->Replace(ConfigOf(fixed), kPath));
  EXPECT_FALSE(View("etherip0").settings.mtu_auto);
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1280u);
  ASSERT_TRUE(manager_->Replace(ConfigOf(kAuto), kPath));
  EXPECT_TRUE(View("etherip0").settings.mtu_auto);
  EXPECT_EQ(host_.Link("etherip0")->mtu, 1364u);
  // showconf, reloaded, is the same state.
  ASSERT_TRUE(manager_->Replace(ConfigOf(manager_->ShowConf()), kPath));
  EXPECT_EQ(View("etherip0").settings.mtu, 1364u);
  EXPECT_TRUE(View("etherip0").settings.mtu_auto);
}

TEST_F(InterfaceManagerTest, ADomainThatAppearsLaterIsWatchedAndFollowed) {
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "auto"});
  // No such domain yet: refused.
  EXPECT_FALSE(manager_->Set("etherip0", Options({"domain", "late"})));
  host_.AddDomain("late");
  host_.KernelSetRoute("late", Ip("192.0.2.2"), {1400, 3});
  ASSERT_TRUE(manager_->Set("etherip0", Options({"domain", "late"})));
  EXPECT_EQ(View("etherip0").settings.mtu, 1364u);
  // Recreated: a new namespace, watched anew, its routes looked up again.
  host_.RemoveDomain("late");
  host_.AddDomain("late");
  host_.KernelSetRoute("late", Ip("192.0.2.2"), {1300, 3});
  (void)host_.ReadRouteEvents();  // not the watch's: it is the old one's
  manager_->Refresh();
  ASSERT_TRUE(manager_->routes_pending());
  manager_->FollowRoutes();
  EXPECT_EQ(View("etherip0").settings.mtu, 1264u);
}

// --- Saving -----------------------------------------------------------------

TEST_F(InterfaceManagerTest, SaveWritesEveryAcceptedChange) {
  ASSERT_TRUE(manager_->Replace(ConfigOf("save = true\n"), kPath));
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "up"});
  auto reloaded = control::ParseConfig(host_.files()[kPath], kPath);
  ASSERT_TRUE(reloaded) << host_.files()[kPath];
  EXPECT_TRUE(reloaded->save);
  ASSERT_EQ(reloaded->interfaces.size(), 1u);
  EXPECT_EQ(reloaded->interfaces[0].settings, View("etherip0").settings);

  ASSERT_TRUE(manager_->SetAllow(true));
  EXPECT_TRUE(control::ParseConfig(host_.files()[kPath], kPath)->allow);
  ASSERT_TRUE(host_.KernelSetMtu("etherip0", 1300));
  manager_->HandleLinkEvents();
  EXPECT_EQ(control::ParseConfig(host_.files()[kPath], kPath)
                ->interfaces[0]
                .settings.mtu,
            1300u);
  ASSERT_TRUE(manager_->Destroy("etherip0"));
  EXPECT_TRUE(
      control::ParseConfig(host_.files()[kPath], kPath)->interfaces.empty());
}

TEST_F(InterfaceManagerTest, TheUserIsFixedAtStartAndSaved) {
  ASSERT_TRUE(
      manager_->Start(ConfigOf("save = true\nuser = \"nobody\"\n"), kPath));
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2"});
  EXPECT_EQ(control::ParseConfig(host_.files()[kPath], kPath)->user, "nobody");
  EXPECT_NE(manager_->ShowConf().find("user = \"nobody\"\n"),
            std::string::npos);
  const Observed before = Observe();
  for (std::string_view changed :
       {"save = true\n", "save = true\nuser = \"65534\"\n"}) {
    auto refused = manager_->Replace(ConfigOf(changed), kPath);
    ASSERT_FALSE(refused) << changed;
    EXPECT_EQ(refused.error().code, EINVAL);
    EXPECT_NE(refused.error().message.find("needs a restart"),
              std::string::npos)
        << refused.error().message;
    EXPECT_EQ(Observe(), before);
  }
  EXPECT_TRUE(
      manager_->Replace(ConfigOf("save = true\nuser = \"nobody\"\n"), kPath));
}

TEST_F(InterfaceManagerTest, ShowConfAndSaveKeepTheControlGroup) {
  ASSERT_TRUE(manager_->Replace(
      ConfigOf("save = true\ncontrol_group = \"4242\"\n"), kPath));
  EXPECT_NE(manager_->ShowConf().find("\ncontrol_group = \"4242\"\n"),
            std::string::npos);
  ASSERT_TRUE(manager_->SetAllow(true));
  auto saved = control::ParseConfig(host_.files()[kPath], kPath);
  ASSERT_TRUE(saved) << host_.files()[kPath];
  EXPECT_EQ(saved->globals().control_group, "4242");
  // A reload without it: gone from both.
  ASSERT_TRUE(manager_->Replace(ConfigOf("save = true\n"), kPath));
  ASSERT_TRUE(manager_->SetAllow(true));
  EXPECT_EQ(manager_->ShowConf().find("control_group"), std::string::npos);
  EXPECT_EQ(host_.files()[kPath].find("control_group"), std::string::npos);
}

TEST_F(InterfaceManagerTest, AFailedSaveRefusesTheChange) {
  ASSERT_TRUE(manager_->Replace(ConfigOf("save = true\n"), kPath));
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.2", "mtu", "1400"});
  const Observed before = Observe();
  for (int request = 0; request < 4; ++request) {
    SCOPED_TRACE(request);
    host_.FailNext(Op::kReplaceFile, Error{ENOSPC, "no space left on device"});
    Status done;
    switch (request) {
      case 0:
        done = manager_->Create("etherip1", Options({"up"}));
        break;
      case 1:
        done = manager_->Set("etherip0", Options({"mtu", "1300", "up"}));
        break;
      case 2:
        done = manager_->Destroy("etherip0");
        break;
      case 3:
        done = manager_->SetAllow(true);
        break;
    }
    ASSERT_FALSE(done.has_value());
    EXPECT_EQ(done.error().code, ENOSPC);
    manager_->HandleLinkEvents();
    EXPECT_EQ(Observe(), before);
    EXPECT_FALSE(allow_.load());
  }
}

// --- Shutdown and restarts --------------------------------------------------

TEST_F(InterfaceManagerTest, ShutdownRemovesAllInterfacesInOneDeletion) {
  for (int i = 0; i < 5; ++i) Create("etherip" + std::to_string(i), {"up"});
  manager_->Shutdown();
  EXPECT_EQ(host_.calls(Op::kDeleteLinkGroup), 1u);
  EXPECT_EQ(host_.link_count(), 1u);  // lo
  EXPECT_TRUE(plane_.interfaces.empty());
}

TEST_F(InterfaceManagerTest,
       ShutdownRemovesEveryInterfaceEvenIfTheGroupCannot) {
  for (int i = 0; i < 3; ++i) Create("etherip" + std::to_string(i), {"up"});
  host_.FailNext(Op::kDeleteLinkGroup, Error{EOPNOTSUPP, "injected"});
  manager_->Shutdown();
  EXPECT_EQ(host_.link_count(), 1u);  // each went with its device
  EXPECT_TRUE(plane_.interfaces.empty());
  EXPECT_EQ(host_.open_sockets(), 0u);
}

TEST_F(InterfaceManagerTest, PersistentInterfacesSurviveAndAreReattached) {
  constexpr std::string_view kPersist = R"(
persist = true
[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
lladdr = "fe:e1:ba:d0:00:01"
up = true
)";
  ASSERT_TRUE(manager_->Replace(ConfigOf(kPersist), kPath));
  const int ifindex = host_.Link("etherip0")->ifindex;
  manager_->Shutdown();
  ASSERT_TRUE(host_.Link("etherip0"));
  EXPECT_TRUE(host_.IsPersistent("etherip0"));
  EXPECT_EQ(host_.calls(Op::kDeleteLinkGroup), 0u);

  MakeManager();  // the restart
  ASSERT_TRUE(manager_->Replace(ConfigOf(kPersist), kPath));
  EXPECT_EQ(host_.calls(Op::kAttachTap), 1u);
  EXPECT_EQ(host_.Link("etherip0")->ifindex, ifindex);
  EXPECT_TRUE(View("etherip0").running);
  // `destroy` removes a persistent interface for good.
  ASSERT_TRUE(manager_->Destroy("etherip0"));
  EXPECT_FALSE(host_.Link("etherip0"));
}

TEST_F(InterfaceManagerTest, StartRemovesWhatAKilledPredecessorLeft) {
  // A TAP of the previous daemon, still on its way out.
  ASSERT_TRUE(host_.KernelAddLink("etherip0"));
  ASSERT_TRUE(host_.SetLinkGroup(host_.Link("etherip0")->ifindex, kGroup));
  ASSERT_TRUE(host_.KernelAddLink("other0"));  // not ours: left alone
  constexpr std::string_view kOne = R"(
[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
up = true
)";
  ASSERT_TRUE(manager_->Start(ConfigOf(kOne), kPath));
  EXPECT_TRUE(View("etherip0").running);
  EXPECT_TRUE(host_.Link("other0"));
}

// --- Domains
// ------------------------------------------------------------------

TEST_F(InterfaceManagerTest, ADomainThatGoesAndComesBack) {
  host_.AddDomain("underlay");
  Create("etherip0",
         {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "underlay", "up"});
  Create("etherip1", {"tunnel", "192.0.2.1", "192.0.2.2", "up"});
  EXPECT_EQ(host_.open_sockets(), 2u);
  host_.RemoveDomain("underlay");
  manager_->Refresh();
  EXPECT_FALSE(View("etherip0").running);
  EXPECT_FALSE(host_.carrier("etherip0"));
  EXPECT_TRUE(View("etherip1").running);
  EXPECT_EQ(host_.open_sockets(), 1u);
  host_.AddDomain("underlay");
  manager_->Refresh();
  EXPECT_TRUE(View("etherip0").running);
  EXPECT_TRUE(host_.carrier("etherip0"));
  EXPECT_EQ(host_.open_sockets(), 2u);
}

// --- Host names and zones ---------------------------------------------------

class NamedTunnelManagerTest : public InterfaceManagerTest {
 protected:
  NamedTunnelManagerTest() {
    manager_.reset();
    manager_ = std::make_unique<InterfaceManager>(
        host_, plane_, counters_, allow_,
        InterfaceManager::Options{kPath, kGroup, false, &resolver_});
  }
  ~NamedTunnelManagerTest() override { manager_.reset(); }

  // The resolver's lookups due `after` from now, applied.
  void Resolve(std::chrono::seconds after = std::chrono::seconds(0)) {
    resolver_.RunDue(EndpointResolver::Clock::now() + after);
    manager_->ApplyResolutions(resolver_.TakeAnswers());
  }
  static IpAddress Ip(std::string_view text) {
    return IpAddress::Parse(text).value();
  }

  std::shared_ptr<MemoryResolver> names_ = std::make_shared<MemoryResolver>();
  EndpointResolver resolver_{names_};
};

TEST_F(NamedTunnelManagerTest, ANameComesIntoUseWhenItResolves) {
  names_->SetHost("", "peer.example", {Ip("192.0.2.2")});
  Create("etherip0", {"tunnel", "192.0.2.1", "peer.example", "up"});
  // Accepted, not running yet, nothing forwarded, no socket.
  control::InterfaceView view = View("etherip0");
  EXPECT_FALSE(view.running);
  EXPECT_EQ(view.unresolved, kNotResolved);
  EXPECT_FALSE(view.addresses);
  EXPECT_FALSE(host_.carrier("etherip0"));
  ASSERT_NE(Published("etherip0"), nullptr);
  EXPECT_FALSE(Published("etherip0")->has_tunnel);
  EXPECT_EQ(host_.open_sockets(), 0u);

  Resolve();
  view = View("etherip0");
  EXPECT_TRUE(view.running);
  EXPECT_EQ(view.unresolved, "");
  EXPECT_EQ(view.addresses, (Tunnel{Ip("192.0.2.1"), Ip("192.0.2.2")}));
  EXPECT_TRUE(host_.carrier("etherip0"));
  ASSERT_TRUE(Published("etherip0")->has_tunnel);
  EXPECT_EQ(Published("etherip0")->tunnel.destination, Ip("192.0.2.2"));
  EXPECT_EQ(host_.open_sockets(), 1u);
  // showconf writes the name, not the address.
  EXPECT_NE(manager_->ShowConf().find("destination = \"peer.example\"\n"),
            std::string::npos);
  EXPECT_EQ(manager_->ShowConf().find("192.0.2.2"), std::string::npos);
}

TEST_F(NamedTunnelManagerTest, ANewAddressMovesTheTunnelInOneChange) {
  names_->SetHost("", "peer.example", {Ip("192.0.2.2")});
  ASSERT_TRUE(manager_->Replace(ConfigOf(R"(resolve_interval = 10
[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "peer.example"
up = true
)"),
                                kPath));
  Resolve();
  ASSERT_TRUE(View("etherip0").running);
  names_->SetHost("", "peer.example", {Ip("192.0.2.3")});
  Resolve(std::chrono::seconds(5));  // not due yet
  EXPECT_EQ(Published("etherip0")->tunnel.destination, Ip("192.0.2.2"));
  const size_t applied = plane_.applied;
  Resolve(std::chrono::seconds(11));
  EXPECT_EQ(plane_.applied, applied + 1);
  EXPECT_EQ(Published("etherip0")->tunnel.destination, Ip("192.0.2.3"));
  EXPECT_TRUE(View("etherip0").running);
  EXPECT_NE(manager_->ShowConf().find("resolve_interval = 10\n"),
            std::string::npos);
}

TEST_F(NamedTunnelManagerTest, ANameThatDoesNotResolveIsNotRefused) {
  // Not at start or reload either.
  ASSERT_TRUE(manager_->Start(ConfigOf(R"([[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "nowhere.example"
up = true
)"),
                              kPath));
  Resolve();
  control::InterfaceView view = View("etherip0");
  EXPECT_FALSE(view.running);
  EXPECT_EQ(view.unresolved, "nowhere.example: Name or service not known");
  EXPECT_TRUE(host_.Link("etherip0"));
  // It resolves later: it starts.
  names_->SetHost("", "nowhere.example", {Ip("192.0.2.9")});
  Resolve(EndpointResolver::kRetry + std::chrono::seconds(1));
  EXPECT_TRUE(View("etherip0").running);
  EXPECT_TRUE(host_.carrier("etherip0"));
  // And stops when it no longer does.
  names_->RemoveHost("", "nowhere.example");
  Resolve(std::chrono::seconds(120));
  EXPECT_FALSE(View("etherip0").running);
  EXPECT_FALSE(host_.carrier("etherip0"));
  EXPECT_FALSE(Published("etherip0")->has_tunnel);
  EXPECT_EQ(host_.open_sockets(), 0u);
}

TEST_F(NamedTunnelManagerTest, ANameResolvingToAnotherTunnelsKeyWaits) {
  names_->SetHost("", "clash.example", {Ip("192.0.2.9")});
  Create("etherip0", {"tunnel", "192.0.2.1", "192.0.2.9", "up"});
  Create("etherip1", {"tunnel", "192.0.2.1", "clash.example", "up"});
  Resolve();
  control::InterfaceView view = View("etherip1");
  EXPECT_FALSE(view.running);
  EXPECT_EQ(view.unresolved, "192.0.2.1 -> 192.0.2.9 is in use by etherip0");
  EXPECT_FALSE(Published("etherip1")->has_tunnel);
  // The holder goes: the waiting one takes over.
  ASSERT_TRUE(manager_->Destroy("etherip0"));
  EXPECT_TRUE(View("etherip1").running);
  EXPECT_TRUE(host_.carrier("etherip1"));
  ASSERT_TRUE(Published("etherip1")->has_tunnel);
  // A tunnel of literals takes it back.
  Create("etherip2", {"tunnel", "192.0.2.1", "192.0.2.9", "up"});
  EXPECT_FALSE(View("etherip1").running);
  EXPECT_FALSE(host_.carrier("etherip1"));
  EXPECT_FALSE(Published("etherip1")->has_tunnel);
  EXPECT_TRUE(Published("etherip2")->has_tunnel);
}

TEST_F(NamedTunnelManagerTest, SetAndRenameKeepTheLookupsRight) {
  names_->SetHost("", "a.example", {Ip("192.0.2.2")});
  names_->SetHost("", "b.example", {Ip("192.0.2.3")});
  Create("etherip0", {"tunnel", "192.0.2.1", "a.example", "up"});
  Resolve();
  // Another setting keeps what it resolved to; another name is looked up.
  ASSERT_TRUE(manager_->Set("etherip0", Options({"mtu", "1400"})));
  EXPECT_TRUE(View("etherip0").running);
  ASSERT_TRUE(
      manager_->Set("etherip0", Options({"tunnel", "192.0.2.1", "b.example"})));
  EXPECT_FALSE(View("etherip0").running);
  Resolve();
  EXPECT_EQ(View("etherip0").addresses->destination, Ip("192.0.2.3"));
  // Renamed with `ip link`: its answers follow it.
  ASSERT_TRUE(host_.KernelRename("etherip0", "tun0"));
  manager_->HandleLinkEvents();
  names_->SetHost("", "b.example", {Ip("192.0.2.4")});
  Resolve(std::chrono::seconds(61));
  EXPECT_EQ(View("tun0").addresses->destination, Ip("192.0.2.4"));
  // Literals again: nothing more to look up.
  ASSERT_TRUE(
      manager_->Set("tun0", Options({"tunnel", "192.0.2.1", "192.0.2.5"})));
  EXPECT_TRUE(View("tun0").running);
  const size_t lookups = names_->lookups();
  Resolve(std::chrono::seconds(3600));
  EXPECT_EQ(names_->lookups(), lookups);
}

TEST_F(NamedTunnelManagerTest, AZoneIsLookedUpAgainWhenLinksChange) {
  Create("etherip0", {"tunnel", "fe80::a%veth0", "fe80::b", "up"});
  Resolve();
  EXPECT_EQ(View("etherip0").unresolved, "zone veth0: No such device");
  // The link appears in the daemon's namespace: looked up at once, not
  // at the next retry.
  names_->SetInterface("", "veth0", 9);
  ASSERT_TRUE(host_.KernelAddLink("veth0"));
  manager_->HandleLinkEvents();
  Resolve();
  EXPECT_TRUE(View("etherip0").running);
  EXPECT_EQ(Published("etherip0")->tunnel.scope, 9u);
}

TEST_F(NamedTunnelManagerTest, AZonedTunnelRunsOnceItsInterfaceIsFound) {
  host_.AddDomain("underlay");
  Create("etherip0", {"tunnel", "fe80::a%veth0", "fe80::b%veth0", "domain",
                      "underlay", "up"});
  // Its socket is open already (the family is known), but it is not in use.
  EXPECT_EQ(host_.open_sockets(), 1u);
  Resolve();
  EXPECT_FALSE(View("etherip0").running);
  EXPECT_EQ(View("etherip0").unresolved, "zone veth0: No such device");
  names_->SetInterface("underlay", "veth0", 6);
  Resolve(EndpointResolver::kRetry + std::chrono::seconds(1));
  EXPECT_TRUE(View("etherip0").running);
  ASSERT_TRUE(Published("etherip0")->has_tunnel);
  EXPECT_EQ(Published("etherip0")->tunnel.scope, 6u);
  EXPECT_NE(manager_->ShowConf().find("source = \"fe80::a%veth0\"\n"),
            std::string::npos);
}

}  // namespace
}  // namespace etherip

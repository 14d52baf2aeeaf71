// The daemon's state and every change to it, on the control thread: the
// tunnel table, the TAP device of each interface, the outer sockets of each
// (family, domain), the allow switch, all through the host seam (io/host.h).
//
// A request is validated against the state it would produce
// (TunnelTable::Prepare*), then its I/O is done (TAP, link settings,
// sockets, and with `save` the configuration file), each step undone if a
// later one fails, then it is committed and only what changed is published
// to the data plane. A refused request or reload changes nothing.
//
// The kernel is the truth about links: link events (HandleLinkEvents) keep
// each interface's admin state, MTU, MAC, name and existence equal to the
// kernel's, whoever changed them.
//
// `mtu auto`: an interface's MTU is computed from the route to its tunnel's
// destination (AutoMtu, core/auto_mtu.h) when a request or reload sets it,
// and again when route events (HandleRouteEvents, FollowRoutes) say that
// the routes or links of its domain changed.
// Tunnels with host names or a zone that names an interface are handed to
// the resolver (ResolutionRequests) whenever they are configured anew; its
// answers come back through ApplyResolutions, which moves the tunnel in the
// table and the data plane at once and logs the old and new addresses.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/config_file.h"
#include "control/protocol.h"
#include "core/counters.h"
#include "core/tunnel_table.h"
#include "daemon/counter_source.h"
#include "daemon/device_reaper.h"
#include "daemon/endpoint_resolver.h"
#include "engine/plane_changes.h"
#include "io/host.h"

namespace etherip {

class InterfaceManager {
 public:
  struct Options {
    // The configuration file `save = true` writes back to.
    std::string config_path;
    // The link group the daemon's TAPs are put in, so that all of them go
    // in one deletion (0: none).
    uint32_t link_group = 0;
    // Removes dropped TAPs on a thread of their own: the kernel's
    // unregister wait (~15 ms each) is then not paid by a request.
    bool release_in_background = true;
    // Looks up host names and zones; null: tunnels that need a lookup
    // never come into use.
    ResolutionRequests* resolver = nullptr;
  };

  InterfaceManager(Host& host, PlanePublisher& plane, GlobalCounters& counters,
                   std::atomic<bool>& allow, Options options);
  ~InterfaceManager();  // Shutdown()

  Status Create(std::string_view name,
                std::span<const InterfaceOption> options);
  Status Set(std::string_view name, std::span<const InterfaceOption> options);
  Status Destroy(std::string_view name);
  // Makes the running state equal to `config` (SPEC 6 reload; also the
  // start): only the difference is applied; an error changes nothing and
  // names PATH:LINE.
  Status Replace(const control::Config& config, std::string_view path);
  // The first Replace of a daemon; it fixes the `user` every later
  // Replace must name (changing it is refused: EINVAL). Without `persist`, TAPs
  // a killed predecessor left in the link group (the kernel may still be
  // removing them, one unregister wait each) are removed first, all at once, so
  // their names are free.
  Status Start(const control::Config& config, std::string_view path);
  Status SetAllow(bool allow);
  bool allow() const { return allow_.load(); }
  // Stops forwarding and lets go of every interface: persistent ones stay
  // (a restart reattaches them), the others are removed at once.
  void Shutdown();

  // ENXIO when `name` is given and unknown.
  Result<std::vector<control::InterfaceView>> Show(
      std::optional<std::string_view> name) const;
  GlobalCounterValues Stats() const { return counters_.Read(); }
  // How many interfaces there are, and how many of them are running.
  std::pair<size_t, size_t> CountRunning() const;
  // Every interface's name, whether it runs, and its live counters, for
  // the metrics listener.
  std::vector<InterfaceCounterSource> CounterSources() const;
  std::string ShowConf() const;

  // The host's link events are readable: follow them.
  void HandleLinkEvents();
  // Domains may have come, gone or been recreated: reopen or close their
  // sockets, and carriers follow `running`.
  void Refresh();
  // Route events are readable: notes the domains whose routes or links
  // changed, for FollowRoutes.
  void HandleRouteEvents();
  // Whether route changes wait for FollowRoutes (the daemon waits a moment
  // first, so that a burst of events costs one pass).
  bool routes_pending() const { return !route_changes_.empty(); }
  // Recomputes the automatic MTU of the interfaces of every domain whose
  // routes changed, and sets it on the links whose value changed.
  void FollowRoutes();
  // Sources that failed under the forwarding loop: a device whose link is
  // gone is forgotten (link events usually say so first); a failed socket
  // is reopened.
  void HandleFailures(std::span<const InterfaceId> devices,
                      std::span<const Endpoint> sockets);
  // The resolver's answers: each tunnel they concern comes into use,
  // moves to its new addresses, or goes out of use, in the table and the
  // data plane in one change (answers about a tunnel an interface no
  // longer has are ignored).
  void ApplyResolutions(std::span<const EndpointResolver::Answer> answers);

 private:
  struct Runtime {
    std::shared_ptr<TapDevice> tap;
    std::string name;  // the key in table_; follows renames
    bool carrier = false;
  };
  struct SocketSlot {
    std::shared_ptr<HostSocket> socket;
    NamespaceId netns;  // the namespace it was opened in
  };
  using SocketKey = std::pair<Family, std::string>;
  // An interface's settings after a change; nullopt: destroyed.
  using Overrides =
      std::map<std::string, std::optional<InterfaceSettings>, std::less<>>;

  // A TAP for a new interface, its link settings applied.
  Result<std::shared_ptr<TapDevice>> MakeTap(std::string_view name,
                                             const InterfaceSettings& settings,
                                             bool attach);
  // Applies the link settings of `after` that `force` says or that differ
  // from `before`; undoes the applied ones if a step fails.
  Status ApplyLinkChanges(TapDevice& tap, const InterfaceSettings& before,
                          const InterfaceSettings& after, bool force);
  // Lets go of a TAP: while its link exists, its carrier goes off and it
  // is renamed "eipxIFINDEX" (hex) at once, so that its name is free when
  // the request is answered; the reaper removes it later.
  void ReleaseTap(std::shared_ptr<TapDevice> tap, bool link_exists = true);
  // Opens the socket of (family, domain) unless it is open in the domain's
  // current namespace; nothing when the domain does not exist.
  Status EnsureSocket(const SocketKey& key, PlaneChanges& changes);
  Status EnsureSocketFor(const InterfaceSettings& settings,
                         PlaneChanges& changes);
  // Closes sockets no tunnel needs or whose namespace is gone or
  // recreated, opens those tunnels need.
  void SyncSockets(PlaneChanges& changes);
  // The endpoint's socket leaves the data plane.
  void DropSocket(Endpoint endpoint, PlaneChanges& changes);
  // Carrier of one interface follows `running`.
  void SyncCarrier(const InterfaceState& state, const DomainCatalog& domains);
  void SyncAllCarriers();
  void PublishInterface(const InterfaceState& state, PlaneChanges& changes);
  // Publishes the interfaces a commit changed besides the one it named
  // (TunnelTable::TakeAffected), their carriers following.
  void PublishAffected(PlaneChanges& changes);
  // Tells the resolver what interface `name` now needs looked up, when its
  // tunnel or domain changed from `before` to `after` (null: none).
  void Rewatch(std::string_view name, const InterfaceSettings* before,
               const InterfaceSettings* after);
  void Forget(InterfaceId id, PlaneChanges& changes);
  void Publish(PlaneChanges changes);

  // With `save`: writes the file as the state will be after `overrides`
  // (and with these global settings); the caller undoes its I/O when this
  // fails. Without: nothing.
  Status SaveWith(const Overrides& overrides,
                  const control::GlobalSettings& globals);
  std::string Render(const Overrides& overrides,
                     const control::GlobalSettings& globals) const;
  // The global settings in force, with `allow`.
  control::GlobalSettings Globals(bool allow) const;

  // `mtu auto`: with settings.mtu_auto and a tunnel, sets settings.mtu to
  // the value the route to the destination gives; keeps it when there is
  // none, and says why in the log (at debug level when `quiet`).
  // `ifindex`: the interface's own link (0: none yet), whose route through
  // itself is no answer. Returns whether settings.mtu changed.
  bool ResolveAutoMtu(std::string_view name, InterfaceSettings& settings,
                      int ifindex, bool quiet);
  // Watches the routes of the domains of automatic MTUs, and only those; a
  // domain newly watched counts as changed.
  void SyncRouteWatches();

  // Link events.
  bool FollowLink(const LinkInfo& link, PlaneChanges& changes);
  bool Resynchronise(PlaneChanges& changes);
  // The link of interface `id` is gone: so is the interface.
  void ForgetDeletedLink(InterfaceId id, PlaneChanges& changes);
  Runtime* RuntimeByIfindex(int ifindex);
  Runtime& RuntimeOf(InterfaceId id);

  Host& host_;
  PlanePublisher& plane_;
  GlobalCounters& counters_;
  std::atomic<bool>& allow_;
  Options options_;
  bool save_ = false;
  bool persist_ = false;
  bool disable_ipv6_ = false;
  std::string user_;           // the configuration's `user`, fixed at Start
  std::string control_group_;  // as configured, rendered by showconf/save;
                               // ControlServer applies it
  std::string metrics_;  // the metrics listener (fixed at start), as written
  uint32_t resolve_interval_ = control::kDefaultResolveInterval;
  TunnelTable table_;
  std::vector<Runtime> runtime_;  // by InterfaceId
  absl::flat_hash_map<int, InterfaceId> by_ifindex_;
  std::map<SocketKey, SocketSlot> sockets_;
  size_t published_domains_ = 1;
  std::set<std::string> route_changes_;  // domains, for FollowRoutes
  DeviceReaper reaper_;
};

// The link group of the daemon serving control socket `socket_path`: the
// same for every start of that daemon, so that a restart finds the TAPs a
// killed predecessor left, and different for daemons on other sockets.
uint32_t LinkGroupFor(std::string_view socket_path);

}  // namespace etherip

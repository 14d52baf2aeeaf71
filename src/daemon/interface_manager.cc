#include "daemon/interface_manager.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <random>
#include <set>

#include "core/auto_mtu.h"

namespace etherip {
namespace {

TunnelTable::MacGenerator RandomMacs() {
  auto random = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [random] { return MacAddress::RandomLocal(*random); };
}

std::string Describe(const InterfaceSettings& s) {
  std::string text = fmt::format(
      "tunnel {} domain {} {} mtu {}{} lladdr {} header {} master {} ttl {} "
      "{} tos {} fwmark {:#x}",
      s.tunnel ? s.tunnel->ToString() : "none", DomainLabel(s.domain),
      s.up ? "up" : "down", s.mtu, s.mtu_auto ? " (auto)" : "",
      s.lladdr.ToString(), HeaderModeName(s.header),
      s.master.empty() ? "(none)" : s.master, s.ttl, s.df ? "df" : "-df",
      s.tos.ToString(), s.fwmark);
  if (s.eoip) {
    text += fmt::format(" eoip {} keepalive {}", *s.eoip, s.keepalive);
  }
  return text;
}

// Addresses for the log, with the zone's interface index when there is one.
std::string AddressesText(const Tunnel& tunnel) {
  if (tunnel.scope == 0) return tunnel.ToString();
  return fmt::format("{} (zone index {})", tunnel.ToString(), tunnel.scope);
}

}  // namespace

uint32_t LinkGroupFor(std::string_view socket_path) {
  // FNV-1a of the path, in a range of its own: 0x4549xxxx ("EI").
  uint32_t hash = 2166136261u;
  for (char c : socket_path) {
    hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
  }
  return 0x45490000u | (hash & 0xffffu);
}

InterfaceManager::InterfaceManager(Host& host, PlanePublisher& plane,
                                   GlobalCounters& counters,
                                   std::atomic<bool>& allow, Options options)
    : host_(host),
      plane_(plane),
      counters_(counters),
      allow_(allow),
      options_(std::move(options)),
      table_(RandomMacs()),
      reaper_(options_.release_in_background) {}

InterfaceManager::~InterfaceManager() { Shutdown(); }

InterfaceManager::Runtime& InterfaceManager::RuntimeOf(InterfaceId id) {
  if (id >= runtime_.size()) runtime_.resize(id + 1);
  return runtime_[id];
}

InterfaceManager::Runtime* InterfaceManager::RuntimeByIfindex(int ifindex) {
  auto it = by_ifindex_.find(ifindex);
  return it == by_ifindex_.end() ? nullptr : &runtime_[it->second];
}

// --- Devices ---------------------------------------------------------------

Result<std::shared_ptr<TapDevice>> InterfaceManager::MakeTap(
    std::string_view name, const InterfaceSettings& settings, bool attach) {
  auto tap = attach ? host_.AttachTap(name) : host_.CreateTap(name, persist_);
  if (!tap && !attach && tap.error().code == EEXIST) {
    // A TAP of that name may still be on its way out (a destroy a moment
    // ago): wait for what the reaper holds, then try once more.
    reaper_.Flush();
    tap = host_.CreateTap(name, persist_);
  }
  if (!tap) return tl::unexpected(tap.error());
  std::shared_ptr<TapDevice> device = std::move(*tap);
  auto undo = [&](Error error) -> Result<std::shared_ptr<TapDevice>> {
    ReleaseTap(std::move(device));
    return tl::unexpected(std::move(error));
  };
  if (options_.link_group != 0) {
    if (auto grouped =
            host_.SetLinkGroup(device->ifindex(), options_.link_group);
        !grouped) {
      return undo(grouped.error());
    }
  }
  // Before the link goes up, so the kernel never configures IPv6 on it. A
  // new TAP has the namespace's default; an attached one what it was left
  // with.
  if (disable_ipv6_ || attach) {
    if (auto set = host_.SetLinkIpv6(device->ifindex(), !disable_ipv6_); !set) {
      return undo(set.error());
    }
  }
  // Set every link setting, whatever the device has now: the kernel's
  // defaults for a new TAP, anything for an attached one.
  if (auto applied = ApplyLinkChanges(*device, settings, settings, true);
      !applied) {
    return undo(applied.error());
  }
  if (attach) {
    if (auto persisted = device->SetPersist(persist_); !persisted) {
      return undo(persisted.error());
    }
  }
  return device;
}

Status InterfaceManager::ApplyLinkChanges(TapDevice& tap,
                                          const InterfaceSettings& before,
                                          const InterfaceSettings& after,
                                          bool force) {
  const int index = tap.ifindex();
  // In order: MAC, MTU and master before the link goes up. A failed step
  // undoes the ones before it, best effort. A master is set when one is
  // managed; an explicit `-master` (forced, from a set) takes the link out
  // of its master, a reload that drops it leaves the link where it is.
  const bool master_needed = after.master.empty()
                                 ? force && !before.master.empty()
                                 : force || before.master != after.master;
  struct Step {
    bool needed;
    std::function<Status()> apply;
    std::function<Status()> undo;
  };
  const Step steps[] = {
      {force || before.lladdr != after.lladdr,
       [&] { return host_.SetLinkAddress(index, after.lladdr); },
       [&] { return host_.SetLinkAddress(index, before.lladdr); }},
      {force || before.mtu != after.mtu,
       [&] { return host_.SetLinkMtu(index, after.mtu); },
       [&] { return host_.SetLinkMtu(index, before.mtu); }},
      {master_needed, [&] { return host_.SetLinkMaster(index, after.master); },
       [&] { return host_.SetLinkMaster(index, before.master); }},
      {force || before.up != after.up,
       [&] { return host_.SetLinkUp(index, after.up); },
       [&] { return host_.SetLinkUp(index, before.up); }},
  };
  for (size_t i = 0; i < std::size(steps); ++i) {
    if (!steps[i].needed) continue;
    if (auto done = steps[i].apply(); !done) {
      for (size_t j = i; j-- > 0;) {
        if (steps[j].needed) (void)steps[j].undo();
      }
      tap.SetMtu(before.mtu);
      return done;
    }
  }
  // Super-frames read from the TAP are cut for the link's MTU.
  tap.SetMtu(after.mtu);
  return {};
}

void InterfaceManager::ReleaseTap(std::shared_ptr<TapDevice> tap,
                                  bool link_exists) {
  if (!tap) return;
  const int index = tap->ifindex();
  if (link_exists) {
    // Renamed "eipxIFINDEX" at once, so that its name is free when the
    // request is answered, and its carrier off so that it carries nothing.
    // A kernel before 6.2 renames only a link that is down; taking it
    // down costs the kernel much more (IPv6 teardown) where it can be
    // avoided.
    (void)tap->SetCarrier(false);
    const std::string aside = fmt::format("eipx{:x}", index);
    auto renamed = host_.SetLinkName(index, aside);
    if (!renamed && renamed.error().code == EBUSY) {
      renamed = host_.SetLinkUp(index, false);
      if (renamed) renamed = host_.SetLinkName(index, aside);
    }
    if (!renamed) {
      spdlog::warn("ifindex {}: cannot set aside before removal: {}", index,
                   renamed.error().message);
    }
  }
  // A persistent TAP would outlive the interface it no longer is.
  if (persist_) (void)tap->SetPersist(false);
  reaper_.Release(std::move(tap));
}

// --- Sockets ---------------------------------------------------------------

Status InterfaceManager::EnsureSocket(const SocketKey& key,
                                      PlaneChanges& changes) {
  const auto& [family, domain] = key;
  const auto identity = host_.DomainIdentity(domain);
  if (!identity) return {};  // the domain is gone: not running, no socket
  auto it = sockets_.find(key);
  if (it != sockets_.end() && it->second.netns == *identity) return {};
  auto socket = host_.OpenSocket(family, domain);
  if (!socket) return tl::unexpected(socket.error());
  const Endpoint endpoint{family, table_.DomainIdOf(domain)};
  changes.sockets.push_back({endpoint, *socket, (*socket)->fd()});
  sockets_[key] = SocketSlot{std::move(*socket), *identity};
  spdlog::info("opened {} socket in domain {}", FamilyName(family),
               DomainLabel(domain));
  return {};
}

Status InterfaceManager::EnsureSocketFor(const InterfaceSettings& settings,
                                         PlaneChanges& changes) {
  // A tunnel with host names needs its socket once they resolve (its
  // family is not known before): SyncSockets opens it then.
  if (!settings.tunnel || settings.tunnel->has_names()) return {};
  return EnsureSocket({settings.tunnel->family(), settings.domain}, changes);
}

void InterfaceManager::SyncSockets(PlaneChanges& changes) {
  const auto& needed = table_.endpoint_users();
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    const auto& [family, domain] = it->first;
    if (needed.contains(it->first) &&
        host_.DomainIdentity(domain) == it->second.netns) {
      ++it;
      continue;
    }
    spdlog::info("closed {} socket in domain {}", FamilyName(family),
                 DomainLabel(domain));
    DropSocket(Endpoint{family, table_.DomainIdOf(domain)}, changes);
    it = sockets_.erase(it);
  }
  for (const auto& [key, users] : needed) {
    if (sockets_.contains(key)) continue;
    if (auto opened = EnsureSocket(key, changes); !opened) {
      spdlog::error("domain {}: cannot open socket: {}",
                    DomainLabel(key.second), opened.error().message);
    }
  }
}

void InterfaceManager::DropSocket(Endpoint endpoint, PlaneChanges& changes) {
  // A socket opened earlier in the same change set is simply not added.
  std::erase_if(changes.sockets, [&](const auto& socket) {
    return socket.endpoint == endpoint;
  });
  changes.erased_sockets.push_back(endpoint);
}

// --- Carriers and publishing -----------------------------------------------

void InterfaceManager::SyncCarrier(const InterfaceState& state,
                                   const DomainCatalog& domains) {
  Runtime& runtime = RuntimeOf(state.id);
  if (!runtime.tap) return;
  const bool running = TunnelTable::IsRunning(state, domains);
  if (running == runtime.carrier) return;
  if (auto done = runtime.tap->SetCarrier(running); !done) {
    spdlog::error("{}: cannot set carrier: {}", state.name,
                  done.error().message);
    return;
  }
  runtime.carrier = running;
  spdlog::info("{}: {}", state.name, running ? "running" : "not running");
}

void InterfaceManager::SyncAllCarriers() {
  // Each domain is looked up once per pass, not once per interface.
  class Remembered : public DomainCatalog {
   public:
    explicit Remembered(const DomainCatalog& host) : host_(host) {}
    bool Exists(std::string_view name) const override {
      auto it = known_.find(name);
      if (it == known_.end()) {
        it = known_.emplace(std::string(name), host_.Exists(name)).first;
      }
      return it->second;
    }

   private:
    const DomainCatalog& host_;
    mutable std::map<std::string, bool, std::less<>> known_;
  };
  Remembered domains(host_);
  for (const InterfaceState* state : table_.List()) {
    SyncCarrier(*state, domains);
  }
}

void InterfaceManager::PublishInterface(const InterfaceState& state,
                                        PlaneChanges& changes) {
  const Runtime& runtime = RuntimeOf(state.id);
  PlaneChanges::Interface update;
  update.entry = table_.EntryOf(state);
  update.counters = state.counters;
  update.device = runtime.tap;
  update.fd = runtime.tap ? runtime.tap->fd() : -1;
  changes.interfaces.push_back(std::move(update));
}

void InterfaceManager::PublishAffected(PlaneChanges& changes) {
  for (const std::string& name : table_.TakeAffected()) {
    const InterfaceState* state = table_.Find(name);
    if (state == nullptr) continue;  // destroyed by the same commit
    if (state->in_use()) {
      spdlog::info("{}: tunnel {}: in use: {}", name,
                   state->settings.tunnel->ToString(),
                   state->addresses->ToString());
    } else {
      spdlog::warn("{}: tunnel {}: not in use: {}", name,
                   state->settings.tunnel->ToString(),
                   table_.Unresolved(*state));
    }
    SyncCarrier(*state, host_);
    PublishInterface(*state, changes);
  }
}

void InterfaceManager::Rewatch(std::string_view name,
                               const InterfaceSettings* before,
                               const InterfaceSettings* after) {
  if (options_.resolver == nullptr) return;
  const bool had =
      before != nullptr && before->tunnel && before->tunnel->needs_lookup();
  const bool has =
      after != nullptr && after->tunnel && after->tunnel->needs_lookup();
  if (before != nullptr && after != nullptr &&
      before->tunnel == after->tunnel && before->domain == after->domain) {
    return;  // the same tunnel keeps what it resolved to
  }
  if (had && !has) options_.resolver->Unwatch(name);
  if (has) options_.resolver->Watch(name, after->domain, *after->tunnel);
}

void InterfaceManager::ApplyResolutions(
    std::span<const EndpointResolver::Answer> answers) {
  PlaneChanges changes;
  bool changed = false;
  for (const EndpointResolver::Answer& answer : answers) {
    const InterfaceState* state = table_.Find(answer.interface);
    if (state == nullptr) continue;
    const std::optional<Tunnel> before =
        state->in_use() ? state->addresses : std::nullopt;
    const std::string reason_before = table_.Unresolved(*state);
    if (!table_.CommitResolution(answer.interface, answer.domain, answer.tunnel,
                                 answer.addresses)) {
      continue;
    }
    changed = true;
    state = table_.Find(answer.interface);
    const std::string tunnel = state->settings.tunnel->ToString();
    if (state->in_use() && before) {
      spdlog::info("{}: tunnel {}: moved from {} to {}", state->name, tunnel,
                   AddressesText(*before), AddressesText(*state->addresses));
    } else if (state->in_use()) {
      spdlog::info("{}: tunnel {}: resolved to {}", state->name, tunnel,
                   AddressesText(*state->addresses));
    } else if (const std::string reason = table_.Unresolved(*state);
               before || reason != reason_before) {
      spdlog::warn("{}: tunnel {}: {}unresolved: {}", state->name, tunnel,
                   before ? fmt::format("was {}, now ", AddressesText(*before))
                          : std::string(),
                   reason);
    }
    SyncCarrier(*state, host_);
    PublishInterface(*state, changes);
    // Other addresses, maybe another route: an automatic MTU follows.
    if (state->settings.mtu_auto) route_changes_.insert(state->settings.domain);
  }
  if (!changed) return;
  PublishAffected(changes);
  SyncSockets(changes);
  Publish(std::move(changes));
}

void InterfaceManager::Forget(InterfaceId id, PlaneChanges& changes) {
  Runtime& runtime = RuntimeOf(id);
  by_ifindex_.erase(runtime.tap ? runtime.tap->ifindex() : 0);
  changes.erased_interfaces.push_back(id);
}

void InterfaceManager::Publish(PlaneChanges changes) {
  if (table_.domain_names().size() != published_domains_) {
    published_domains_ = table_.domain_names().size();
    changes.domain_names = table_.domain_names();
  }
  if (!changes.empty()) plane_.Apply(std::move(changes));
}

// --- Saving ----------------------------------------------------------------

control::GlobalSettings InterfaceManager::Globals(bool allow) const {
  return {allow, save_,          persist_, disable_ipv6_,
          user_, control_group_, metrics_, resolve_interval_};
}

std::string InterfaceManager::Render(
    const Overrides& overrides, const control::GlobalSettings& globals) const {
  std::vector<control::InterfaceView> views;
  for (const InterfaceState* state : table_.List()) {
    auto it = overrides.find(state->name);
    if (it == overrides.end()) {
      views.push_back({state->name, state->settings, false, {}});
    } else if (it->second) {
      views.push_back({state->name, *it->second, false, {}});
    }
  }
  for (const auto& [name, settings] : overrides) {
    if (settings && table_.Find(name) == nullptr) {
      views.push_back({name, *settings, false, {}});
    }
  }
  std::sort(views.begin(), views.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return control::RenderConfig(globals, views);
}

Status InterfaceManager::SaveWith(const Overrides& overrides,
                                  const control::GlobalSettings& globals) {
  if (!globals.save) return {};
  auto written =
      host_.ReplaceFile(options_.config_path, Render(overrides, globals));
  if (!written) {
    return Fail(written.error().code,
                fmt::format("cannot save the configuration: {}",
                            written.error().message));
  }
  return {};
}

// --- Requests --------------------------------------------------------------

Status InterfaceManager::Create(std::string_view name,
                                std::span<const InterfaceOption> options) {
  reaper_.Busy();
  auto settings = table_.PrepareCreate(name, options, host_);
  if (!settings) return tl::unexpected(settings.error());
  ResolveAutoMtu(name, *settings, 0, false);
  auto tap = MakeTap(name, *settings, false);
  if (!tap) return tl::unexpected(tap.error());
  PlaneChanges changes;
  if (auto opened = EnsureSocketFor(*settings, changes); !opened) {
    ReleaseTap(std::move(*tap));
    return opened;
  }
  if (auto saved = SaveWith({{std::string(name), *settings}}, Globals(allow()));
      !saved) {
    ReleaseTap(std::move(*tap));
    SyncSockets(changes);
    Publish(std::move(changes));
    return saved;
  }
  const InterfaceState& state = table_.CommitCreate(name, *settings);
  by_ifindex_[(*tap)->ifindex()] = state.id;
  RuntimeOf(state.id) = Runtime{std::move(*tap), state.name, false};
  SyncCarrier(state, host_);
  PublishInterface(state, changes);
  PublishAffected(changes);
  Publish(std::move(changes));
  // An automatic MTU's lookup watches its domain's routes already.
  Rewatch(name, nullptr, &state.settings);
  spdlog::info("{}: created: {}", name, Describe(*settings));
  return {};
}

Status InterfaceManager::Set(std::string_view name,
                             std::span<const InterfaceOption> options) {
  reaper_.Busy();
  auto settings = table_.PrepareSet(name, options, host_);
  if (!settings) return tl::unexpected(settings.error());
  const InterfaceState& state = *table_.Find(name);
  const InterfaceSettings before = state.settings;
  Runtime& runtime = RuntimeOf(state.id);
  ResolveAutoMtu(name, *settings, runtime.tap ? runtime.tap->ifindex() : 0,
                 false);
  PlaneChanges changes;
  auto give_up = [&](Error error) -> Status {
    SyncSockets(changes);
    Publish(std::move(changes));
    return tl::unexpected(std::move(error));
  };
  if (auto opened = EnsureSocketFor(*settings, changes); !opened) {
    return give_up(opened.error());
  }
  // Every link setting is applied, whatever the daemon believed the link
  // had: `set` makes the kernel's link what was asked.
  if (auto applied = ApplyLinkChanges(*runtime.tap, before, *settings, true);
      !applied) {
    return give_up(applied.error());
  }
  if (auto saved = SaveWith({{std::string(name), *settings}}, Globals(allow()));
      !saved) {
    (void)ApplyLinkChanges(*runtime.tap, *settings, before, true);
    return give_up(saved.error());
  }
  table_.CommitSet(name, *settings);
  SyncCarrier(state, host_);
  PublishInterface(state, changes);
  PublishAffected(changes);
  SyncSockets(changes);
  Publish(std::move(changes));
  // (A pass over every interface: only when an automatic MTU may have
  // stopped needing its domain's routes.)
  if (before.mtu_auto) SyncRouteWatches();
  Rewatch(name, &before, &state.settings);
  spdlog::info("{}: changed: {}", name, Describe(*settings));
  return {};
}

Status InterfaceManager::Destroy(std::string_view name) {
  if (auto ok = table_.PrepareDestroy(name); !ok) return ok;
  if (auto saved =
          SaveWith({{std::string(name), std::nullopt}}, Globals(allow()));
      !saved) {
    return saved;
  }
  const InterfaceId id = table_.Find(name)->id;
  const bool mtu_auto = table_.Find(name)->settings.mtu_auto;
  PlaneChanges changes;
  Forget(id, changes);
  Rewatch(name, &table_.Find(name)->settings, nullptr);
  table_.CommitDestroy(name);
  PublishAffected(changes);
  SyncSockets(changes);
  // The data plane lets go of the device first; the reaper then removes
  // the link, under another name: this one is free when `destroy` answers.
  Publish(std::move(changes));
  ReleaseTap(std::exchange(RuntimeOf(id), Runtime{}).tap);
  if (mtu_auto) SyncRouteWatches();
  spdlog::info("{}: destroyed", name);
  return {};
}

Status InterfaceManager::SetAllow(bool allow) {
  if (allow != this->allow()) {
    if (auto saved = SaveWith({}, Globals(allow)); !saved) {
      return saved;
    }
  }
  allow_.store(allow);
  spdlog::info("allow {}", allow ? 1 : 0);
  return {};
}

void InterfaceManager::Shutdown() {
  PlaneChanges changes;
  std::vector<std::shared_ptr<TapDevice>> taps;
  for (const InterfaceState* state : table_.List()) {
    Forget(state->id, changes);
    Rewatch(state->name, &state->settings, nullptr);
    if (auto tap = std::exchange(RuntimeOf(state->id), Runtime{}).tap) {
      taps.push_back(std::move(tap));
    }
  }
  for (const auto& [key, slot] : sockets_) {
    DropSocket(Endpoint{key.first, table_.DomainIdOf(key.second)}, changes);
  }
  sockets_.clear();
  Publish(std::move(changes));
  table_ = TunnelTable(RandomMacs());
  by_ifindex_.clear();
  if (taps.empty()) return;
  if (persist_) {
    spdlog::info("leaving {} persistent interfaces in place", taps.size());
    taps.clear();
    return;
  }
  // One deletion for all: the kernel's unregister wait is paid once, not
  // once per TAP; the fds then close at no cost.
  const auto started = std::chrono::steady_clock::now();
  const size_t count = taps.size();
  if (options_.link_group != 0) {
    if (auto deleted = host_.DeleteLinkGroup(options_.link_group); !deleted) {
      spdlog::warn("removing interfaces one by one: {}",
                   deleted.error().message);
    }
  }
  const auto deleted = std::chrono::steady_clock::now();
  taps.clear();
  reaper_.Flush();
  spdlog::info(
      "removed {} interfaces in {} ms ({} ms in the kernel's deletion)", count,
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started)
          .count(),
      std::chrono::duration_cast<std::chrono::milliseconds>(deleted - started)
          .count());
}

Status InterfaceManager::Start(const control::Config& config,
                               std::string_view path) {
  if (!config.persist && options_.link_group != 0) {
    if (auto removed = host_.DeleteLinkGroup(options_.link_group); !removed) {
      spdlog::warn("cannot remove interfaces a previous etheripd left: {}",
                   removed.error().message);
    }
  }
  user_ = config.user;
  metrics_ = config.metrics;
  return Replace(config, path);
}

Status InterfaceManager::Replace(const control::Config& config,
                                 std::string_view path) {
  reaper_.Busy();
  // The daemon switched to its user once, at start, giving up the means to
  // switch again (privileges.h).
  if (config.user != user_) {
    // A file without a `user` line has no line to name.
    const std::string where = config.user_line > 0
                                  ? fmt::format("{}:{}", path, config.user_line)
                                  : std::string(path);
    return Fail(EINVAL,
                fmt::format("{}: user: changing the user needs a restart of "
                            "etheripd (it runs as {})",
                            where,
                            user_.empty() ? "the user that started it"
                                          : fmt::format("\"{}\"", user_)));
  }
  // The metrics listener is bound once, before the privileges are given up
  // (a port under 1024 needs them).
  if (config.metrics != metrics_) {
    const std::string where =
        config.metrics_line > 0
            ? fmt::format("{}:{}", path, config.metrics_line)
            : std::string(path);
    return Fail(
        EINVAL,
        fmt::format(
            "{}: metrics: changing the metrics listener needs "
            "a restart of etheripd (it is {})",
            where, metrics_.empty() ? "off" : fmt::format("\"{}\"", metrics_)));
  }
  auto plan = table_.PrepareReplace(config.interfaces, host_);
  if (!plan) {
    const size_t index = plan.error().index;
    const int line = index < config.lines.size() ? config.lines[index] : 0;
    return Fail(
        plan.error().error.code,
        fmt::format("{}:{}: interface {}: {}", path, line,
                    config.interfaces[index].name, plan.error().error.message));
  }
  // Automatic MTUs of new and changed interfaces (an unchanged one keeps
  // the value it follows).
  for (auto& [name, settings] : plan->create) {
    ResolveAutoMtu(name, settings, 0, false);
  }
  for (auto& [name, settings] : plan->change) {
    const Runtime& runtime = RuntimeOf(table_.Find(name)->id);
    ResolveAutoMtu(name, settings, runtime.tap ? runtime.tap->ifindex() : 0,
                   false);
  }
  const bool persist_before = persist_;
  const bool disable_ipv6_before = disable_ipv6_;
  persist_ = config.persist;
  disable_ipv6_ = config.disable_ipv6;
  // Links the kernel has now: persistent TAPs a previous daemon left are
  // reattached instead of created.
  std::set<std::string, std::less<>> existing;
  if (persist_ && !plan->create.empty()) {
    if (auto links = host_.DumpLinks()) {
      for (const LinkInfo& link : *links) existing.insert(link.name);
    }
  }
  // Undo of everything done so far, in reverse, when a later step fails.
  std::vector<std::pair<std::string, std::shared_ptr<TapDevice>>> made;
  std::vector<std::pair<InterfaceId, InterfaceSettings>> changed;
  std::vector<TapDevice*> ipv6_switched;
  PlaneChanges changes;
  auto undo = [&](Error error, std::string_view name) -> Status {
    for (TapDevice* tap : ipv6_switched) {
      (void)host_.SetLinkIpv6(tap->ifindex(), !disable_ipv6_before);
    }
    for (auto it = changed.rbegin(); it != changed.rend(); ++it) {
      const Runtime& runtime = RuntimeOf(it->first);
      const InterfaceState& state = *table_.Find(runtime.name);
      (void)ApplyLinkChanges(*runtime.tap, it->second, state.settings, false);
    }
    for (auto& [made_name, tap] : made) {
      if (existing.contains(made_name)) {
        (void)tap->SetPersist(persist_before);  // leave it as it was found
      } else {
        ReleaseTap(std::move(tap));
      }
    }
    persist_ = persist_before;
    disable_ipv6_ = disable_ipv6_before;
    SyncSockets(changes);
    Publish(std::move(changes));
    return Fail(error.code, fmt::format("{}: {}", name, error.message));
  };
  // New TAPs first: the step most likely to fail, and one that undoes
  // itself (dropping a TAP removes its link).
  for (auto& [name, settings] : plan->create) {
    const bool attach = existing.contains(name);
    auto tap = MakeTap(name, settings, attach);
    if (!tap) return undo(tap.error(), name);
    if (attach) {
      spdlog::info("{}: reattached to the persistent interface", name);
    }
    made.emplace_back(name, std::move(*tap));
  }
  for (const auto* list : {&plan->create, &plan->change}) {
    for (const auto& [name, settings] : *list) {
      if (auto opened = EnsureSocketFor(settings, changes); !opened) {
        return undo(opened.error(), name);
      }
    }
  }
  for (const auto& [name, settings] : plan->change) {
    const InterfaceState& state = *table_.Find(name);
    if (auto applied = ApplyLinkChanges(*RuntimeOf(state.id).tap,
                                        state.settings, settings, false);
        !applied) {
      return undo(applied.error(), name);
    }
    changed.emplace_back(state.id, settings);
  }
  if (persist_ != persist_before) {
    for (const InterfaceState* state : table_.List()) {
      if (auto tap = RuntimeOf(state->id).tap) {
        if (auto done = tap->SetPersist(persist_); !done) {
          return undo(done.error(), state->name);
        }
      }
    }
  }
  if (disable_ipv6_ != disable_ipv6_before) {
    for (const InterfaceState* state : table_.List()) {
      if (TapDevice* tap = RuntimeOf(state->id).tap.get()) {
        if (auto done = host_.SetLinkIpv6(tap->ifindex(), !disable_ipv6_);
            !done) {
          return undo(done.error(), state->name);
        }
        ipv6_switched.push_back(tap);
      }
    }
  }
  if (!plan->empty() || config.save != save_) {
    Overrides overrides;
    for (const auto& name : plan->destroy) overrides[name] = std::nullopt;
    for (const auto* list : {&plan->create, &plan->change}) {
      for (const auto& [name, settings] : *list) overrides[name] = settings;
    }
    if (auto saved = SaveWith(overrides, config.globals()); !saved) {
      return undo(saved.error(), path);
    }
  }
  // Commit: nothing below fails.
  save_ = config.save;
  control_group_ = config.globals().control_group;
  resolve_interval_ = config.resolve_interval;
  if (options_.resolver != nullptr) {
    options_.resolver->SetInterval(std::chrono::seconds(resolve_interval_));
  }
  std::vector<std::shared_ptr<TapDevice>> dropped;
  for (const auto& name : plan->destroy) {
    const InterfaceState& state = *table_.Find(name);
    Forget(state.id, changes);
    Rewatch(name, &state.settings, nullptr);
    dropped.push_back(std::exchange(RuntimeOf(state.id), Runtime{}).tap);
  }
  std::vector<std::pair<std::string, InterfaceSettings>> before_change;
  for (const auto& [name, settings] : plan->change) {
    before_change.emplace_back(name, table_.Find(name)->settings);
  }
  table_.CommitReplace(*plan);
  for (const auto& [name, before] : before_change) {
    Rewatch(name, &before, &table_.Find(name)->settings);
  }
  for (const auto& [name, settings] : plan->create) {
    Rewatch(name, nullptr, &settings);
  }
  for (auto& [name, tap] : made) {
    const InterfaceState& state = *table_.Find(name);
    by_ifindex_[tap->ifindex()] = state.id;
    RuntimeOf(state.id) = Runtime{std::move(tap), state.name, false};
  }
  allow_.store(config.allow);
  for (const auto* list : {&plan->create, &plan->change}) {
    for (const auto& [name, settings] : *list) {
      const InterfaceState& state = *table_.Find(name);
      SyncCarrier(state, host_);
      PublishInterface(state, changes);
    }
  }
  PublishAffected(changes);
  SyncSockets(changes);
  Publish(std::move(changes));
  for (auto& tap : dropped) ReleaseTap(std::move(tap));
  SyncRouteWatches();
  spdlog::info("reloaded {}: {} created, {} changed, {} destroyed, allow {}",
               path, plan->create.size(), plan->change.size(),
               plan->destroy.size(), config.allow ? 1 : 0);
  return {};
}

// --- Views -----------------------------------------------------------------

Result<std::vector<control::InterfaceView>> InterfaceManager::Show(
    std::optional<std::string_view> name) const {
  std::vector<control::InterfaceView> views;
  auto view = [&](const InterfaceState& state) {
    views.push_back(control::InterfaceView{
        state.name, state.settings, TunnelTable::IsRunning(state, host_),
        state.counters->Read(), state.in_use() ? state.addresses : std::nullopt,
        table_.Unresolved(state)});
  };
  if (name) {
    const InterfaceState* state = table_.Find(*name);
    if (state == nullptr) return Fail(ENXIO, "no such interface");
    view(*state);
    return views;
  }
  views.reserve(table_.size());
  for (const InterfaceState* state : table_.List()) view(*state);
  return views;
}

std::pair<size_t, size_t> InterfaceManager::CountRunning() const {
  size_t running = 0;
  for (const InterfaceState* state : table_.List()) {
    if (TunnelTable::IsRunning(*state, host_)) ++running;
  }
  return {table_.size(), running};
}

std::vector<InterfaceCounterSource> InterfaceManager::CounterSources() const {
  std::vector<InterfaceCounterSource> sources;
  sources.reserve(table_.size());
  for (const InterfaceState* state : table_.List()) {
    sources.push_back(
        {state->name, TunnelTable::IsRunning(*state, host_), state->counters});
  }
  return sources;
}

std::string InterfaceManager::ShowConf() const {
  return Render({}, Globals(allow()));
}

// --- The kernel's view -----------------------------------------------------

bool InterfaceManager::FollowLink(const LinkInfo& link, PlaneChanges& changes) {
  Runtime* runtime = RuntimeByIfindex(link.ifindex);
  if (runtime == nullptr) return false;
  const InterfaceState* state = table_.Find(runtime->name);
  if (state == nullptr) return false;
  bool changed = false;
  if (link.name != runtime->name) {
    spdlog::info("{}: renamed to {} outside etheripd; following", state->name,
                 link.name);
    const std::string old_name = runtime->name;
    table_.CommitRename(runtime->name, link.name);
    runtime->name = link.name;
    state = table_.Find(link.name);
    // Answers now come under the new name.
    Rewatch(old_name, &state->settings, nullptr);
    Rewatch(link.name, nullptr, &state->settings);
    changed = true;
  }
  InterfaceSettings settings = state->settings;
  settings.up = link.up;
  settings.lladdr = link.address;
  if (settings.mtu_auto) {
    // The daemon keeps an automatic MTU; one set with `ip link` would
    // last only until the next route change.
    if (link.mtu != settings.mtu) {
      spdlog::warn(
          "{}: mtu {} set outside etheripd; the mtu is automatic: setting "
          "it back to {} (`etherip set {} mtu N` fixes one)",
          state->name, link.mtu, settings.mtu, state->name);
      (void)host_.SetLinkMtu(link.ifindex, settings.mtu);
    }
  } else if (CheckMtu(link.mtu)) {
    settings.mtu = link.mtu;
  } else if (link.mtu != settings.mtu) {
    spdlog::warn(
        "{}: mtu {} set outside etheripd is outside {}..{}; "
        "setting it back to {}",
        state->name, link.mtu, kMinMtu, kMaxMtu, settings.mtu);
    (void)host_.SetLinkMtu(link.ifindex, settings.mtu);
  }
  if (settings != state->settings) {
    spdlog::info("{}: changed outside etheripd: {}", state->name,
                 Describe(settings));
    runtime->tap->SetMtu(settings.mtu);
    table_.CommitSet(state->name, settings);
    SyncCarrier(*state, host_);
    PublishInterface(*state, changes);
    changed = true;
  }
  return changed;
}

void InterfaceManager::ForgetDeletedLink(InterfaceId id,
                                         PlaneChanges& changes) {
  const std::string name = RuntimeOf(id).name;
  spdlog::warn("{}: link deleted outside etheripd; removing the interface",
               name);
  if (const InterfaceState* state = table_.Find(name)) {
    Rewatch(name, &state->settings, nullptr);
  }
  table_.CommitDestroy(name);
  Forget(id, changes);
  PublishAffected(changes);
  ReleaseTap(std::exchange(RuntimeOf(id), Runtime{}).tap, false);
}

bool InterfaceManager::Resynchronise(PlaneChanges& changes) {
  auto links = host_.DumpLinks();
  if (!links) {
    spdlog::error("link events were lost and the links cannot be listed: {}",
                  links.error().message);
    return false;
  }
  absl::flat_hash_map<int, const LinkInfo*> by_index;
  for (const LinkInfo& link : *links) by_index[link.ifindex] = &link;
  bool changed = false;
  std::vector<int> gone;
  for (const auto& [ifindex, id] : by_ifindex_) {
    auto it = by_index.find(ifindex);
    if (it == by_index.end()) {
      gone.push_back(ifindex);
    } else {
      changed = FollowLink(*it->second, changes) || changed;
    }
  }
  for (int ifindex : gone) {
    ForgetDeletedLink(by_ifindex_.at(ifindex), changes);
    changed = true;
  }
  return changed;
}

void InterfaceManager::HandleLinkEvents() {
  auto events = host_.ReadLinkEvents();
  if (!events) {
    spdlog::error("link events: {}", events.error().message);
    return;
  }
  PlaneChanges changes;
  bool changed = false;
  // Only the last word on each link counts.
  absl::flat_hash_map<int, const LinkEvent*> last;
  bool other_links = events->overflowed;
  for (const LinkEvent& event : events->events) {
    if (by_ifindex_.contains(event.link.ifindex)) {
      last[event.link.ifindex] = &event;
    } else {
      other_links = true;
    }
  }
  // A zone may name one of them (a link of the daemon's own namespace, the
  // domain "").
  if (other_links && options_.resolver != nullptr) {
    options_.resolver->ResolveZonesNow("");
  }
  for (const LinkEvent& event : events->events) {
    auto it = last.find(event.link.ifindex);
    if (it == last.end() || it->second != &event) continue;
    if (event.kind == LinkEvent::Kind::kChanged) {
      changed = FollowLink(event.link, changes) || changed;
      continue;
    }
    // Deleted, or moved to another namespace (its fd may still work, but
    // the interface is no longer the daemon's to serve).
    ForgetDeletedLink(by_ifindex_.at(event.link.ifindex), changes);
    changed = true;
  }
  if (events->overflowed) changed = Resynchronise(changes) || changed;
  if (!changed) return;
  SyncSockets(changes);
  Publish(std::move(changes));
  // A change made with `ip link` is saved too; it cannot be refused.
  if (auto saved = SaveWith({}, Globals(allow())); !saved) {
    spdlog::error("{}", saved.error().message);
  }
}

void InterfaceManager::Refresh() {
  host_.DrainDomainEvents();
  SyncAllCarriers();
  PlaneChanges changes;
  SyncSockets(changes);
  Publish(std::move(changes));
  SyncRouteWatches();
}

// --- Automatic MTUs ----------------------------------------------------------

bool InterfaceManager::ResolveAutoMtu(std::string_view name,
                                      InterfaceSettings& settings, int ifindex,
                                      bool quiet) {
  if (!settings.mtu_auto || !settings.tunnel) return false;
  const auto log_level = quiet ? spdlog::level::debug : spdlog::level::info;
  // The addresses in use: the literals, or what the names resolved to when
  // the interface already has this tunnel (a resolution recomputes it).
  std::optional<Tunnel> addresses = settings.tunnel->LiteralAddresses();
  if (const InterfaceState* state = table_.Find(name);
      state != nullptr && state->addresses &&
      state->settings.tunnel == settings.tunnel &&
      state->settings.domain == settings.domain) {
    addresses = state->addresses;
  }
  if (!addresses) {
    spdlog::log(log_level,
                "{}: mtu auto: keeping {}: the tunnel is not "
                "resolved yet",
                name, settings.mtu);
    return false;
  }
  const Tunnel& tunnel = *addresses;
  auto route =
      host_.LookupRouteMtu(settings.domain, tunnel.source, tunnel.destination);
  if (!route) {
    spdlog::log(log_level, "{}: mtu auto: keeping {}: {}", name, settings.mtu,
                route.error().message);
    return false;
  }
  // Only the daemon's own namespace holds its interfaces.
  if (settings.domain.empty() && ifindex != 0 && route->ifindex == ifindex) {
    spdlog::log(log_level,
                "{}: mtu auto: keeping {}: the route to {} goes through the "
                "interface itself",
                name, settings.mtu, tunnel.destination.ToString());
    return false;
  }
  const uint32_t mtu = AutoMtu(tunnel.destination.family(), route->mtu);
  if (mtu == settings.mtu) return false;
  spdlog::info("{}: mtu auto: {} (route to {} in domain {}: mtu {})", name, mtu,
               tunnel.destination.ToString(), DomainLabel(settings.domain),
               route->mtu);
  settings.mtu = mtu;
  return true;
}

void InterfaceManager::SyncRouteWatches() {
  std::set<std::string> domains;
  for (const InterfaceState* state : table_.List()) {
    if (state->settings.mtu_auto && state->settings.tunnel) {
      domains.insert(state->settings.domain);
    }
  }
  const std::vector<std::string> wanted(domains.begin(), domains.end());
  for (std::string& domain : host_.WatchRoutes(wanted)) {
    route_changes_.insert(std::move(domain));
  }
}

void InterfaceManager::HandleRouteEvents() {
  for (std::string& domain : host_.ReadRouteEvents()) {
    route_changes_.insert(std::move(domain));
  }
}

void InterfaceManager::FollowRoutes() {
  const std::set<std::string> domains = std::exchange(route_changes_, {});
  if (domains.empty()) return;
  PlaneChanges changes;
  for (const InterfaceState* state : table_.List()) {
    if (!state->settings.mtu_auto || !domains.contains(state->settings.domain))
      continue;
    Runtime& runtime = RuntimeOf(state->id);
    if (!runtime.tap) continue;
    InterfaceSettings settings = state->settings;
    if (!ResolveAutoMtu(state->name, settings, runtime.tap->ifindex(), true))
      continue;
    if (auto applied =
            ApplyLinkChanges(*runtime.tap, state->settings, settings, false);
        !applied) {
      spdlog::error("{}: mtu auto: cannot set mtu {}: {}", state->name,
                    settings.mtu, applied.error().message);
      continue;
    }
    // The file says `auto`: nothing to save.
    table_.CommitSet(state->name, settings);
    PublishInterface(*state, changes);
  }
  Publish(std::move(changes));
}

void InterfaceManager::HandleFailures(std::span<const InterfaceId> devices,
                                      std::span<const Endpoint> sockets) {
  PlaneChanges changes;
  for (const Endpoint& endpoint : sockets) {
    const std::string domain(table_.DomainName(endpoint.domain));
    spdlog::error("{} socket in domain {} failed; reopening it",
                  FamilyName(endpoint.family), DomainLabel(domain));
    sockets_.erase({endpoint.family, domain});
    DropSocket(endpoint, changes);
  }
  if (!devices.empty()) {
    // The link is gone (or moved away): the events say which; read them
    // now rather than wait for their turn.
    HandleLinkEvents();
    for (InterfaceId id : devices) {
      if (id < runtime_.size() && runtime_[id].tap) {
        spdlog::warn(
            "{}: device reported an error; link still present, "
            "no longer read",
            runtime_[id].name);
      }
    }
  }
  SyncSockets(changes);
  Publish(std::move(changes));
}

}  // namespace etherip

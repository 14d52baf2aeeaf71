#include "daemon/interface_manager.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <functional>
#include <random>
#include <set>

#include "io/linux/netns_path.h"

namespace etherip {
namespace {

TunnelTable::MacGenerator RandomMacs() {
  auto random = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [random] { return MacAddress::RandomLocal(*random); };
}

std::string Describe(const InterfaceSettings& s) {
  return fmt::format("tunnel {} domain {} {} mtu {} lladdr {}",
                     s.tunnel ? s.tunnel->ToString() : "none",
                     DomainLabel(s.domain), s.up ? "up" : "down", s.mtu,
                     s.lladdr.ToString());
}

}  // namespace

std::optional<std::pair<uint64_t, uint64_t>> NetnsIdentity(
    std::string_view domain) {
  const auto path = domain.empty() ? Result<std::string>("/proc/self/ns/net")
                                   : NetnsPath(domain);
  if (!path) return std::nullopt;
  struct stat info {};
  if (stat(path->c_str(), &info) != 0) return std::nullopt;
  return std::pair<uint64_t, uint64_t>(info.st_dev, info.st_ino);
}

InterfaceManager::InterfaceManager(ForwardingLoop& loop,
                                   GlobalCounters& counters,
                                   std::atomic<bool>& allow, LinkControl& links,
                                   const DomainCatalog& domains)
    : loop_(loop),
      counters_(counters),
      allow_(allow),
      links_(links),
      domains_(domains),
      table_(RandomMacs()) {}

InterfaceManager::~InterfaceManager() { DestroyAll(); }

InterfaceManager::Runtime& InterfaceManager::RuntimeOf(InterfaceId id) {
  if (id >= runtime_.size()) runtime_.resize(id + 1);
  return runtime_[id];
}

Result<std::shared_ptr<LinuxTap>> InterfaceManager::MakeTap(
    std::string_view name, const InterfaceSettings& settings) {
  auto tap = LinuxTap::Create(name);
  if (!tap) return tl::unexpected(tap.error());
  std::shared_ptr<LinuxTap> shared = std::move(*tap);
  spdlog::debug("{}: offloads {}", name, shared->OffloadNames());
  // What the kernel gives a new TAP: down, MTU 1500, a MAC of its own
  // choosing (never equal to ours, which is set unconditionally).
  InterfaceSettings fresh = settings;
  fresh.up = false;
  fresh.mtu = kDefaultMtu;
  fresh.lladdr = MacAddress();
  if (auto applied = ApplyLinkChanges(*shared, fresh, settings); !applied) {
    return tl::unexpected(applied.error());  // the TAP goes with `shared`
  }
  return shared;
}

Status InterfaceManager::ApplyLinkChanges(LinuxTap& tap,
                                          const InterfaceSettings& before,
                                          const InterfaceSettings& after) {
  const int index = tap.ifindex();
  // In order: MAC and MTU before the link goes up. A failed step undoes the
  // ones before it, best effort.
  struct Step {
    bool needed;
    std::function<Status()> apply;
    std::function<Status()> undo;
  };
  const Step steps[] = {
      {before.lladdr != after.lladdr,
       [&] { return links_.SetAddress(index, after.lladdr); },
       [&] { return links_.SetAddress(index, before.lladdr); }},
      {before.mtu != after.mtu, [&] { return links_.SetMtu(index, after.mtu); },
       [&] { return links_.SetMtu(index, before.mtu); }},
      {before.up != after.up, [&] { return links_.SetUp(index, after.up); },
       [&] { return links_.SetUp(index, before.up); }},
  };
  for (size_t i = 0; i < std::size(steps); ++i) {
    if (!steps[i].needed) continue;
    if (auto done = steps[i].apply(); !done) {
      for (size_t j = i; j-- > 0;) {
        if (steps[j].needed) (void)steps[j].undo();
      }
      return done;
    }
  }
  // Super-frames read from the TAP are cut for the link's MTU.
  tap.SetMtu(after.mtu);
  return {};
}

Status InterfaceManager::EnsureSocket(const SocketKey& key) {
  const auto& [family, domain] = key;
  const auto identity = NetnsIdentity(domain);
  if (!identity) return {};  // the domain is gone: not running, no socket
  auto it = sockets_.find(key);
  if (it != sockets_.end() && it->second.netns == *identity) return {};
  auto socket = LinuxRawSocket::Open(family, domain);
  if (!socket) return tl::unexpected(socket.error());
  sockets_[key] = SocketSlot{std::move(*socket), *identity};
  spdlog::info("opened {} socket in domain {}", FamilyName(family),
               DomainLabel(domain));
  return {};
}

Status InterfaceManager::EnsureSocketFor(const InterfaceSettings& settings) {
  if (!settings.tunnel) return {};
  return EnsureSocket({settings.tunnel->source.family(), settings.domain});
}

bool InterfaceManager::SyncSockets() {
  std::set<SocketKey> needed;
  for (const InterfaceState* state : table_.List()) {
    const auto& s = state->settings;
    if (s.tunnel) needed.insert({s.tunnel->source.family(), s.domain});
  }
  bool changed = false;
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    const auto& [family, domain] = it->first;
    if (needed.contains(it->first) &&
        NetnsIdentity(domain) == it->second.netns) {
      ++it;
      continue;
    }
    spdlog::info("closed {} socket in domain {}", FamilyName(family),
                 DomainLabel(domain));
    it = sockets_.erase(it);
    changed = true;
  }
  for (const SocketKey& key : needed) {
    if (sockets_.contains(key)) continue;
    if (auto opened = EnsureSocket(key); !opened) {
      spdlog::error("domain {}: cannot open socket: {}",
                    DomainLabel(key.second), opened.error().message);
      continue;
    }
    changed = changed || sockets_.contains(key);
  }
  return changed;
}

void InterfaceManager::SyncCarriers() {
  for (const InterfaceState* state : table_.List()) {
    Runtime& runtime = RuntimeOf(state->id);
    if (!runtime.tap) continue;
    const bool running = TunnelTable::IsRunning(*state, domains_);
    if (running == runtime.carrier) continue;
    if (auto done = runtime.tap->SetCarrier(running); !done) {
      spdlog::error("{}: cannot set carrier: {}", state->name,
                    done.error().message);
      continue;
    }
    runtime.carrier = running;
    spdlog::info("{}: {}", state->name, running ? "running" : "not running");
  }
}

void InterfaceManager::Stage(PlaneChanges& changes, InterfaceId id,
                             const InterfaceState* now) {
  if (now == nullptr) {
    changes.erased_interfaces.push_back(id);
    return;
  }
  const Runtime& runtime = RuntimeOf(id);
  changes.interfaces.push_back(
      {table_.EntryOf(*now), now->counters, runtime.tap,
       runtime.tap != nullptr ? runtime.tap->fd() : -1});
}

void InterfaceManager::Publish(PlaneChanges changes) {
  // Sockets are few (one per family and domain): compare them all.
  for (auto it = published_sockets_.begin(); it != published_sockets_.end();) {
    if (sockets_.contains(it->first)) {
      ++it;
      continue;
    }
    changes.erased_sockets.push_back(
        Endpoint{it->first.first, table_.DomainIdOf(it->first.second)});
    it = published_sockets_.erase(it);
  }
  for (const auto& [key, slot] : sockets_) {
    auto& published = published_sockets_[key];
    if (published == slot.socket) continue;
    published = slot.socket;
    changes.sockets.push_back(
        {Endpoint{key.first, table_.DomainIdOf(key.second)}, slot.socket,
         slot.socket->fd()});
  }
  // Domain names are interned, never removed: a new one grows the list.
  if (table_.domain_names().size() != published_domains_) {
    published_domains_ = table_.domain_names().size();
    changes.domain_names = table_.domain_names();
  }
  if (changes.empty()) return;
  loop_.Apply(std::move(changes));
}

Status InterfaceManager::Create(std::string_view name,
                                std::span<const InterfaceOption> options) {
  auto settings = table_.PrepareCreate(name, options, domains_);
  if (!settings) return tl::unexpected(settings.error());
  auto tap = MakeTap(name, *settings);
  if (!tap) return tl::unexpected(tap.error());
  if (auto opened = EnsureSocketFor(*settings); !opened) return opened;
  const InterfaceState& state = table_.CommitCreate(name, *settings);
  RuntimeOf(state.id) = Runtime{std::move(*tap), false};
  SyncCarriers();
  SyncSockets();
  PlaneChanges changes;
  Stage(changes, state.id, &state);
  Publish(std::move(changes));
  spdlog::info("{}: created: {}", name, Describe(*settings));
  return {};
}

Status InterfaceManager::Set(std::string_view name,
                             std::span<const InterfaceOption> options) {
  auto settings = table_.PrepareSet(name, options, domains_);
  if (!settings) return tl::unexpected(settings.error());
  const InterfaceState& state = *table_.Find(name);
  const InterfaceSettings before = state.settings;
  Runtime& runtime = RuntimeOf(state.id);
  if (auto opened = EnsureSocketFor(*settings); !opened) return opened;
  if (auto applied = ApplyLinkChanges(*runtime.tap, before, *settings);
      !applied) {
    SyncSockets();
    return applied;
  }
  table_.CommitSet(name, *settings);
  SyncCarriers();
  SyncSockets();
  PlaneChanges changes;
  Stage(changes, state.id, &state);
  Publish(std::move(changes));
  spdlog::info("{}: changed: {}", name, Describe(*settings));
  return {};
}

Status InterfaceManager::Destroy(std::string_view name) {
  if (auto ok = table_.PrepareDestroy(name); !ok) return ok;
  const InterfaceId id = table_.Find(name)->id;
  table_.CommitDestroy(name);
  RuntimeOf(id) = Runtime{};
  SyncSockets();
  // Publish waits for the forwarding loop to drop the interface, so the
  // TAP's fd is closed (and its link gone) when this returns.
  PlaneChanges changes;
  Stage(changes, id, nullptr);
  Publish(std::move(changes));
  spdlog::info("{}: destroyed", name);
  return {};
}

void InterfaceManager::DestroyAll() {
  // One change for all of them: the loop drops every interface and socket
  // at once.
  std::vector<std::string> names;
  for (const InterfaceState* state : table_.List())
    names.push_back(state->name);
  PlaneChanges changes;
  for (const auto& name : names) {
    const InterfaceId id = table_.Find(name)->id;
    table_.CommitDestroy(name);
    RuntimeOf(id) = Runtime{};
    Stage(changes, id, nullptr);
  }
  sockets_.clear();
  Publish(std::move(changes));
  for (const auto& name : names) spdlog::info("{}: destroyed", name);
}

Status InterfaceManager::Replace(const control::Config& config,
                                 std::string_view path) {
  auto plan = table_.PrepareReplace(config.interfaces, domains_);
  if (!plan) {
    const size_t index = plan.error().index;
    const int line = index < config.lines.size() ? config.lines[index] : 0;
    return Fail(
        plan.error().error.code,
        fmt::format("{}:{}: interface {}: {}", path, line,
                    config.interfaces[index].name, plan.error().error.message));
  }
  // New TAPs first: the step most likely to fail, and one that undoes
  // itself (dropping a TAP removes its link).
  std::vector<std::pair<std::string, std::shared_ptr<LinuxTap>>> made;
  for (const auto& [name, settings] : plan->create) {
    auto tap = MakeTap(name, settings);
    if (!tap) {
      return Fail(tap.error().code,
                  fmt::format("{}: {}", name, tap.error().message));
    }
    made.emplace_back(name, std::move(*tap));
  }
  for (const auto* list : {&plan->create, &plan->change}) {
    for (const auto& [name, settings] : *list) {
      if (auto opened = EnsureSocketFor(settings); !opened) {
        SyncSockets();
        return Fail(opened.error().code,
                    fmt::format("{}: {}", name, opened.error().message));
      }
    }
  }
  for (const auto& [name, settings] : plan->change) {
    const InterfaceState& state = *table_.Find(name);
    if (auto applied = ApplyLinkChanges(*RuntimeOf(state.id).tap,
                                        state.settings, settings);
        !applied) {
      // Earlier changes stay applied to their links; log it loudly.
      spdlog::error("{}: reload left link settings half applied: {}", name,
                    applied.error().message);
      return Fail(applied.error().code,
                  fmt::format("{}: {}", name, applied.error().message));
    }
  }
  std::vector<InterfaceId> destroyed;
  for (const auto& name : plan->destroy)
    destroyed.push_back(table_.Find(name)->id);
  table_.CommitReplace(*plan);
  for (InterfaceId id : destroyed) RuntimeOf(id) = Runtime{};
  for (auto& [name, tap] : made) {
    RuntimeOf(table_.Find(name)->id) = Runtime{std::move(tap), false};
  }
  allow_.store(config.allow);
  save_ = config.save;
  persist_ = config.persist;
  SyncCarriers();
  SyncSockets();
  PlaneChanges changes;
  for (InterfaceId id : destroyed) Stage(changes, id, nullptr);
  for (const auto* list : {&plan->create, &plan->change}) {
    for (const auto& [name, settings] : *list) {
      const InterfaceState* state = table_.Find(name);
      Stage(changes, state->id, state);
    }
  }
  Publish(std::move(changes));
  spdlog::info("reloaded {}: {} created, {} changed, {} destroyed, allow {}",
               path, plan->create.size(), plan->change.size(),
               plan->destroy.size(), config.allow ? 1 : 0);
  return {};
}

void InterfaceManager::SetAllow(bool allow) {
  allow_.store(allow);
  spdlog::info("allow {}", allow ? 1 : 0);
}

Result<std::vector<control::InterfaceView>> InterfaceManager::Show(
    std::optional<std::string_view> name) const {
  std::vector<control::InterfaceView> views;
  for (const InterfaceState* state : table_.List()) {
    if (name && state->name != *name) continue;
    views.push_back(control::InterfaceView{
        state->name, state->settings, TunnelTable::IsRunning(*state, domains_),
        state->counters->Read()});
  }
  if (name && views.empty()) return Fail(ENXIO, "no such interface");
  return views;
}

std::string InterfaceManager::ShowConf() const {
  auto views = Show(std::nullopt);
  return control::RenderConfig({allow(), save_, persist_}, *views);
}

void InterfaceManager::Refresh() {
  SyncCarriers();
  if (SyncSockets()) Publish();
}

void InterfaceManager::HandleFailures(
    const ForwardingLoop::Failures& failures) {
  for (const Endpoint& endpoint : failures.sockets) {
    const std::string domain(table_.DomainName(endpoint.domain));
    spdlog::error("{} socket in domain {} failed; reopening it",
                  FamilyName(endpoint.family), DomainLabel(domain));
    sockets_.erase({endpoint.family, domain});
  }
  if (!failures.sockets.empty()) {
    SyncSockets();
    Publish();
  }
  for (InterfaceId id : failures.devices) {
    if (id >= runtime_.size() || !runtime_[id].tap) continue;
    const LinuxTap& tap = *runtime_[id].tap;
    auto index = links_.IndexOf(tap.name());
    if (index && *index == tap.ifindex()) {
      spdlog::warn("{}: device reported an error; link still present",
                   tap.name());
      continue;
    }
    spdlog::warn("{}: link deleted outside etheripd; removing the interface",
                 tap.name());
    (void)Destroy(std::string(tap.name()));
  }
}

}  // namespace etherip

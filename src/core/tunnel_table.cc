#include "core/tunnel_table.h"

#include <fmt/format.h>

#include <cerrno>
#include <set>

#include "core/interface_name.h"

namespace etherip {

namespace {

tl::unexpected<Error> NoSuchDomain(std::string_view domain) {
  return Fail(EINVAL, fmt::format("domain {}: no such domain", domain));
}

tl::unexpected<Error> AddressInUse(const Tunnel& tunnel) {
  return Fail(EADDRNOTAVAIL, fmt::format("tunnel {}: address not available",
                                         tunnel.ToString()));
}

// A domain a request sets must exist; one it keeps may have vanished (the
// interface is then not running, which is no reason to refuse the request).
Status CheckDomain(std::string_view domain, bool changed,
                   const DomainCatalog& domains) {
  if (domain.empty() || !changed) return {};
  if (!ValidateDomainName(domain) || !domains.Exists(domain)) {
    return NoSuchDomain(domain);
  }
  return {};
}

}  // namespace

Status ValidateDomainName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." ||
      name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos || name.size() > 255) {
    return NoSuchDomain(name);
  }
  return {};
}

TunnelTable::TunnelTable(MacGenerator random_mac)
    : random_mac_(std::move(random_mac)) {}

TunnelTable::TunnelIdentity TunnelTable::IdentityOf(std::string_view domain,
                                                    const Tunnel& tunnel) {
  return {std::string(domain),
          MakeForwardingKey(0, tunnel.source, tunnel.destination)};
}

Status TunnelTable::CheckSettings(std::string_view name,
                                  const InterfaceSettings& before,
                                  const InterfaceSettings& after, bool is_new,
                                  const DomainCatalog& domains) const {
  if (auto valid = CheckDomain(
          after.domain, is_new || after.domain != before.domain, domains);
      !valid) {
    return valid;
  }
  return CheckUniqueTunnel(name, after);
}

Status TunnelTable::CheckUniqueTunnel(std::string_view name,
                                      const InterfaceSettings& settings) const {
  if (!settings.tunnel) return {};
  auto it = by_tunnel_.find(IdentityOf(settings.domain, *settings.tunnel));
  if (it != by_tunnel_.end() && it->second != name) {
    return AddressInUse(*settings.tunnel);
  }
  return {};
}

Result<InterfaceSettings> TunnelTable::PrepareCreate(
    std::string_view name, std::span<const InterfaceOption> options,
    const DomainCatalog& domains) const {
  if (auto valid = ValidateInterfaceName(name); !valid) {
    return tl::unexpected(valid.error());
  }
  if (by_name_.contains(name)) {
    return Fail(EEXIST, "interface exists");
  }
  InterfaceSettings settings;
  settings.lladdr = random_mac_();
  const InterfaceSettings before = settings;
  if (auto applied = ApplyInterfaceOptions(options, settings); !applied) {
    return tl::unexpected(applied.error());
  }
  if (auto checked = CheckSettings(name, before, settings, true, domains);
      !checked) {
    return tl::unexpected(checked.error());
  }
  return settings;
}

Result<InterfaceSettings> TunnelTable::PrepareSet(
    std::string_view name, std::span<const InterfaceOption> options,
    const DomainCatalog& domains) const {
  const InterfaceState* state = Find(name);
  if (state == nullptr) {
    return Fail(ENXIO, "no such interface");
  }
  InterfaceSettings settings = state->settings;
  if (auto applied = ApplyInterfaceOptions(options, settings); !applied) {
    return tl::unexpected(applied.error());
  }
  if (auto checked =
          CheckSettings(name, state->settings, settings, false, domains);
      !checked) {
    return tl::unexpected(checked.error());
  }
  return settings;
}

Status TunnelTable::PrepareDestroy(std::string_view name) const {
  if (Find(name) == nullptr) {
    return Fail(ENXIO, "no such interface");
  }
  return {};
}

tl::expected<ReplacePlan, SpecError> TunnelTable::PrepareReplace(
    std::span<const InterfaceSpec> specs, const DomainCatalog& domains) const {
  auto refuse = [](size_t index, Error error) {
    return tl::unexpected(SpecError{index, std::move(error)});
  };
  ReplacePlan plan;
  std::set<std::string, std::less<>> wanted;
  absl::flat_hash_map<TunnelIdentity, std::string> tunnels;
  for (size_t i = 0; i < specs.size(); ++i) {
    const InterfaceSpec& spec = specs[i];
    if (auto valid = ValidateInterfaceName(spec.name); !valid) {
      return refuse(i, valid.error());
    }
    if (!wanted.insert(spec.name).second) {
      return refuse(i, Error{EEXIST, "interface named twice"});
    }
    const InterfaceState* current = Find(spec.name);
    InterfaceSettings settings = spec.settings;
    if (!spec.has_lladdr) {
      settings.lladdr = current ? current->settings.lladdr : random_mac_();
    }
    if (settings.tunnel) {
      if (auto valid = CheckTunnel(*settings.tunnel); !valid) {
        return refuse(i, valid.error());
      }
      auto [it, inserted] = tunnels.emplace(
          IdentityOf(settings.domain, *settings.tunnel), spec.name);
      if (!inserted) return refuse(i, AddressInUse(*settings.tunnel).value());
    }
    const bool domain_changed =
        current == nullptr || current->settings.domain != settings.domain;
    for (const Status& valid :
         {CheckDomain(settings.domain, domain_changed, domains),
          CheckLladdr(settings.lladdr), CheckMtu(settings.mtu),
          settings.master.empty() ? Status{} : CheckMaster(settings.master)}) {
      if (!valid) return refuse(i, valid.error());
    }
    if (current == nullptr) {
      plan.create.emplace_back(spec.name, settings);
    } else if (current->settings != settings) {
      plan.change.emplace_back(spec.name, settings);
    }
  }
  for (const auto& [name, state] : by_name_) {
    if (!wanted.contains(name)) plan.destroy.push_back(name);
  }
  return plan;
}

InterfaceId TunnelTable::AllocateId() {
  if (!free_ids_.empty()) {
    const InterfaceId id = free_ids_.back();
    free_ids_.pop_back();
    return id;
  }
  return next_id_++;
}

void TunnelTable::IndexTunnel(const InterfaceState& state) {
  if (!state.settings.tunnel) return;
  ++endpoint_users_[{state.settings.tunnel->source.family(),
                     state.settings.domain}];
  by_tunnel_.insert_or_assign(
      IdentityOf(state.settings.domain, *state.settings.tunnel), state.name);
}

void TunnelTable::UnindexTunnel(const InterfaceState& state) {
  if (!state.settings.tunnel) return;
  auto users = endpoint_users_.find(
      {state.settings.tunnel->source.family(), state.settings.domain});
  if (users != endpoint_users_.end() && --users->second == 0) {
    endpoint_users_.erase(users);
  }
  auto it = by_tunnel_.find(
      IdentityOf(state.settings.domain, *state.settings.tunnel));
  if (it != by_tunnel_.end() && it->second == state.name) by_tunnel_.erase(it);
}

const InterfaceState& TunnelTable::CommitCreate(
    std::string_view name, const InterfaceSettings& settings) {
  InterfaceState state;
  state.id = AllocateId();
  state.name = std::string(name);
  state.settings = settings;
  state.counters = std::make_shared<InterfaceCounters>();
  DomainIdOf(settings.domain);
  auto [it, inserted] = by_name_.emplace(state.name, std::move(state));
  IndexTunnel(it->second);
  return it->second;
}

void TunnelTable::CommitSet(std::string_view name,
                            const InterfaceSettings& settings) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return;
  UnindexTunnel(it->second);
  it->second.settings = settings;
  DomainIdOf(settings.domain);
  IndexTunnel(it->second);
}

void TunnelTable::CommitDestroy(std::string_view name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return;
  UnindexTunnel(it->second);
  free_ids_.push_back(it->second.id);
  by_name_.erase(it);
}

void TunnelTable::CommitRename(std::string_view name,
                               std::string_view new_name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || by_name_.contains(new_name)) return;
  UnindexTunnel(it->second);
  auto node = by_name_.extract(it);
  node.key() = std::string(new_name);
  node.mapped().name = std::string(new_name);
  auto inserted = by_name_.insert(std::move(node));
  IndexTunnel(inserted.position->second);
}

void TunnelTable::CommitReplace(const ReplacePlan& plan) {
  for (const auto& name : plan.destroy) CommitDestroy(name);
  // Changes first drop their old tunnels, so that two interfaces may swap.
  for (const auto& [name, settings] : plan.change) {
    auto it = by_name_.find(name);
    if (it != by_name_.end()) UnindexTunnel(it->second);
  }
  for (const auto& [name, settings] : plan.change) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) continue;
    it->second.settings = settings;
    DomainIdOf(settings.domain);
    IndexTunnel(it->second);
  }
  for (const auto& [name, settings] : plan.create) CommitCreate(name, settings);
}

Result<const InterfaceState*> TunnelTable::Create(
    std::string_view name, std::span<const InterfaceOption> options,
    const DomainCatalog& domains) {
  auto settings = PrepareCreate(name, options, domains);
  if (!settings) return tl::unexpected(settings.error());
  return &CommitCreate(name, *settings);
}

Status TunnelTable::Set(std::string_view name,
                        std::span<const InterfaceOption> options,
                        const DomainCatalog& domains) {
  auto settings = PrepareSet(name, options, domains);
  if (!settings) return tl::unexpected(settings.error());
  CommitSet(name, *settings);
  return {};
}

Status TunnelTable::Destroy(std::string_view name) {
  if (auto ok = PrepareDestroy(name); !ok) return ok;
  CommitDestroy(name);
  return {};
}

const InterfaceState* TunnelTable::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

const InterfaceState* TunnelTable::FindByTunnel(std::string_view domain,
                                                const Tunnel& tunnel) const {
  auto it = by_tunnel_.find(IdentityOf(domain, tunnel));
  return it == by_tunnel_.end() ? nullptr : Find(it->second);
}

std::vector<const InterfaceState*> TunnelTable::List() const {
  std::vector<const InterfaceState*> list;
  list.reserve(by_name_.size());
  for (const auto& [name, state] : by_name_) list.push_back(&state);
  return list;
}

bool TunnelTable::IsRunning(const InterfaceState& state,
                            const DomainCatalog& domains) {
  return state.settings.up && state.settings.tunnel.has_value() &&
         (state.settings.domain.empty() ||
          domains.Exists(state.settings.domain));
}

ForwardingEntry TunnelTable::EntryOf(const InterfaceState& state) const {
  ForwardingEntry entry;
  entry.id = state.id;
  auto domain = domain_ids_.find(state.settings.domain);
  entry.domain = domain == domain_ids_.end() ? 0 : domain->second;
  entry.has_tunnel = state.settings.tunnel.has_value();
  if (entry.has_tunnel) entry.tunnel = *state.settings.tunnel;
  entry.up = state.settings.up;
  entry.header = state.settings.header;
  entry.outer = OuterFieldsOf(state.settings);
  entry.tos_inherit = state.settings.tos.kind == OuterTos::Kind::kInherit;
  entry.counters = state.counters.get();
  return entry;
}

ForwardingTable TunnelTable::BuildForwardingTable() const {
  std::vector<ForwardingEntry> entries;
  std::vector<std::shared_ptr<InterfaceCounters>> owners;
  entries.reserve(by_name_.size());
  owners.reserve(by_name_.size());
  for (const auto& [name, state] : by_name_) {
    entries.push_back(EntryOf(state));
    owners.push_back(state.counters);
  }
  return ForwardingTable(std::move(entries), std::move(owners));
}

DomainId TunnelTable::DomainIdOf(std::string_view name) {
  auto it = domain_ids_.find(absl::string_view(name.data(), name.size()));
  if (it != domain_ids_.end()) return it->second;
  const auto id = static_cast<DomainId>(domain_names_.size());
  domain_names_.emplace_back(name);
  domain_ids_.emplace(std::string(name), id);
  return id;
}

std::string_view TunnelTable::DomainName(DomainId id) const {
  return id < domain_names_.size() ? std::string_view(domain_names_[id]) : "";
}

}  // namespace etherip

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

// "tunnel A -> B", with " eoip ID" for an EoIP tunnel.
std::string TunnelLabel(const InterfaceSettings& settings) {
  std::string label = fmt::format("tunnel {}", settings.tunnel->ToString());
  if (settings.eoip) label += fmt::format(" eoip {}", *settings.eoip);
  return label;
}

tl::unexpected<Error> AddressInUse(const InterfaceSettings& settings) {
  return Fail(EADDRNOTAVAIL,
              fmt::format("{}: address not available", TunnelLabel(settings)));
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

bool IsLiteral(const InterfaceState& state) {
  return state.settings.tunnel && !state.settings.tunnel->has_names();
}

// Whether a change of settings is a new tunnel to resolve and key.
bool TunnelChanged(const InterfaceSettings& before,
                   const InterfaceSettings& after) {
  return before.tunnel != after.tunnel || before.domain != after.domain ||
         before.eoip != after.eoip;
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

TunnelTable::TunnelIdentity TunnelTable::IdentityOf(
    std::string_view domain, const Tunnel& tunnel,
    std::optional<uint16_t> eoip) {
  return {std::string(domain),
          MakeForwardingKey(0, tunnel.source, tunnel.destination,
                            eoip ? EoipKeyTag(*eoip) : kStandardKeyTag)};
}

Status TunnelTable::CheckPairKind(const TunnelMap& tunnels,
                                  const EoipPairs& eoip_pairs,
                                  std::string_view name,
                                  const InterfaceSettings& settings,
                                  const Tunnel& addresses) {
  const TunnelIdentity pair =
      IdentityOf(settings.domain, addresses, std::nullopt);
  std::string_view other;  // an interface of the other kind, if any
  if (settings.eoip) {
    auto standard = tunnels.find(pair);
    if (standard != tunnels.end() && standard->second != name) {
      other = standard->second;
    }
  } else if (auto eoip = eoip_pairs.find(pair); eoip != eoip_pairs.end()) {
    // At most two looks: one may be its own EoIP tunnel, about to change.
    for (const std::string& user : eoip->second) {
      if (user == name) continue;
      other = user;
      break;
    }
  }
  if (other.empty()) return {};
  return Fail(EEXIST, fmt::format("{}: file exists ({} has {} tunnel between "
                                  "these addresses; EoIP and standard "
                                  "tunnels cannot share them)",
                                  TunnelLabel(settings), other,
                                  settings.eoip ? "a standard" : "an EoIP"));
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
  // Only literals are keyed now; a name is keyed when it resolves, and
  // never refused for what it resolves to.
  if (!settings.tunnel) return {};
  const auto addresses = settings.tunnel->LiteralAddresses();
  if (!addresses) return {};
  auto it =
      by_tunnel_.find(IdentityOf(settings.domain, *addresses, settings.eoip));
  if (it != by_tunnel_.end() && it->second != name &&
      IsLiteral(*Find(it->second))) {
    return AddressInUse(settings);
  }
  return CheckPairKind(by_tunnel_, eoip_pairs_, name, settings, *addresses);
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
  TunnelMap tunnels;
  EoipPairs eoip_pairs;
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
    // An automatic MTU is not the file's to give: an interface that has one
    // keeps the value it follows (the caller computes it for the others).
    if (settings.mtu_auto && current != nullptr && current->settings.mtu_auto) {
      settings.mtu = current->settings.mtu;
    }
    if (settings.tunnel) {
      if (auto valid = CheckTunnel(*settings.tunnel); !valid) {
        return refuse(i, valid.error());
      }
      if (auto addresses = settings.tunnel->LiteralAddresses()) {
        auto [it, inserted] = tunnels.emplace(
            IdentityOf(settings.domain, *addresses, settings.eoip), spec.name);
        if (!inserted) return refuse(i, AddressInUse(settings).value());
        if (auto kind = CheckPairKind(tunnels, eoip_pairs, spec.name, settings,
                                      *addresses);
            !kind) {
          return refuse(i, kind.error());
        }
        if (settings.eoip) {
          eoip_pairs[IdentityOf(settings.domain, *addresses, std::nullopt)]
              .emplace(spec.name);
        }
      }
    }
    const bool domain_changed =
        current == nullptr || current->settings.domain != settings.domain;
    for (const Status& valid :
         {CheckDomain(settings.domain, domain_changed, domains),
          CheckLladdr(settings.lladdr), CheckMtu(settings.mtu),
          CheckEoip(settings),
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

InterfaceState& TunnelTable::StateOf(std::string_view name) {
  return by_name_.find(name)->second;
}

void TunnelTable::ResetResolution(InterfaceState& state) {
  state.addresses.reset();
  state.problem.clear();
  state.holds_key = false;
  if (!state.settings.tunnel) return;
  state.addresses = state.settings.tunnel->LiteralAddresses();
  if (state.settings.tunnel->needs_lookup()) {
    state.problem = std::string(kNotResolved);
  }
}

void TunnelTable::IndexTunnel(InterfaceState& state) {
  state.holds_key = false;
  if (!state.settings.tunnel || !state.addresses) return;
  if (state.settings.eoip) {
    eoip_pairs_[IdentityOf(state.settings.domain, *state.addresses,
                           std::nullopt)]
        .emplace(state.name);
  }
  const TunnelIdentity identity =
      IdentityOf(state.settings.domain, *state.addresses, state.settings.eoip);
  auto it = by_tunnel_.find(identity);
  if (it != by_tunnel_.end() && it->second != state.name) {
    InterfaceState& holder = StateOf(it->second);
    if (!IsLiteral(state) || IsLiteral(holder)) {
      waiting_[identity].insert(state.name);
      return;
    }
    // A tunnel of literals takes its key from a named tunnel, which waits.
    // Both are of the key's (family, domain): its users stay as they are.
    holder.holds_key = false;
    waiting_[identity].insert(holder.name);
    affected_.push_back(holder.name);
    it->second = state.name;
    state.holds_key = true;
    return;
  }
  by_tunnel_.insert_or_assign(identity, state.name);
  state.holds_key = true;
  ++endpoint_users_[{state.addresses->source.family(), state.settings.domain}];
}

void TunnelTable::UnindexTunnel(InterfaceState& state) {
  if (!state.settings.tunnel || !state.addresses) return;
  if (state.settings.eoip) {
    auto pair = eoip_pairs_.find(
        IdentityOf(state.settings.domain, *state.addresses, std::nullopt));
    if (pair != eoip_pairs_.end()) {
      pair->second.erase(state.name);
      if (pair->second.empty()) eoip_pairs_.erase(pair);
    }
  }
  const TunnelIdentity identity =
      IdentityOf(state.settings.domain, *state.addresses, state.settings.eoip);
  auto waiting = waiting_.find(identity);
  if (!state.holds_key) {
    if (waiting != waiting_.end()) {
      waiting->second.erase(state.name);
      if (waiting->second.empty()) waiting_.erase(waiting);
    }
    return;
  }
  state.holds_key = false;
  if (waiting != waiting_.end()) {
    // The first in line takes the key over, users and all.
    auto first = waiting->second.begin();
    InterfaceState& next = StateOf(*first);
    waiting->second.erase(first);
    if (waiting->second.empty()) waiting_.erase(waiting);
    by_tunnel_.insert_or_assign(identity, next.name);
    next.holds_key = true;
    affected_.push_back(next.name);
    return;
  }
  by_tunnel_.erase(identity);
  auto users = endpoint_users_.find(
      {state.addresses->source.family(), state.settings.domain});
  if (users != endpoint_users_.end() && --users->second == 0) {
    endpoint_users_.erase(users);
  }
}

const InterfaceState& TunnelTable::CommitCreate(
    std::string_view name, const InterfaceSettings& settings) {
  InterfaceState state;
  state.id = AllocateId();
  state.name = std::string(name);
  state.settings = settings;
  state.counters = std::make_shared<InterfaceCounters>();
  ResetResolution(state);
  DomainIdOf(settings.domain);
  auto [it, inserted] = by_name_.emplace(state.name, std::move(state));
  IndexTunnel(it->second);
  return it->second;
}

void TunnelTable::CommitSet(std::string_view name,
                            const InterfaceSettings& settings) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return;
  InterfaceState& state = it->second;
  // The same tunnel in the same domain keeps what it resolved to.
  if (!TunnelChanged(state.settings, settings)) {
    state.settings = settings;
    return;
  }
  UnindexTunnel(state);
  state.settings = settings;
  ResetResolution(state);
  DomainIdOf(settings.domain);
  IndexTunnel(state);
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
  const InterfaceState& state = it->second;
  // The key (or the place in line for it) goes with the interface: no
  // other interface gets it in between.
  if (state.settings.tunnel && state.addresses) {
    const TunnelIdentity identity = IdentityOf(
        state.settings.domain, *state.addresses, state.settings.eoip);
    if (state.holds_key) {
      by_tunnel_.insert_or_assign(identity, std::string(new_name));
    } else if (auto waiting = waiting_.find(identity);
               waiting != waiting_.end()) {
      if (auto in_line = waiting->second.find(name);
          in_line != waiting->second.end()) {
        waiting->second.erase(in_line);
        waiting->second.insert(std::string(new_name));
      }
    }
  }
  auto node = by_name_.extract(it);
  node.key() = std::string(new_name);
  node.mapped().name = std::string(new_name);
  by_name_.insert(std::move(node));
}

bool TunnelTable::CommitResolution(std::string_view name,
                                   std::string_view domain,
                                   const TunnelConfig& tunnel,
                                   const Result<Tunnel>& answer) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return false;
  InterfaceState& state = it->second;
  if (!state.settings.tunnel || *state.settings.tunnel != tunnel ||
      state.settings.domain != domain) {
    return false;  // about a tunnel the interface no longer has
  }
  std::optional<Tunnel> addresses = tunnel.LiteralAddresses();
  std::string problem;
  if (!answer) {
    problem = answer.error().message;
  } else if (!AddressProblem(*answer).empty() ||
             (!tunnel.source.is_name() &&
              answer->source != tunnel.source.address) ||
             (!tunnel.destination.is_name() &&
              answer->destination != tunnel.destination.address)) {
    return false;  // not a tunnel, or not this one's literals
  } else if (state.settings.eoip && answer->source.family() != Family::kIpv6) {
    // A name resolved to IPv4 only: EoIP is IPv6 (CheckEoip, for literals).
    problem = fmt::format("eoip {}: EoIP tunnels are IPv6: {} is IPv4",
                          *state.settings.eoip, answer->ToString());
    addresses.reset();
  } else {
    addresses = *answer;
  }
  if (addresses == state.addresses && problem == state.problem) return false;
  if (addresses && state.addresses &&
      IdentityOf(domain, *addresses, state.settings.eoip) ==
          IdentityOf(domain, *state.addresses, state.settings.eoip)) {
    // Same key (a zone's index found, a problem gone): no one else's turn.
    state.addresses = addresses;
    state.problem = std::move(problem);
    return true;
  }
  UnindexTunnel(state);
  state.addresses = addresses;
  state.problem = std::move(problem);
  IndexTunnel(state);
  return true;
}

void TunnelTable::CommitReplace(const ReplacePlan& plan) {
  for (const auto& name : plan.destroy) CommitDestroy(name);
  // Changes first drop their old tunnels, so that two interfaces may swap.
  for (const auto& [name, settings] : plan.change) {
    auto it = by_name_.find(name);
    if (it != by_name_.end() && TunnelChanged(it->second.settings, settings)) {
      UnindexTunnel(it->second);
    }
  }
  for (const auto& [name, settings] : plan.change) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) continue;
    InterfaceState& state = it->second;
    const bool changed = TunnelChanged(state.settings, settings);
    state.settings = settings;
    if (!changed) continue;
    ResetResolution(state);
    DomainIdOf(settings.domain);
    IndexTunnel(state);
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

const InterfaceState* TunnelTable::FindByTunnel(
    std::string_view domain, const Tunnel& tunnel,
    std::optional<uint16_t> eoip) const {
  // The interface that has the key, whoever else waits for it.
  auto it = by_tunnel_.find(IdentityOf(domain, tunnel, eoip));
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
  return state.settings.up && state.in_use() &&
         (state.settings.domain.empty() ||
          domains.Exists(state.settings.domain));
}

std::string TunnelTable::Unresolved(const InterfaceState& state) const {
  if (!state.settings.tunnel) return {};
  if (!state.problem.empty()) return state.problem;
  if (!state.addresses || state.holds_key) return {};
  auto it = by_tunnel_.find(
      IdentityOf(state.settings.domain, *state.addresses, state.settings.eoip));
  return fmt::format("{} is in use by {}", state.addresses->ToString(),
                     it == by_tunnel_.end() ? "another interface" : it->second);
}

ForwardingEntry TunnelTable::EntryOf(const InterfaceState& state) const {
  ForwardingEntry entry;
  entry.id = state.id;
  auto domain = domain_ids_.find(state.settings.domain);
  entry.domain = domain == domain_ids_.end() ? 0 : domain->second;
  entry.has_tunnel = state.in_use();
  if (entry.has_tunnel) entry.tunnel = *state.addresses;
  entry.up = state.settings.up;
  entry.header = state.settings.header;
  entry.eoip = state.settings.eoip;
  entry.keepalive = state.settings.eoip ? state.settings.keepalive : 0;
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

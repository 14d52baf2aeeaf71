// The tunnel table: the daemon's interfaces by name and by tunnel key, with
// the checks of SPEC 2 and 6.
//
// Every change is split in two: Prepare* validates the whole request against
// the state it would produce and returns what to commit, changing nothing;
// Commit* cannot fail. The daemon does its I/O (create the TAP, set the MTU)
// between the two, so a refused or failed request changes nothing.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/counters.h"
#include "core/error.h"
#include "core/forwarding_table.h"
#include "core/interface_options.h"

namespace etherip {

// Which network namespaces (domains) exist. "" (the daemon's own) always does.
class DomainCatalog {
 public:
  virtual ~DomainCatalog() = default;
  virtual bool Exists(std::string_view name) const = 0;
};

struct InterfaceState {
  InterfaceId id = 0;
  std::string name;
  InterfaceSettings settings;
  std::shared_ptr<InterfaceCounters> counters;
};

// An interface as a configuration file describes it. Without lladdr, an
// existing interface keeps its MAC and a new one gets a random one. With
// settings.mtu_auto, an existing interface whose MTU is automatic keeps its
// current value (settings.mtu is ignored).
struct InterfaceSpec {
  std::string name;
  InterfaceSettings settings;
  bool has_lladdr = false;
};

// What makes the table equal to a list of specs; only the difference.
struct ReplacePlan {
  std::vector<std::string> destroy;
  std::vector<std::pair<std::string, InterfaceSettings>> create;
  std::vector<std::pair<std::string, InterfaceSettings>> change;
  bool empty() const {
    return destroy.empty() && create.empty() && change.empty();
  }
};

// A refusal of one spec of a list, by its position.
struct SpecError {
  size_t index;
  Error error;
};

class TunnelTable {
 public:
  using MacGenerator = std::function<MacAddress()>;
  explicit TunnelTable(MacGenerator random_mac);

  Result<InterfaceSettings> PrepareCreate(
      std::string_view name, std::span<const InterfaceOption> options,
      const DomainCatalog& domains) const;
  Result<InterfaceSettings> PrepareSet(std::string_view name,
                                       std::span<const InterfaceOption> options,
                                       const DomainCatalog& domains) const;
  Status PrepareDestroy(std::string_view name) const;
  tl::expected<ReplacePlan, SpecError> PrepareReplace(
      std::span<const InterfaceSpec> specs, const DomainCatalog& domains) const;

  const InterfaceState& CommitCreate(std::string_view name,
                                     const InterfaceSettings& settings);
  void CommitSet(std::string_view name, const InterfaceSettings& settings);
  void CommitDestroy(std::string_view name);
  void CommitReplace(const ReplacePlan& plan);
  // Follows a rename made outside the daemon: the interface keeps its id,
  // settings and counters under `new_name`. Nothing when `name` is unknown
  // or `new_name` taken.
  void CommitRename(std::string_view name, std::string_view new_name);

  // Prepare + commit, for callers with no I/O in between.
  Result<const InterfaceState*> Create(std::string_view name,
                                       std::span<const InterfaceOption> options,
                                       const DomainCatalog& domains);
  Status Set(std::string_view name, std::span<const InterfaceOption> options,
             const DomainCatalog& domains);
  Status Destroy(std::string_view name);

  const InterfaceState* Find(std::string_view name) const;
  // The interface with the tunnel (domain, source -> destination), standard
  // or with EoIP ID `eoip`, or null.
  const InterfaceState* FindByTunnel(
      std::string_view domain, const Tunnel& tunnel,
      std::optional<uint16_t> eoip = std::nullopt) const;
  // The (family, domain) pairs some tunnel uses, each with how many do:
  // the outer sockets the daemon needs.
  const std::map<std::pair<Family, std::string>, size_t>& endpoint_users()
      const {
    return endpoint_users_;
  }
  // All interfaces, ordered by name.
  std::vector<const InterfaceState*> List() const;
  size_t size() const { return by_name_.size(); }

  // Up, with a tunnel, in a domain that exists (SPEC 2).
  static bool IsRunning(const InterfaceState& state,
                        const DomainCatalog& domains);

  // The forwarding path's view of one interface (its domain id interned by
  // the commit that set it).
  ForwardingEntry EntryOf(const InterfaceState& state) const;
  // The forwarding table of every interface, built whole.
  ForwardingTable BuildForwardingTable() const;
  // Interned domain ids: stable while the table lives.
  DomainId DomainIdOf(std::string_view name);
  std::string_view DomainName(DomainId id) const;
  // Every interned domain name, indexed by DomainId.
  const std::vector<std::string>& domain_names() const { return domain_names_; }

 private:
  // A tunnel's identity by domain name (ids are interned on commit only),
  // with its EoIP ID if any; with nullopt, the identity of its address pair.
  using TunnelIdentity = std::pair<std::string, ForwardingKey>;
  static TunnelIdentity IdentityOf(std::string_view domain,
                                   const Tunnel& tunnel,
                                   std::optional<uint16_t> eoip);
  // Interfaces by tunnel identity (with its EoIP ID).
  using TunnelMap = absl::flat_hash_map<TunnelIdentity, std::string>;
  // The interfaces with EoIP tunnels on each (domain, source, destination),
  // by the pair's identity (IdentityOf with nullopt). Only EoIP tunnels
  // are here: a standard tunnel's pair is its identity in a TunnelMap.
  using EoipPairs =
      absl::flat_hash_map<TunnelIdentity, std::set<std::string, std::less<>>>;
  // EEXIST when the pair of `settings`' tunnel has a tunnel of the other
  // kind (EoIP or standard) of an interface other than `name`: a pair
  // carries EoIP tunnels or one standard tunnel.
  static Status CheckPairKind(const TunnelMap& tunnels,
                              const EoipPairs& eoip_pairs,
                              std::string_view name,
                              const InterfaceSettings& settings);

  Status CheckSettings(std::string_view name, const InterfaceSettings& before,
                       const InterfaceSettings& after, bool is_new,
                       const DomainCatalog& domains) const;
  Status CheckUniqueTunnel(std::string_view name,
                           const InterfaceSettings& settings) const;
  InterfaceId AllocateId();
  void IndexTunnel(const InterfaceState& state);
  void UnindexTunnel(const InterfaceState& state);

  MacGenerator random_mac_;
  std::map<std::string, InterfaceState, std::less<>> by_name_;
  TunnelMap by_tunnel_;
  EoipPairs eoip_pairs_;
  std::map<std::pair<Family, std::string>, size_t> endpoint_users_;
  std::vector<std::string> domain_names_{""};
  absl::flat_hash_map<std::string, DomainId> domain_ids_{{"", 0}};
  // Ids of destroyed interfaces, reused first; O(1) either way.
  std::vector<InterfaceId> free_ids_;
  InterfaceId next_id_ = 0;
};

// "(default)" for the daemon's own namespace, else the domain's name; for
// messages.
inline std::string_view DomainLabel(std::string_view domain) {
  return domain.empty() ? "(default)" : domain;
}

// A valid `ip netns` name: non-empty, no '/' or NUL, not "." or "..".
Status ValidateDomainName(std::string_view name);

}  // namespace etherip

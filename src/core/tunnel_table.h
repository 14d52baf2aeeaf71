// The tunnel table: the daemon's interfaces by name and by tunnel key, with
// the checks of SPEC 2 and 6.
//
// A tunnel of literals has its addresses, and its key (domain, source,
// destination), from the moment it is configured; a second tunnel of
// literals with that key is refused. A tunnel with a host name (or a zone
// that names an interface) gets its addresses when the daemon's resolver
// answers (CommitResolution); until then, or when they do not resolve, it
// is not in use. Addresses another interface has make a named tunnel wait
// (not in use) until that one lets them go; a tunnel of literals takes its
// key from a named tunnel that had it. No request is ever refused because
// of what a name resolves to.
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
#include <utility>
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
  // The tunnel's outer addresses once known: its literals as soon as it is
  // configured, or what the resolver found for its names and zone.
  std::optional<Tunnel> addresses;
  // Why the tunnel cannot be used, "" when nothing stops it: kNotResolved
  // until the resolver first answers, then its reason (a name that does not
  // resolve, no interface for the zone, ...).
  std::string problem;
  // Whether this interface has the key of `addresses`; false while another
  // interface has it (this one then waits for it).
  bool holds_key = false;

  // The tunnel is in use: forwarded, and part of `running` (SPEC 2).
  bool in_use() const {
    return settings.tunnel && addresses && problem.empty() && holds_key;
  }
};

// The problem of a tunnel whose names or zone are yet to be looked up.
inline constexpr std::string_view kNotResolved = "not resolved yet";

// An interface as a configuration file describes it. Without lladdr, an
// existing interface keeps its MAC and a new one gets a random one.
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
  // settings, counters and tunnel state under `new_name`. Nothing when
  // `name` is unknown or `new_name` taken.
  void CommitRename(std::string_view name, std::string_view new_name);
  // The resolver's answer for interface `name`'s tunnel as it was when it
  // was asked (`tunnel` in `domain`): the addresses its names and zone
  // stand for, or why there are none. An answer about a tunnel or domain
  // the interface no longer has is ignored, and so is one whose addresses
  // cannot be a tunnel (AddressProblem; the resolver checks them first).
  // Returns whether the interface's tunnel state changed. Cannot fail.
  bool CommitResolution(std::string_view name, std::string_view domain,
                        const TunnelConfig& tunnel,
                        const Result<Tunnel>& answer);
  // The interfaces, besides those a commit named, whose tunnel came into
  // or out of use through commits since the last call (a tunnel of
  // literals took a named tunnel's key; a tunnel let go of a key another
  // waited for), in the order it happened; each name as it was then.
  std::vector<std::string> TakeAffected() {
    return std::exchange(affected_, {});
  }

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

  // Up, with a tunnel in use (its endpoints resolved), in a domain that
  // exists (SPEC 2).
  static bool IsRunning(const InterfaceState& state,
                        const DomainCatalog& domains);
  // Why the interface's tunnel is not in use, "" when it is or there is no
  // tunnel: its problem, or "192.0.2.1 -> 192.0.2.9 is in use by etherip3".
  std::string Unresolved(const InterfaceState& state) const;

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
  // EEXIST when the pair `addresses` of `settings`' tunnel has a tunnel of
  // the other kind (EoIP or standard) of an interface other than `name`: a
  // pair carries EoIP tunnels or one standard tunnel. Checked for tunnels
  // of literals (a named tunnel's addresses are known only once resolved).
  static Status CheckPairKind(const TunnelMap& tunnels,
                              const EoipPairs& eoip_pairs,
                              std::string_view name,
                              const InterfaceSettings& settings,
                              const Tunnel& addresses);

  Status CheckSettings(std::string_view name, const InterfaceSettings& before,
                       const InterfaceSettings& after, bool is_new,
                       const DomainCatalog& domains) const;
  Status CheckUniqueTunnel(std::string_view name,
                           const InterfaceSettings& settings) const;
  InterfaceId AllocateId();
  // The addresses (and problem) a newly configured tunnel starts with.
  static void ResetResolution(InterfaceState& state);
  // Gives the interface its addresses' key, or makes it wait for it.
  void IndexTunnel(InterfaceState& state);
  // Takes the interface's key (or its place in the queue) away; the first
  // interface waiting for that key gets it.
  void UnindexTunnel(InterfaceState& state);
  InterfaceState& StateOf(std::string_view name);

  MacGenerator random_mac_;
  std::map<std::string, InterfaceState, std::less<>> by_name_;
  TunnelMap by_tunnel_;
  EoipPairs eoip_pairs_;
  // Interfaces waiting for a key another has, first in name order.
  absl::flat_hash_map<TunnelIdentity, std::set<std::string, std::less<>>>
      waiting_;
  std::vector<std::string> affected_;
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

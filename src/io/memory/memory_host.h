// An in-memory Host (io/host.h) for unit tests of the control plane: links,
// TAP devices, domains, sockets and files live in memory, every change
// through the host is announced as a link event as the kernel would, tests
// can change links behind the daemon's back (KernelSet*, KernelRename,
// KernelDelete), and any call can be made to fail (FailNext).
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "io/host.h"
#include "io/memory/memory_network.h"
#include "io/memory/memory_tap.h"

namespace etherip {

class MemoryHost : public Host {
 public:
  // The calls that can be made to fail.
  enum class Op {
    kCreateTap,
    kAttachTap,
    kSetLinkAddress,
    kSetLinkMtu,
    kSetLinkUp,
    kSetLinkGroup,
    kSetLinkIpv6,
    kSetLinkMaster,
    kSetLinkName,
    kDeleteLinkGroup,
    kDumpLinks,
    kOpenSocket,
    kReplaceFile,
    kLookupRouteMtu,
    kCount
  };

  MemoryHost();
  ~MemoryHost() override;

  // --- Host ---
  Result<std::shared_ptr<TapDevice>> CreateTap(std::string_view name,
                                               bool persist) override;
  Result<std::shared_ptr<TapDevice>> AttachTap(std::string_view name) override;
  Status SetLinkAddress(int ifindex, const MacAddress& address) override;
  Status SetLinkMtu(int ifindex, uint32_t mtu) override;
  Status SetLinkUp(int ifindex, bool up) override;
  Status SetLinkGroup(int ifindex, uint32_t group) override;
  Status SetLinkIpv6(int ifindex, bool enabled) override;
  Status SetLinkMaster(int ifindex, std::string_view master) override;
  Status SetLinkName(int ifindex, std::string_view name) override;
  Status DeleteLinkGroup(uint32_t group) override;
  int link_events_fd() const override { return -1; }
  Result<LinkEvents> ReadLinkEvents() override;
  Result<std::vector<LinkInfo>> DumpLinks() override;
  Result<std::shared_ptr<HostSocket>> OpenSocket(
      Family family, std::string_view domain) override;
  bool Exists(std::string_view domain) const override;
  std::optional<NamespaceId> DomainIdentity(
      std::string_view domain) const override;
  int domain_events_fd() const override { return -1; }
  void DrainDomainEvents() override {}
  Status ReplaceFile(const std::string& path,
                     std::string_view contents) override;
  // Routes are looked up by destination only (the source is ignored).
  Result<RouteMtu> LookupRouteMtu(std::string_view domain,
                                  const IpAddress& source,
                                  const IpAddress& destination) override;
  std::vector<std::string> WatchRoutes(
      std::span<const std::string> domains) override;
  int route_events_fd() const override { return -1; }
  std::vector<std::string> ReadRouteEvents() override;

  // --- Fault injection ---
  // The call of `op` after `skip` more successful ones fails with `error`
  // (once). Several may be queued per op; they fire in order.
  void FailNext(Op op, Error error, size_t skip = 0);
  size_t calls(Op op) const { return calls_[static_cast<size_t>(op)]; }

  // --- The kernel, behind the daemon's back ---
  // Each announces a link event, as the kernel would.
  Status KernelSetUp(std::string_view name, bool up);
  Status KernelSetMtu(std::string_view name, uint32_t mtu);
  Status KernelSetAddress(std::string_view name, const MacAddress& address);
  Status KernelRename(std::string_view name, std::string_view new_name);
  // Deletes the link (`ip link del`, or moved to another namespace): its
  // device's reads and writes fail from then on.
  Status KernelDelete(std::string_view name);
  // A link that is not a TAP (e.g. a bridge `ip link add` made).
  Status KernelAddLink(std::string_view name);
  // Loses the pending events: the next ReadLinkEvents says overflowed.
  void KernelOverflowEvents();
  // The route to `destination` in `domain` (a host route: lookups match
  // the destination exactly) now says `route`; announced as a route event
  // when the domain is watched. KernelDeleteRoute: no route any more.
  void KernelSetRoute(std::string_view domain, const IpAddress& destination,
                      RouteMtu route);
  void KernelDeleteRoute(std::string_view domain, const IpAddress& destination);

  // --- Inspection ---
  std::optional<LinkInfo> Link(std::string_view name) const;
  size_t link_count() const { return links_.size(); }
  // The device of link `name`, while one is attached.
  MemoryTap* TapOf(std::string_view name) const;
  bool IsPersistent(std::string_view name) const;
  bool carrier(std::string_view name) const;
  bool ipv6(std::string_view name) const;
  std::string master(std::string_view name) const;  // "" when none

  // Domains: "" always exists; others come and go. Recreating one gives it
  // a new identity.
  void AddDomain(std::string_view name);
  void RemoveDomain(std::string_view name);
  size_t open_sockets() const { return *open_sockets_counter_; }
  // The domains whose routes are watched (in their current namespace).
  std::set<std::string> watched_routes() const;

  // Files written with ReplaceFile (and seeded by tests).
  std::map<std::string, std::string, std::less<>>& files() { return files_; }

 private:
  class Device;
  class Socket;
  struct LinkRecord {
    LinkInfo info;
    bool is_tap = true;
    bool persistent = false;
    bool carrier = false;
    bool ipv6 = true;
    std::string master;
    Device* device = nullptr;  // attached device, if any
  };
  struct Fault {
    size_t skip;
    Error error;
  };

  Status Check(Op op);
  // Applies `mutate` to the link and announces the change, as the kernel
  // would; ENODEV naming `who` when there is no such link.
  template <typename Mutate>
  Status Change(LinkRecord* record, std::string_view who, Mutate mutate);
  // The same for a Host call: the fault injected for `op` first.
  Status ChangeByIndex(Op op, int ifindex,
                       const std::function<Status(LinkInfo&)>& mutate);
  Status Rename(LinkInfo& link, std::string_view name);
  LinkRecord* Find(int ifindex);
  LinkRecord* FindByName(std::string_view name);
  void Announce(const LinkRecord& record, LinkEvent::Kind kind);
  void Remove(int ifindex);
  Result<std::shared_ptr<TapDevice>> Open(LinkRecord& record);
  void Detached(Device* device, int ifindex);

  std::map<int, LinkRecord> links_;
  int next_ifindex_ = 2;  // 1 is lo
  uint8_t next_mac_ = 1;
  std::vector<LinkEvent> events_;
  bool overflowed_ = false;
  std::array<std::vector<Fault>, static_cast<size_t>(Op::kCount)> faults_;
  std::array<size_t, static_cast<size_t>(Op::kCount)> calls_{};
  std::map<std::string, uint64_t, std::less<>> domains_;
  uint64_t next_namespace_ = 2;  // 1 is the daemon's own
  MemoryNetwork network_;
  std::shared_ptr<size_t> open_sockets_counter_ = std::make_shared<size_t>(0);
  std::map<std::string, std::string, std::less<>> files_;
  // Routes by (domain, destination); watched domains with the identity
  // they were watched in; domains with unread route events.
  std::map<std::pair<std::string, std::string>, RouteMtu> routes_;
  std::map<std::string, NamespaceId, std::less<>> watched_;
  std::set<std::string> route_events_;
  // Devices still alive; they detach themselves from the host on
  // destruction, or are told the host is gone.
  std::set<Device*> devices_;
};

}  // namespace etherip

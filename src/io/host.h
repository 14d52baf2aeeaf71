// The host seam: everything the daemon's control plane asks of the
// operating system, behind one interface (leveldb's Env is the model), so
// that the interface manager, reload, link events and shutdown can be
// driven in unit tests by an in-memory host (io/memory/memory_host.h) that
// can make any step fail, and by the Linux host (io/linux/linux_host.h) in
// the daemon.
//
// Every call returns an error as a value (errno code and a message naming
// the input); none throws. The control plane calls the host from one
// thread; devices and sockets it hands out are then used by the forwarding
// thread too (FrameDevice / OuterSocket contracts).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/ip_address.h"
#include "core/mac_address.h"
#include "core/tunnel_table.h"
#include "io/frame_device.h"
#include "io/link_state.h"
#include "io/outer_socket.h"

namespace etherip {

// An interface's TAP device as the host made it.
class TapDevice : public FrameDevice {
 public:
  // The link's index, fixed for the device's life; its name may change
  // behind the daemon's back (link events say so).
  virtual int ifindex() const = 0;
  // What to poll for frames to read (and errors); -1 when there is
  // nothing to poll (in memory).
  virtual int fd() const = 0;
  // Carrier (LOWER_UP), on exactly while the interface is running.
  virtual Status SetCarrier(bool on) = 0;
  // The MTU super-frames are cut for; kept equal to the link's.
  virtual void SetMtu(unsigned mtu) = 0;
  // A persistent device outlives this object (and the daemon); otherwise
  // dropping the last reference removes the link.
  virtual Status SetPersist(bool persist) = 0;
};

// An outer socket of one (family, domain) as the host opened it.
class HostSocket : public OuterSocket {
 public:
  virtual int fd() const = 0;  // -1 when there is nothing to poll
};

// The identity of a network namespace: a recreated namespace of the same
// name is another one.
struct NamespaceId {
  uint64_t device = 0;
  uint64_t inode = 0;
  friend bool operator==(const NamespaceId&, const NamespaceId&) = default;
};

// What a route says about the MTU of the path it leads to (`mtu auto`).
struct RouteMtu {
  // The route's MTU (RTAX_MTU: `ip route ... mtu [lock] N`, or a path MTU
  // the kernel learned) when it has one, else its egress link's MTU.
  uint32_t mtu = 0;
  int ifindex = 0;  // the egress link (in the route's domain)
  friend bool operator==(const RouteMtu&, const RouteMtu&) = default;
};

class Host : public DomainCatalog {
 public:
  // --- Devices (in the daemon's own namespace) ---
  // A new TAP named `name`, down, carrier off; EEXIST when a link of that
  // name exists. `persist`: it survives the daemon (SetPersist).
  virtual Result<std::shared_ptr<TapDevice>> CreateTap(std::string_view name,
                                                       bool persist) = 0;
  // An existing persistent TAP named `name` (a restart that keeps its
  // interfaces); ENODEV when there is none, EINVAL when the link is not a
  // TAP.
  virtual Result<std::shared_ptr<TapDevice>> AttachTap(
      std::string_view name) = 0;

  // --- Link settings, by ifindex; each returns once applied or refused ---
  virtual Status SetLinkAddress(int ifindex, const MacAddress& address) = 0;
  virtual Status SetLinkMtu(int ifindex, uint32_t mtu) = 0;
  virtual Status SetLinkUp(int ifindex, bool up) = 0;
  virtual Status SetLinkGroup(int ifindex, uint32_t group) = 0;
  // Renames a link; EEXIST when the name is taken, EBUSY when the link is
  // up and the kernel (before 6.2) renames only links that are down.
  virtual Status SetLinkName(int ifindex, std::string_view name) = 0;
  // Whether the link has IPv6 (the kernel's per-interface disable_ipv6):
  // without it the kernel gives the link no addresses, routes or
  // multicast memberships, work that grows with the number of links.
  virtual Status SetLinkIpv6(int ifindex, bool enabled) = 0;
  // Makes link `master` (a bridge, a bond, a VRF) the link's master; ""
  // takes the link out of its master. ENODEV when there is no link
  // `master`.
  virtual Status SetLinkMaster(int ifindex, std::string_view master) = 0;
  // Deletes every link of `group` at once (group 0 is refused: EINVAL).
  virtual Status DeleteLinkGroup(uint32_t group) = 0;

  // --- Link events: the kernel's view of every link, as it changes ---
  virtual int link_events_fd() const = 0;  // -1: nothing to poll
  virtual Result<LinkEvents> ReadLinkEvents() = 0;
  virtual Result<std::vector<LinkInfo>> DumpLinks() = 0;

  // --- Outer sockets, one per (family, domain) ---
  virtual Result<std::shared_ptr<HostSocket>> OpenSocket(
      Family family, std::string_view domain) = 0;

  // --- Domains (network namespaces); Exists() from DomainCatalog ---
  // The identity of domain `name` ("" = the daemon's own), nullopt when it
  // does not exist.
  virtual std::optional<NamespaceId> DomainIdentity(
      std::string_view name) const = 0;
  // Readable when domains may have come, gone or been recreated; -1 when
  // there is nothing to poll. DrainDomainEvents() clears it.
  virtual int domain_events_fd() const = 0;
  virtual void DrainDomainEvents() = 0;

  // --- Routes, for `mtu auto` ---
  // The route from `source` to `destination` in `domain` (as `ip route get
  // DESTINATION from SOURCE`; without the source when the kernel refuses
  // it, e.g. an address not (yet) on the host). Watches the domain's
  // routes first (WatchRoutes), so no change after the answer goes
  // unannounced. EINVAL "no such domain"; ENETUNREACH, EHOSTUNREACH, ...
  // when there is no route.
  virtual Result<RouteMtu> LookupRouteMtu(std::string_view domain,
                                          const IpAddress& source,
                                          const IpAddress& destination) = 0;
  // Watches the routes and links of exactly `domains` (the others are let
  // go) and watches anew a domain that was recreated. Returns the domains
  // that were not watched (in their current namespace) before the call:
  // their routes may have changed unannounced. A domain that does not
  // exist is not watched.
  virtual std::vector<std::string> WatchRoutes(
      std::span<const std::string> domains) = 0;
  // Readable when route events are queued; -1: nothing to poll.
  virtual int route_events_fd() const = 0;
  // Reads the queued route events: the watched domains where a route was
  // added, changed or removed, or a link's MTU or state changed (events
  // lost count as changes). Never blocks.
  virtual std::vector<std::string> ReadRouteEvents() = 0;

  // --- Files ---
  // Replaces the file at `path` (through a symlink: its target) so that a
  // crash at any moment leaves either the old or the new contents.
  virtual Status ReplaceFile(const std::string& path,
                             std::string_view contents) = 0;
};

}  // namespace etherip

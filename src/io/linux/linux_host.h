// The Host (io/host.h) of a Linux machine: TAP devices (LinuxTap), link
// settings over rtnetlink (LinkControl), link events (LinkMonitor), raw
// protocol-97 sockets (LinuxRawSocket), named network namespaces under
// /run/netns (watched with inotify), routes (a RouteWatch per watched
// domain, opened inside it; their event sockets behind one epoll fd), and
// atomic file replacement.
//
// Links are those of the namespace the object was opened in (the daemon's
// own); domains only change where outer sockets live.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/host.h"
#include "io/linux/link_control.h"
#include "io/linux/link_monitor.h"
#include "io/linux/linux_domain_catalog.h"
#include "io/linux/route_watch.h"
#include "io/linux/unique_fd.h"

namespace etherip {

class LinuxHost : public Host {
 public:
  // Opens the rtnetlink sockets (requests and events) and the inotify
  // watch on `netns_directory` (created when missing, as `ip netns` does).
  static Result<std::unique_ptr<LinuxHost>> Open(
      std::string netns_directory = std::string(kNetnsDirectory));

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
  int link_events_fd() const override { return monitor_.fd(); }
  Result<LinkEvents> ReadLinkEvents() override { return monitor_.Read(); }
  Result<std::vector<LinkInfo>> DumpLinks() override { return monitor_.Dump(); }
  Result<std::shared_ptr<HostSocket>> OpenSocket(
      Family family, std::string_view domain) override;
  bool Exists(std::string_view name) const override {
    return domains_.Exists(name);
  }
  std::optional<NamespaceId> DomainIdentity(
      std::string_view name) const override {
    return domains_.Identity(name);
  }
  int domain_events_fd() const override { return inotify_.get(); }
  void DrainDomainEvents() override;
  Status ReplaceFile(const std::string& path,
                     std::string_view contents) override;
  Result<RouteMtu> LookupRouteMtu(std::string_view domain,
                                  const IpAddress& source,
                                  const IpAddress& destination) override;
  std::vector<std::string> WatchRoutes(
      std::span<const std::string> domains) override;
  int route_events_fd() const override { return route_epoll_.get(); }
  std::vector<std::string> ReadRouteEvents() override;

 private:
  struct DomainRoutes {
    std::unique_ptr<RouteWatch> watch;
    NamespaceId netns;  // the namespace it was opened in
  };

  LinuxHost(LinkControl links, LinkMonitor monitor, UniqueFd inotify,
            UniqueFd route_epoll, std::string netns_directory);
  // The watch of `domain` in its current namespace, opened (inside it)
  // when there is none or the namespace was recreated; nullptr with the
  // error when the domain does not exist or the watch cannot be opened.
  Result<RouteWatch*> RoutesOf(std::string_view domain, bool* opened);

  LinkControl links_;
  LinkMonitor monitor_;
  UniqueFd inotify_;
  LinuxDomainCatalog domains_;
  UniqueFd route_epoll_;  // every watch's event sockets
  std::map<std::string, DomainRoutes, std::less<>> routes_;
};

}  // namespace etherip

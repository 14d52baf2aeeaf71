#include "io/linux/linux_host.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <set>

#include "io/linux/atomic_file.h"
#include "io/linux/linux_raw_socket.h"
#include "io/linux/linux_tap.h"
#include "io/linux/netns_enter.h"
#include "io/linux/raised_capabilities.h"
#include "io/linux/system_error.h"

namespace etherip {

Result<std::unique_ptr<LinuxHost>> LinuxHost::Open(
    std::string netns_directory) {
  auto links = LinkControl::Open();
  if (!links) return tl::unexpected(links.error());
  auto monitor = LinkMonitor::Open();
  if (!monitor) return tl::unexpected(monitor.error());
  // `ip netns add` creates the directory the same way when it is missing.
  (void)mkdir(netns_directory.c_str(), 0755);
  UniqueFd inotify(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (inotify.get() < 0) {
    return tl::unexpected(SystemError(errno, "inotify_init1"));
  }
  if (inotify_add_watch(inotify.get(), netns_directory.c_str(),
                        IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                            IN_DELETE_SELF | IN_ONLYDIR) < 0) {
    return tl::unexpected(
        SystemError(errno, fmt::format("watch {}", netns_directory)));
  }
  UniqueFd route_epoll(epoll_create1(EPOLL_CLOEXEC));
  if (route_epoll.get() < 0) {
    return tl::unexpected(SystemError(errno, "epoll_create1"));
  }
  return std::unique_ptr<LinuxHost>(
      new LinuxHost(std::move(*links), std::move(*monitor), std::move(inotify),
                    std::move(route_epoll), std::move(netns_directory)));
}

LinuxHost::LinuxHost(LinkControl links, LinkMonitor monitor, UniqueFd inotify,
                     UniqueFd route_epoll, std::string netns_directory)
    : links_(std::move(links)),
      monitor_(std::move(monitor)),
      inotify_(std::move(inotify)),
      domains_(std::move(netns_directory)),
      route_epoll_(std::move(route_epoll)) {}

Result<std::shared_ptr<TapDevice>> LinuxHost::CreateTap(std::string_view name,
                                                        bool persist) {
  auto tap = LinuxTap::Create(name, TapOptions{.persist = persist});
  if (!tap) return tl::unexpected(tap.error());
  return std::shared_ptr<TapDevice>(std::move(*tap));
}

Result<std::shared_ptr<TapDevice>> LinuxHost::AttachTap(std::string_view name) {
  auto tap = LinuxTap::Attach(name);
  if (!tap) return tl::unexpected(tap.error());
  return std::shared_ptr<TapDevice>(std::move(*tap));
}

Status LinuxHost::SetLinkAddress(int ifindex, const MacAddress& address) {
  return links_.SetAddress(ifindex, address);
}
Status LinuxHost::SetLinkMtu(int ifindex, uint32_t mtu) {
  return links_.SetMtu(ifindex, mtu);
}
Status LinuxHost::SetLinkUp(int ifindex, bool up) {
  return links_.SetUp(ifindex, up);
}
Status LinuxHost::SetLinkGroup(int ifindex, uint32_t group) {
  return links_.SetGroup(ifindex, group);
}
Status LinuxHost::SetLinkIpv6(int ifindex, bool enabled) {
  char name[IF_NAMESIZE];
  if (if_indextoname(ifindex, name) == nullptr) {
    return FailSystem(errno, fmt::format("ifindex {}", ifindex));
  }
  // Only the sysctl sets it: rtnetlink does not take IPv6 device settings.
  const std::string path =
      fmt::format("/proc/sys/net/ipv6/conf/{}/disable_ipv6", name);
  UniqueFd file(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (file.get() < 0) {
    // A kernel without IPv6 has no such file: the link has none either.
    if (errno == ENOENT && !enabled) return {};
    return FailSystem(errno, fmt::format("{}: IPv6 setting", name));
  }
  const char value = enabled ? '0' : '1';
  if (write(file.get(), &value, 1) != 1) {
    return FailSystem(errno, fmt::format("{}: IPv6 setting", name));
  }
  return {};
}
Status LinuxHost::SetLinkMaster(int ifindex, std::string_view master) {
  int master_index = 0;
  if (!master.empty()) {
    const std::string name(master);
    master_index = static_cast<int>(if_nametoindex(name.c_str()));
    if (master_index == 0) {
      return FailSystem(errno, fmt::format("master {}", master));
    }
  }
  return links_.SetMaster(ifindex, master_index);
}
Status LinuxHost::SetLinkName(int ifindex, std::string_view name) {
  return links_.SetName(ifindex, name);
}
Status LinuxHost::DeleteLinkGroup(uint32_t group) {
  auto deleted = links_.DeleteGroup(group);
  // The kernel says ENODEV when the group is empty: nothing to delete.
  if (!deleted && deleted.error().code == ENODEV) return {};
  return deleted;
}

Result<std::shared_ptr<HostSocket>> LinuxHost::OpenSocket(
    Family family, std::string_view domain) {
  auto socket = LinuxRawSocket::Open(family, domain);
  if (!socket) return tl::unexpected(socket.error());
  return std::shared_ptr<HostSocket>(std::move(*socket));
}

void LinuxHost::DrainDomainEvents() {
  alignas(inotify_event) char buffer[4096];
  while (read(inotify_.get(), buffer, sizeof buffer) > 0) {
  }
}

Status LinuxHost::ReplaceFile(const std::string& path,
                              std::string_view contents) {
  // The daemon keeps these two permitted but not effective
  // (daemon/privileges.h): a daemon that runs as its own user still
  // creates the temporary file in a directory it does not own (/etc/etherip,
  // CAP_DAC_OVERRIDE) and gives it back the file's owner (CAP_CHOWN).
  RaisedCapabilities raised({CAP_DAC_OVERRIDE, CAP_CHOWN});
  return ReplaceFileAtomically(path, contents);
}

// --- Routes ------------------------------------------------------------------

Result<RouteWatch*> LinuxHost::RoutesOf(std::string_view domain, bool* opened) {
  const auto identity = domains_.Identity(domain);
  if (!identity) {
    routes_.erase(std::string(domain));
    return Fail(EINVAL, fmt::format("domain {}: no such domain", domain));
  }
  auto it = routes_.find(domain);
  if (it != routes_.end() && it->second.netns == *identity) {
    return it->second.watch.get();
  }
  Result<RouteWatch> watch = Fail(EINVAL, "");
  {
    // Netlink sockets belong to the namespace they are made in: enter the
    // domain for Open() only.
    auto inside = NetnsEnter::Enter(domain);
    if (!inside) return tl::unexpected(std::move(inside.error()));
    watch = RouteWatch::Open();
  }
  if (!watch) {
    return Fail(watch.error().code, domain.empty()
                                        ? watch.error().message
                                        : fmt::format("domain {}: {}", domain,
                                                      watch.error().message));
  }
  auto owned = std::make_unique<RouteWatch>(std::move(*watch));
  for (int fd : {owned->link_fd(), owned->route_fd()}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(route_epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      return FailSystem(errno, "route events: epoll_ctl");
    }
  }
  // The fds of a watch replaced here leave the epoll set as they close.
  RouteWatch* result = owned.get();
  routes_[std::string(domain)] = DomainRoutes{std::move(owned), *identity};
  if (opened != nullptr) *opened = true;
  return result;
}

Result<RouteMtu> LinuxHost::LookupRouteMtu(std::string_view domain,
                                           const IpAddress& source,
                                           const IpAddress& destination) {
  auto watch = RoutesOf(domain, nullptr);
  if (!watch) return tl::unexpected(std::move(watch.error()));
  auto route = (*watch)->Lookup(source, destination);
  // IPv4 refuses a source the namespace does not have (ENETUNREACH); the
  // route to the destination still says what the path is.
  if (!route && source.family() != Family::kNone) {
    route = (*watch)->Lookup(IpAddress(), destination);
  }
  if (!route && !domain.empty()) {
    return Fail(route.error().code,
                fmt::format("domain {}: {}", domain, route.error().message));
  }
  return route;
}

std::vector<std::string> LinuxHost::WatchRoutes(
    std::span<const std::string> domains) {
  std::vector<std::string> fresh;
  std::set<std::string, std::less<>> wanted(domains.begin(), domains.end());
  for (auto it = routes_.begin(); it != routes_.end();) {
    it = wanted.contains(it->first) ? std::next(it) : routes_.erase(it);
  }
  for (const std::string& domain : wanted) {
    bool opened = false;
    auto watch = RoutesOf(domain, &opened);
    // A domain that does not exist (yet), or whose watch cannot be opened
    // now, is tried again on the next call (and a lookup reports why).
    if (!watch) continue;
    if (opened) fresh.push_back(domain);
  }
  return fresh;
}

std::vector<std::string> LinuxHost::ReadRouteEvents() {
  std::vector<std::string> changed;
  for (auto& [domain, routes] : routes_) {
    auto read = routes.watch->Read();
    // A watch that cannot read may have missed a change.
    if (!read || *read) changed.push_back(domain);
  }
  // Every event socket is drained: harvesting the epoll fd's ready list
  // (level-triggered) leaves it readable only for what came since.
  std::array<epoll_event, 64> ready;
  (void)epoll_wait(route_epoll_.get(), ready.data(),
                   static_cast<int>(ready.size()), 0);
  return changed;
}

}  // namespace etherip

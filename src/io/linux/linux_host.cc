#include "io/linux/linux_host.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "io/linux/atomic_file.h"
#include "io/linux/linux_raw_socket.h"
#include "io/linux/linux_tap.h"
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
  return std::unique_ptr<LinuxHost>(
      new LinuxHost(std::move(*links), std::move(*monitor), std::move(inotify),
                    std::move(netns_directory)));
}

LinuxHost::LinuxHost(LinkControl links, LinkMonitor monitor, UniqueFd inotify,
                     std::string netns_directory)
    : links_(std::move(links)),
      monitor_(std::move(monitor)),
      inotify_(std::move(inotify)),
      domains_(std::move(netns_directory)) {}

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

}  // namespace etherip

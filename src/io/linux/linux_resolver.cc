#include "io/linux/linux_resolver.h"

#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "io/linux/netns_enter.h"
#include "io/linux/system_error.h"

namespace etherip {

Result<std::vector<IpAddress>> LinuxResolver::LookUpHost(
    std::string_view domain, std::string_view host, Family family) {
  auto inside = NetnsEnter::Enter(domain);
  if (!inside) return tl::unexpected(std::move(inside.error()));
  addrinfo hints{};
  hints.ai_family = family == Family::kIpv4   ? AF_INET
                    : family == Family::kIpv6 ? AF_INET6
                                              : AF_UNSPEC;
  // One entry per address (any socket type would list each once per type).
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const std::string name(host);
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    const int error = errno;
    return Fail(rc == EAI_SYSTEM ? error : ENOENT,
                rc == EAI_SYSTEM ? std::strerror(error) : gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, freeaddrinfo);
  std::vector<IpAddress> addresses;
  for (const addrinfo* entry = found; entry != nullptr;
       entry = entry->ai_next) {
    IpAddress address;
    if (entry->ai_family == AF_INET &&
        entry->ai_addrlen >= sizeof(sockaddr_in)) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(entry->ai_addr);
      address = IpAddress::V4(std::span<const uint8_t, 4>(
          reinterpret_cast<const uint8_t*>(&in->sin_addr), 4));
    } else if (entry->ai_family == AF_INET6 &&
               entry->ai_addrlen >= sizeof(sockaddr_in6)) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(entry->ai_addr);
      address = IpAddress::V6(
          std::span<const uint8_t, 16>(in6->sin6_addr.s6_addr, 16));
    } else {
      continue;
    }
    if (std::find(addresses.begin(), addresses.end(), address) ==
        addresses.end()) {
      addresses.push_back(address);
    }
  }
  if (addresses.empty()) {
    return Fail(ENOENT, gai_strerror(EAI_NODATA));
  }
  return addresses;
}

Result<uint32_t> LinuxResolver::LookUpInterface(std::string_view domain,
                                                std::string_view name) {
  auto inside = NetnsEnter::Enter(domain);
  if (!inside) return tl::unexpected(std::move(inside.error()));
  const std::string text(name);
  const unsigned index = ::if_nametoindex(text.c_str());
  if (index == 0) {
    const int error = errno == 0 ? ENODEV : errno;
    return Fail(error, std::strerror(error));
  }
  return static_cast<uint32_t>(index);
}

}  // namespace etherip

// LinuxResolver: the Resolver (io/resolver.h) of a Linux machine. Each
// lookup runs inside the domain's network namespace (NetnsEnter: the
// calling thread enters it for the lookup, CAP_SYS_ADMIN raised around the
// setns() calls only): DNS queries leave from there, and an interface name
// means that namespace's interface. Files stay those of the daemon's mount
// namespace: /etc/hosts, /etc/resolv.conf and /etc/nsswitch.conf are the
// daemon's whatever the domain (`ip netns exec` bind-mounts a namespace's
// own from /etc/netns/NAME, but only for what it starts).
//
// Blocking (getaddrinfo() may wait for DNS): call it from a thread that
// may wait, never from the control or forwarding thread.
#pragma once

#include "io/resolver.h"

namespace etherip {

class LinuxResolver : public Resolver {
 public:
  // getaddrinfo(): every address, in the order it gives (RFC 6724 address
  // selection, /etc/gai.conf), duplicates left out.
  Result<std::vector<IpAddress>> LookUpHost(std::string_view domain,
                                            std::string_view host,
                                            Family family) override;
  // if_nametoindex().
  Result<uint32_t> LookUpInterface(std::string_view domain,
                                   std::string_view name) override;
};

}  // namespace etherip

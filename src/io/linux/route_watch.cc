#include "io/linux/route_watch.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <string>

#include "io/linux/kernel_events.h"
#include "io/linux/link_message.h"
#include "io/linux/netlink_ask.h"
#include "io/linux/system_error.h"

namespace etherip {
namespace {

// Route events and replies are small; dump-sized datagrams never exceed
// 32 KiB (see link_monitor.cc).
constexpr size_t kBufferSize = 65536;

void SetReceiveBuffer(int fd, size_t bytes) {
  const int size = static_cast<int>(std::min<size_t>(bytes, INT_MAX / 2));
  // Best effort, as in LinkMonitor: past rmem_max with CAP_NET_ADMIN.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
}

// What a RTM_NEWROUTE answer says: the egress link, and RTAX_MTU (0 when
// the route has none).
struct RouteAnswer {
  int ifindex = 0;
  uint32_t mtu = 0;
};

int CollectMetric(const nlattr* attribute, void* data) {
  if (mnl_attr_get_type(attribute) == RTAX_MTU &&
      mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0) {
    static_cast<RouteAnswer*>(data)->mtu = mnl_attr_get_u32(attribute);
  }
  return MNL_CB_OK;
}

int CollectRouteAttribute(const nlattr* attribute, void* data) {
  auto* answer = static_cast<RouteAnswer*>(data);
  switch (mnl_attr_get_type(attribute)) {
    case RTA_OIF:
      if (mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0) {
        answer->ifindex = static_cast<int>(mnl_attr_get_u32(attribute));
      }
      break;
    case RTA_METRICS:
      if (mnl_attr_validate(attribute, MNL_TYPE_NESTED) >= 0) {
        mnl_attr_parse_nested(attribute, CollectMetric, answer);
      }
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

}  // namespace

void RouteWatch::SocketCloser::operator()(mnl_socket* socket) const {
  mnl_socket_close(socket);
}

Result<RouteWatch> RouteWatch::Open() {
  auto links = LinkMonitor::Open(kReceiveBuffer);
  if (!links) return tl::unexpected(std::move(links.error()));
  Socket routes(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!routes) return FailSystem(errno, "rtnetlink: route events: socket");
  SetReceiveBuffer(mnl_socket_get_fd(routes.get()), kReceiveBuffer);
  if (mnl_socket_bind(routes.get(), RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
                      MNL_SOCKET_AUTOPID) < 0) {
    return FailSystem(errno, "rtnetlink: route events: bind");
  }
  // Blocking: a lookup is a synchronous exchange with the kernel.
  Socket query(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
  if (!query) return FailSystem(errno, "rtnetlink: route lookup: socket");
  if (mnl_socket_bind(query.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return FailSystem(errno, "rtnetlink: route lookup: bind");
  }
  RouteWatch watch(std::move(*links), std::move(routes), std::move(query));
  // After the event sockets exist: a change from here on is announced.
  if (auto loaded = watch.ReloadLinks(); !loaded) {
    return tl::unexpected(std::move(loaded.error()));
  }
  return watch;
}

RouteWatch::RouteWatch(LinkMonitor links, Socket routes, Socket query)
    : links_(std::move(links)),
      routes_(std::move(routes)),
      query_(std::move(query)),
      buffer_(kBufferSize) {}

int RouteWatch::route_fd() const { return mnl_socket_get_fd(routes_.get()); }

Status RouteWatch::ReloadLinks() {
  auto links = links_.Dump();
  if (!links) return tl::unexpected(std::move(links.error()));
  known_.clear();
  for (const LinkInfo& link : *links) {
    known_[link.ifindex] = LinkState{link.mtu, link.up};
  }
  return {};
}

Result<bool> RouteWatch::Read() {
  bool changed = false;
  auto events = links_.Read();
  if (!events) return tl::unexpected(std::move(events.error()));
  if (events->overflowed) {
    changed = true;
    if (auto loaded = ReloadLinks(); !loaded) {
      return tl::unexpected(std::move(loaded.error()));
    }
  }
  for (const LinkEvent& event : events->events) {
    const int index = event.link.ifindex;
    if (event.kind == LinkEvent::Kind::kDeleted) {
      changed = known_.erase(index) > 0 || changed;
      continue;
    }
    const LinkState now{event.link.mtu, event.link.up};
    auto [it, added] = known_.try_emplace(index, now);
    if (!added && it->second != now) {
      it->second = now;
      changed = true;
    }
  }
  const int fd = route_fd();
  for (;;) {
    auto read =
        ReadKernelEvent(fd, buffer_, "rtnetlink: route events: receive");
    if (!read) return tl::unexpected(std::move(read.error()));
    if (read->kind == KernelEventRead::kNone) break;
    if (read->kind == KernelEventRead::kLost) {  // any lost event a change
      changed = true;
      continue;
    }
    int left = static_cast<int>(read->size);
    for (auto* message = reinterpret_cast<const nlmsghdr*>(buffer_.data());
         mnl_nlmsg_ok(message, left);
         message = mnl_nlmsg_next(message, &left)) {
      if (message->nlmsg_type == RTM_NEWROUTE ||
          message->nlmsg_type == RTM_DELROUTE) {
        changed = true;
      }
    }
  }
  return changed;
}

Result<RouteMtu> RouteWatch::Lookup(const IpAddress& source,
                                    const IpAddress& destination) {
  const std::string context =
      fmt::format("route to {}", destination.ToString());
  const Family family = destination.family();
  if (family != Family::kIpv4 && family != Family::kIpv6) {
    return Fail(EAFNOSUPPORT,
                fmt::format("{}: address family not supported", context));
  }
  const bool with_source = source.family() == family;
  std::array<char, 256> request_buffer{};
  nlmsghdr* request = mnl_nlmsg_put_header(request_buffer.data());
  request->nlmsg_type = RTM_GETROUTE;
  auto* route =
      static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(rtmsg)));
  route->rtm_family = family == Family::kIpv4 ? AF_INET : AF_INET6;
  const auto bits = static_cast<unsigned char>(destination.bytes().size() * 8);
  route->rtm_dst_len = bits;
  mnl_attr_put(request, RTA_DST, destination.bytes().size(),
               destination.bytes().data());
  if (with_source) {
    route->rtm_src_len = bits;
    mnl_attr_put(request, RTA_SRC, source.bytes().size(),
                 source.bytes().data());
  }
  std::optional<RouteAnswer> answer;
  auto asked = AskNetlink(
      query_.get(), request, next_sequence_++, buffer_, context,
      [&](const nlmsghdr* message) {
        if (message->nlmsg_type != RTM_NEWROUTE ||
            message->nlmsg_len < mnl_nlmsg_size(sizeof(rtmsg))) {
          return;
        }
        RouteAnswer parsed;
        mnl_attr_parse(message, sizeof(rtmsg), CollectRouteAttribute, &parsed);
        answer = parsed;
      });
  if (!asked) return tl::unexpected(std::move(asked.error()));
  if (!answer) return Fail(EPROTO, fmt::format("{}: no answer", context));
  if (answer->mtu != 0) return RouteMtu{answer->mtu, answer->ifindex};
  if (answer->ifindex <= 0) {
    return Fail(EPROTO, fmt::format("{}: no MTU and no link", context));
  }
  // No MTU of its own: the egress link's, as the kernel has it now.
  std::array<char, 256> link_buffer{};
  nlmsghdr* link_request = mnl_nlmsg_put_header(link_buffer.data());
  link_request->nlmsg_type = RTM_GETLINK;
  auto* link = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(link_request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  link->ifi_index = answer->ifindex;
  mnl_attr_put_u32(link_request, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  uint32_t mtu = 0;
  auto got = AskNetlink(query_.get(), link_request, next_sequence_++, buffer_,
                        fmt::format("{}: link {}", context, answer->ifindex),
                        [&](const nlmsghdr* message) {
                          if (auto event = ParseLinkMessage(message)) {
                            mtu = event->link.mtu;
                          }
                        });
  if (!got) return tl::unexpected(std::move(got.error()));
  if (mtu == 0) {
    return Fail(EPROTO, fmt::format("{}: link {} has no MTU", context,
                                    answer->ifindex));
  }
  return RouteMtu{mtu, answer->ifindex};
}

}  // namespace etherip

#include "io/linux/link_control.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>

#include "core/interface_name.h"
#include "io/linux/netlink_ask.h"
#include "io/linux/system_error.h"

namespace etherip {
namespace {

// Requests are a header, an ifinfomsg and one or two small attributes.
constexpr size_t kRequestSize = 1024;
// A RTM_GETLINK reply without statistics is a few KiB; netlink datagrams
// of replies never exceed 32 KiB (the kernel's NLMSG_GOODSIZE bound).
constexpr size_t kReplySize = 32768;

}  // namespace

void LinkControl::SocketCloser::operator()(mnl_socket* socket) const {
  mnl_socket_close(socket);
}

Result<LinkControl> LinkControl::Open() {
  std::unique_ptr<mnl_socket, SocketCloser> socket(
      mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
  if (!socket) return FailSystem(errno, "rtnetlink: socket");
  if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return FailSystem(errno, "rtnetlink: bind");
  }
  // Best effort, for better messages: the kernel's reason text with errors
  // (EXT_ACK), without echoing our request back (CAP_ACK). Old kernels
  // simply lack them.
  int on = 1;
  mnl_socket_setsockopt(socket.get(), NETLINK_EXT_ACK, &on, sizeof(on));
  mnl_socket_setsockopt(socket.get(), NETLINK_CAP_ACK, &on, sizeof(on));
  return LinkControl(std::move(socket));
}

LinkControl::LinkControl(std::unique_ptr<mnl_socket, SocketCloser> socket)
    : socket_(std::move(socket)),
      request_buffer_(kRequestSize),
      reply_buffer_(kReplySize) {}

Status LinkControl::Transact(nlmsghdr* request, LinkInfo* reply,
                             std::string_view context) {
  request->nlmsg_flags |= NLM_F_ACK;
  auto answer =
      AskNetlink(socket_.get(), request, next_sequence_++, reply_buffer_,
                 context, [reply](const nlmsghdr* message) {
                   if (message->nlmsg_type != RTM_NEWLINK || reply == nullptr) {
                     return;
                   }
                   if (auto event = ParseLinkMessage(message)) {
                     *reply = std::move(event->link);
                   }
                 });
  if (!answer) return tl::unexpected(std::move(answer.error()));
  return {};
}

template <typename Fill>
Status LinkControl::ChangeLink(int ifindex, unsigned flags, unsigned change,
                               std::string_view what, Fill fill) {
  nlmsghdr* request = mnl_nlmsg_put_header(request_buffer_.data());
  request->nlmsg_type = RTM_NEWLINK;
  auto* link = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  link->ifi_index = ifindex;
  link->ifi_flags = flags;
  link->ifi_change = change;
  fill(request);
  auto done = Transact(request, nullptr, what);
  if (done) return done;
  // Name the interface in the message; only on failure, so the common
  // path stays one request.
  Error failure = std::move(done.error());
  failure.message = fmt::format("{}: {}", Describe(ifindex), failure.message);
  return tl::unexpected(std::move(failure));
}

Status LinkControl::SetMtu(int ifindex, uint32_t mtu) {
  return ChangeLink(
      ifindex, 0, 0, fmt::format("set mtu {}", mtu),
      [&](nlmsghdr* request) { mnl_attr_put_u32(request, IFLA_MTU, mtu); });
}

Status LinkControl::SetAddress(int ifindex, const MacAddress& address) {
  return ChangeLink(
      ifindex, 0, 0, fmt::format("set lladdr {}", address.ToString()),
      [&](nlmsghdr* request) {
        mnl_attr_put(request, IFLA_ADDRESS, address.bytes().size(),
                     address.bytes().data());
      });
}

Status LinkControl::SetUp(int ifindex, bool up) {
  return ChangeLink(ifindex, up ? IFF_UP : 0, IFF_UP, up ? "up" : "down",
                    [](nlmsghdr*) {});
}

Status LinkControl::SetGroup(int ifindex, uint32_t group) {
  return ChangeLink(
      ifindex, 0, 0, fmt::format("set group {}", group),
      [&](nlmsghdr* request) { mnl_attr_put_u32(request, IFLA_GROUP, group); });
}

Status LinkControl::SetName(int ifindex, std::string_view name) {
  const std::string terminated(name);
  return ChangeLink(
      ifindex, 0, 0, fmt::format("set name {}", name), [&](nlmsghdr* request) {
        mnl_attr_put_strz(request, IFLA_IFNAME, terminated.c_str());
      });
}

Status LinkControl::SetMaster(int ifindex, int master_ifindex) {
  return ChangeLink(ifindex, 0, 0,
                    master_ifindex == 0
                        ? std::string("set nomaster")
                        : fmt::format("set master {}", master_ifindex),
                    [&](nlmsghdr* request) {
                      mnl_attr_put_u32(request, IFLA_MASTER,
                                       static_cast<uint32_t>(master_ifindex));
                    });
}

Status LinkControl::DeleteGroup(uint32_t group) {
  const std::string context = fmt::format("group {}: delete links", group);
  // The kernel refuses group 0 itself (EPERM), but a kernel that did not
  // would delete every deletable link of the namespace: never send it.
  if (group == 0) {
    return Fail(EINVAL,
                fmt::format("{}: the default group of every link", context));
  }
  nlmsghdr* request = mnl_nlmsg_put_header(request_buffer_.data());
  request->nlmsg_type = RTM_DELLINK;
  auto* link = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  link->ifi_index = 0;  // no index and no name: IFLA_GROUP selects
  mnl_attr_put_u32(request, IFLA_GROUP, group);
  return Transact(request, nullptr, context);
}

Status LinkControl::GetLink(int ifindex, std::string_view name, LinkInfo& reply,
                            std::string_view context) {
  nlmsghdr* request = mnl_nlmsg_put_header(request_buffer_.data());
  request->nlmsg_type = RTM_GETLINK;
  auto* link = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(request, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  link->ifi_index = ifindex;
  if (ifindex == 0) {
    const std::string terminated(name);
    mnl_attr_put_strz(request, IFLA_IFNAME, terminated.c_str());
  }
  // Statistics are not wanted: skip them to keep the reply small.
  mnl_attr_put_u32(request, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  if (auto done = Transact(request, &reply, context); !done) return done;
  if (reply.ifindex <= 0) {
    return Fail(EPROTO,
                fmt::format("{}: rtnetlink: no link in reply", context));
  }
  return {};
}

Result<int> LinkControl::IndexOf(std::string_view name) {
  if (auto valid = ValidateInterfaceName(name); !valid) {
    return Fail(EINVAL, fmt::format("{}: {}", name, valid.error().message));
  }
  LinkInfo reply;
  if (auto done = GetLink(0, name, reply, name); !done) {
    return tl::unexpected(std::move(done.error()));
  }
  return reply.ifindex;
}

Result<LinkInfo> LinkControl::Get(int ifindex) {
  const std::string context = fmt::format("ifindex {}", ifindex);
  // ifindex 0 would ask by name, and there is none.
  if (ifindex <= 0) {
    return Fail(ENODEV, fmt::format("{}: no such device", context));
  }
  LinkInfo reply;
  if (auto done = GetLink(ifindex, "", reply, context); !done) {
    return tl::unexpected(std::move(done.error()));
  }
  return reply;
}

std::string LinkControl::Describe(int ifindex) {
  LinkInfo reply;
  if (ifindex > 0 && GetLink(ifindex, "", reply, "") && !reply.name.empty()) {
    return reply.name;
  }
  return fmt::format("ifindex {}", ifindex);
}

}  // namespace etherip

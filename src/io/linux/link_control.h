// LinkControl: link settings over rtnetlink (RTM_NEWLINK / RTM_GETLINK on a
// NETLINK_ROUTE socket, through libmnl). Each request asks for an
// acknowledgement and waits for it, so a call returns only after the kernel
// has applied the change or refused it; a refusal comes back as an Error
// carrying the kernel's errno and a message naming the interface, with the
// kernel's extended-ack text when it gives one, e.g.
//   "etherip0: set mtu 70000: invalid argument (mtu greater than device
//   maximum)".
//
// A netlink socket belongs to the network namespace it was created in: the
// object works on the links of the namespace that was the calling thread's
// at Open(), wherever the thread is later. Not thread-safe; one request at
// a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/mac_address.h"
#include "io/linux/link_message.h"

struct mnl_socket;
struct nlmsghdr;

namespace etherip {

class LinkControl {
 public:
  // Opens and binds the NETLINK_ROUTE socket in the calling thread's
  // namespace.
  static Result<LinkControl> Open();

  LinkControl(LinkControl&&) noexcept = default;
  LinkControl& operator=(LinkControl&&) noexcept = default;

  // IFLA_MTU. The kernel checks the device's range (68..65535 for a TAP):
  // EINVAL outside it.
  Status SetMtu(int ifindex, uint32_t mtu);
  // IFLA_ADDRESS. The kernel refuses a multicast or zero MAC on an Ethernet
  // device with EADDRNOTAVAIL.
  Status SetAddress(int ifindex, const MacAddress& address);
  // Administrative state: IFF_UP set or cleared, other flags untouched.
  Status SetUp(int ifindex, bool up);
  // IFLA_GROUP: the link's group (0 is the default group every link starts
  // in). Groups let DeleteGroup() remove many links in one request.
  Status SetGroup(int ifindex, uint32_t group);
  // IFLA_IFNAME. The kernel refuses a name in use (EEXIST) and, before
  // Linux 6.2, renaming a link that is up (EBUSY).
  Status SetName(int ifindex, std::string_view name);
  // Makes link `master_ifindex` (a bridge, say) the link's master; 0 takes
  // the link out of its master.
  Status SetMaster(int ifindex, int master_ifindex);
  // Deletes every link of `group` in this namespace in one request: a
  // RTM_DELLINK with ifi_index 0 and IFLA_GROUP, which the kernel serves
  // with rtnl_group_dellink(): one unregister_netdevice_many() for the
  // whole batch, so the unregister waits (synchronize_net(), RCU barriers)
  // are paid once instead of once per link (2000 TAPs, Linux 6.18: 0.35 s,
  // against 39 s closing their fds one by one). TAPs qualify (their
  // rtnl_link_ops "tun" gets the default dellink); a TAP whose fd is still
  // open is detached from it as by `ip link del` (see linux_tap.h: EPOLLERR,
  // EBADFD), persistent or not. Every link of the group goes, whoever made
  // it: use a group nobody else uses.
  // Errors: EINVAL for group 0 (every link's default group: it would mean
  // "delete everything"; refused before any request); ENODEV when no link
  // is in the group; EOPNOTSUPP when one of them cannot be deleted (e.g.
  // loopback or a physical device), and then none is deleted.
  Status DeleteGroup(uint32_t group);
  // The index of link `name`: ENODEV "NAME: no such device" when there is
  // none, EINVAL for a name that is not a valid interface name.
  Result<int> IndexOf(std::string_view name);
  // The link's current settings (as LinkMonitor reports them): ENODEV
  // "ifindex N: no such device" when there is none.
  Result<LinkInfo> Get(int ifindex);

 private:
  struct SocketCloser {
    void operator()(mnl_socket* socket) const;
  };
  explicit LinkControl(std::unique_ptr<mnl_socket, SocketCloser> socket);

  // RTM_NEWLINK for `ifindex` with ifi_flags/ifi_change, plus the attribute
  // `fill` adds.
  template <typename Fill>
  Status ChangeLink(int ifindex, unsigned flags, unsigned change,
                    std::string_view what, Fill fill);
  // Sends `request` (NLM_F_ACK is added) and reads until its ack. A link
  // message in the reply is stored in `reply` when non-null (its ifindex
  // stays 0 when there was none). On a refusal:
  // Error{kernel errno, "CONTEXT: reason (extended ack)"}.
  Status Transact(nlmsghdr* request, LinkInfo* reply, std::string_view context);
  // RTM_GETLINK for `ifindex` (or for `name` when ifindex is 0).
  Status GetLink(int ifindex, std::string_view name, LinkInfo& reply,
                 std::string_view context);
  // "NAME" of link `ifindex` for messages, or "ifindex N" when it cannot be
  // found.
  std::string Describe(int ifindex);

  std::unique_ptr<mnl_socket, SocketCloser> socket_;
  uint32_t next_sequence_ = 1;
  std::vector<char> request_buffer_;   // one request at a time
  std::vector<uint8_t> reply_buffer_;  // one datagram of replies
};

}  // namespace etherip

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
  // The index of link `name`: ENODEV "NAME: no such device" when there is
  // none, EINVAL for a name that is not a valid interface name.
  Result<int> IndexOf(std::string_view name);

 private:
  struct SocketCloser {
    void operator()(mnl_socket* socket) const;
  };
  // What a RTM_GETLINK reply says about the link.
  struct LinkReply {
    int index = 0;
    std::string name;
  };

  LinkControl(std::unique_ptr<mnl_socket, SocketCloser> socket,
              uint32_t port_id);

  // RTM_NEWLINK for `ifindex` with ifi_flags/ifi_change, plus the attribute
  // `fill` adds.
  template <typename Fill>
  Status ChangeLink(int ifindex, unsigned flags, unsigned change,
                    std::string_view what, Fill fill);
  // Sends `request` (NLM_F_ACK is added) and reads until its ack. A link
  // message in the reply is stored in `reply` when non-null. On a refusal:
  // Error{kernel errno, "CONTEXT: reason (extended ack)"}.
  Status Transact(nlmsghdr* request, LinkReply* reply,
                  std::string_view context);
  // "NAME" of link `ifindex` for messages, or "ifindex N" when it cannot be
  // found.
  std::string Describe(int ifindex);

  std::unique_ptr<mnl_socket, SocketCloser> socket_;
  uint32_t port_id_;
  uint32_t next_sequence_ = 1;
  std::vector<char> request_buffer_;  // one request at a time
  std::vector<char> reply_buffer_;    // one datagram of replies
};

}  // namespace etherip

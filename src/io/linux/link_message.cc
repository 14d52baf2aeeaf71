#include "io/linux/link_message.h"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace etherip {
namespace {

// Where the attributes of a link message start, from the message header.
constexpr size_t kAttributesOffset =
    MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(ifinfomsg));

void ApplyAttribute(const nlattr* attribute, LinkInfo& link) {
  switch (mnl_attr_get_type(attribute)) {
    case IFLA_IFNAME:
      if (mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) >= 0) {
        link.name = mnl_attr_get_str(attribute);
      }
      break;
    case IFLA_MTU:
      if (mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0) {
        link.mtu = mnl_attr_get_u32(attribute);
      }
      break;
    case IFLA_GROUP:
      if (mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0) {
        link.group = mnl_attr_get_u32(attribute);
      }
      break;
    case IFLA_ADDRESS:
      if (mnl_attr_get_payload_len(attribute) == 6) {
        std::array<uint8_t, 6> bytes;
        std::memcpy(bytes.data(), mnl_attr_get_payload(attribute),
                    bytes.size());
        link.address = MacAddress(bytes);
      }
      break;
    default:
      break;
  }
}

}  // namespace

std::optional<LinkEvent> ParseLinkMessage(const nlmsghdr* message) {
  LinkEvent event;
  switch (message->nlmsg_type) {
    case RTM_NEWLINK:
      event.kind = LinkEvent::Kind::kChanged;
      break;
    case RTM_DELLINK:
      event.kind = LinkEvent::Kind::kDeleted;
      break;
    default:
      return std::nullopt;
  }
  const size_t length = message->nlmsg_len;
  if (length < MNL_NLMSG_HDRLEN + sizeof(ifinfomsg)) return std::nullopt;
  const auto* header =
      static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
  if (header->ifi_family != AF_UNSPEC || header->ifi_index <= 0) {
    return std::nullopt;
  }
  event.link.ifindex = header->ifi_index;
  event.link.up = (header->ifi_flags & IFF_UP) != 0;

  // Walk the attributes by offset within nlmsg_len, not with
  // mnl_attr_parse(): libmnl bounds the walk by the *aligned* message
  // length, up to 3 bytes past an unaligned nlmsg_len.
  const auto* bytes = reinterpret_cast<const char*>(message);
  size_t offset = kAttributesOffset;
  while (offset < length) {
    const auto* attribute = reinterpret_cast<const nlattr*>(bytes + offset);
    // An attribute is at most 64 KiB (nla_len is 16 bits): clamping what
    // is left to that keeps the int libmnl takes from overflowing.
    const int left = static_cast<int>(std::min<size_t>(length - offset, 65536));
    if (!mnl_attr_ok(attribute, left)) break;
    ApplyAttribute(attribute, event.link);
    offset += MNL_ALIGN(attribute->nla_len);
  }
  return event;
}

void ParseLinkMessages(std::span<const uint8_t> datagram,
                       std::vector<LinkEvent>& events) {
  // By offset, not with mnl_nlmsg_ok()/mnl_nlmsg_next(): libmnl compares
  // (int)nlmsg_len with the bytes left, so a length of 2 GiB or more reads
  // as negative and passes (found by fuzz/link_message_fuzzer.cc).
  size_t offset = 0;
  while (datagram.size() - offset >= sizeof(nlmsghdr)) {
    const auto* message =
        reinterpret_cast<const nlmsghdr*>(datagram.data() + offset);
    const size_t length = message->nlmsg_len;
    if (length < sizeof(nlmsghdr) || length > datagram.size() - offset) {
      return;
    }
    if (auto event = ParseLinkMessage(message)) {
      events.push_back(std::move(*event));
    }
    // The next message starts 4-byte aligned; past the end means none.
    offset += MNL_ALIGN(length);
    if (offset > datagram.size()) return;
  }
}

}  // namespace etherip

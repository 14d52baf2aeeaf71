// Fuzzes the rtnetlink link-message parser (io/linux/link_message.h): any
// bytes, as one netlink datagram. Checks, against a header walk written
// here, that exactly the whole-link messages (RTM_NEWLINK/RTM_DELLINK,
// AF_UNSPEC, ifi_index > 0, long enough for struct ifinfomsg) become
// events, in order, with their index and kind; ASan checks that nothing
// past a message's nlmsg_len is read.
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz_check.h"
#include "io/linux/link_message.h"

namespace {

using namespace etherip;
using fuzz::Check;

struct Expected {
  int ifindex;
  LinkEvent::Kind kind;
};

// The whole-link messages of `datagram`, by a naive walk of its headers.
std::vector<Expected> ExpectedEvents(const std::vector<uint8_t>& datagram) {
  std::vector<Expected> expected;
  size_t at = 0;
  while (datagram.size() - at >= sizeof(nlmsghdr)) {
    nlmsghdr header;
    std::memcpy(&header, datagram.data() + at, sizeof(header));
    const size_t length = header.nlmsg_len;
    if (length < sizeof(nlmsghdr) || length > datagram.size() - at) break;
    if ((header.nlmsg_type == RTM_NEWLINK ||
         header.nlmsg_type == RTM_DELLINK) &&
        length >= NLMSG_HDRLEN + sizeof(ifinfomsg)) {
      ifinfomsg link;
      std::memcpy(&link, datagram.data() + at + NLMSG_HDRLEN, sizeof(link));
      if (link.ifi_family == AF_UNSPEC && link.ifi_index > 0) {
        expected.push_back({link.ifi_index, header.nlmsg_type == RTM_NEWLINK
                                                ? LinkEvent::Kind::kChanged
                                                : LinkEvent::Kind::kDeleted});
      }
    }
    at += NLMSG_ALIGN(length);
    if (at > datagram.size()) break;
  }
  return expected;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly the input's size (so that ASan sees a read past it),
  // aligned as a received datagram is.
  const std::vector<uint8_t> datagram(data, data + size);
  std::vector<LinkEvent> events;
  ParseLinkMessages(datagram, events);

  const std::vector<Expected> expected = ExpectedEvents(datagram);
  Check(events.size() == expected.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const LinkEvent& event = events[i];
    Check(event.link.ifindex == expected[i].ifindex);
    Check(event.kind == expected[i].kind);
    // A name is a C string from inside the message.
    Check(event.link.name.find('\0') == std::string::npos);
    Check(event.link.name.size() < size);
  }
  return 0;
}

// ParseLinkMessage / ParseLinkMessages on hand-built rtnetlink messages: no
// kernel, no root. The kernel's own messages are exercised by
// link_monitor_test.cc.
#include "io/linux/link_message.h"

#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace etherip {
namespace {

// Builds one message: nlmsghdr, ifinfomsg, attributes, each 4-byte aligned
// as the kernel lays them out.
class Message {
 public:
  Message(uint16_t type, int ifindex, unsigned flags = 0,
          unsigned char family = AF_UNSPEC) {
    bytes_.resize(NLMSG_HDRLEN + sizeof(ifinfomsg));
    ifinfomsg header{};
    header.ifi_family = family;
    header.ifi_index = ifindex;
    header.ifi_flags = flags;
    std::memcpy(bytes_.data() + NLMSG_HDRLEN, &header, sizeof(header));
    type_ = type;
  }

  Message& Attribute(uint16_t type, const void* data, size_t size) {
    nlattr attribute{};
    attribute.nla_len = static_cast<uint16_t>(NLA_HDRLEN + size);
    attribute.nla_type = type;
    const auto* header = reinterpret_cast<const uint8_t*>(&attribute);
    const auto* payload = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), header, header + sizeof(attribute));
    bytes_.insert(bytes_.end(), payload, payload + size);
    // Padding to the next 4-byte boundary.
    while (bytes_.size() % NLA_ALIGNTO != 0) bytes_.push_back(0);
    return *this;
  }
  Message& U32(uint16_t type, uint32_t value) {
    return Attribute(type, &value, sizeof(value));
  }
  Message& Name(const std::string& name) {
    return Attribute(IFLA_IFNAME, name.c_str(), name.size() + 1);
  }
  Message& Address(std::vector<uint8_t> address) {
    return Attribute(IFLA_ADDRESS, address.data(), address.size());
  }

  // The message's bytes, nlmsg_len = their count unless `length` is given.
  std::vector<uint8_t> Bytes(size_t length = 0) const {
    std::vector<uint8_t> bytes = bytes_;
    nlmsghdr header{};
    header.nlmsg_len = static_cast<uint32_t>(length ? length : bytes.size());
    header.nlmsg_type = type_;
    std::memcpy(bytes.data(), &header, sizeof(header));
    return bytes;
  }

 private:
  uint16_t type_;
  std::vector<uint8_t> bytes_;
};

std::optional<LinkEvent> Parse(const std::vector<uint8_t>& bytes) {
  return ParseLinkMessage(reinterpret_cast<const nlmsghdr*>(bytes.data()));
}

Message FullNewLink() {
  return Message(RTM_NEWLINK, 7, IFF_UP | IFF_BROADCAST | IFF_MULTICAST)
      .Name("etherip0")
      .U32(IFLA_MTU, 1400)
      .Address({0xfe, 0xe1, 0xba, 0xd0, 0x00, 0x01})
      .U32(IFLA_GROUP, 42)
      .U32(IFLA_TXQLEN, 1000);  // not used: skipped
}

TEST(LinkMessageTest, ParsesNewLink) {
  auto event = Parse(FullNewLink().Bytes());
  ASSERT_TRUE(event);
  EXPECT_EQ(event->kind, LinkEvent::Kind::kChanged);
  EXPECT_EQ(event->link.ifindex, 7);
  EXPECT_EQ(event->link.name, "etherip0");
  EXPECT_TRUE(event->link.up);
  EXPECT_EQ(event->link.mtu, 1400u);
  EXPECT_EQ(event->link.address.ToString(), "fe:e1:ba:d0:00:01");
  EXPECT_EQ(event->link.group, 42u);
}

TEST(LinkMessageTest, ParsesDelLinkAndDownState) {
  auto event = Parse(Message(RTM_DELLINK, 9, IFF_BROADCAST).Name("x").Bytes());
  ASSERT_TRUE(event);
  EXPECT_EQ(event->kind, LinkEvent::Kind::kDeleted);
  EXPECT_EQ(event->link.ifindex, 9);
  EXPECT_EQ(event->link.name, "x");
  EXPECT_FALSE(event->link.up);
}

TEST(LinkMessageTest, MissingAttributesKeepDefaults) {
  auto event = Parse(Message(RTM_NEWLINK, 3).Bytes());
  ASSERT_TRUE(event);
  LinkInfo expected;
  expected.ifindex = 3;
  EXPECT_EQ(event->link, expected);
}

// The bridge reports port changes on RTNLGRP_LINK as AF_BRIDGE messages;
// its RTM_DELLINK means "left the bridge", not "deleted".
TEST(LinkMessageTest, IgnoresOtherFamilies) {
  EXPECT_FALSE(Parse(Message(RTM_DELLINK, 7, 0, AF_BRIDGE).Name("x").Bytes()));
  EXPECT_FALSE(Parse(Message(RTM_NEWLINK, 7, 0, AF_BRIDGE).Name("x").Bytes()));
}

TEST(LinkMessageTest, IgnoresOtherMessagesAndBadIndexes) {
  EXPECT_FALSE(Parse(Message(RTM_NEWADDR, 7).Bytes()));
  EXPECT_FALSE(Parse(Message(NLMSG_DONE, 7).Bytes()));
  EXPECT_FALSE(Parse(Message(RTM_NEWLINK, 0).Bytes()));
  EXPECT_FALSE(Parse(Message(RTM_NEWLINK, -1).Bytes()));
  // Too short for the ifinfomsg it claims to carry.
  auto bytes = Message(RTM_NEWLINK, 7).Bytes(NLMSG_HDRLEN + 8);
  bytes.resize(NLMSG_HDRLEN + 8);
  EXPECT_FALSE(Parse(bytes));
}

TEST(LinkMessageTest, MalformedAttributesAreSkippedOthersKept) {
  const char unterminated[] = {'e', 't', 'h'};
  auto event = Parse(Message(RTM_NEWLINK, 7)
                         .Attribute(IFLA_IFNAME, unterminated, 3)
                         .Attribute(IFLA_MTU, "\x01\x02", 2)
                         .Address({192, 0, 2, 1})  // ipip: 4 bytes
                         .U32(IFLA_GROUP, 5)
                         .Bytes());
  ASSERT_TRUE(event);
  EXPECT_EQ(event->link.name, "");
  EXPECT_EQ(event->link.mtu, 0u);
  EXPECT_TRUE(event->link.address.is_zero());
  EXPECT_EQ(event->link.group, 5u);
}

TEST(LinkMessageTest, AttributeOverrunningTheMessageEndsTheWalk) {
  // The second attribute claims more bytes than the message has.
  auto bytes = Message(RTM_NEWLINK, 7).U32(IFLA_MTU, 1500).Bytes();
  const size_t at = bytes.size();
  bytes.resize(at + 8);
  nlattr overrun{};
  overrun.nla_len = 200;
  overrun.nla_type = IFLA_GROUP;
  std::memcpy(bytes.data() + at, &overrun, sizeof(overrun));
  nlmsghdr header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  header.nlmsg_len = static_cast<uint32_t>(bytes.size());
  std::memcpy(bytes.data(), &header, sizeof(header));
  auto event = Parse(bytes);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->link.mtu, 1500u);
  EXPECT_EQ(event->link.group, 0u);
}

// An nlmsg_len that is not a multiple of 4 bounds the walk: an attribute
// that only fits the aligned length is not read (the buffer is exactly
// nlmsg_len bytes, so an ASan build would catch a read past it).
TEST(LinkMessageTest, UnalignedLengthBoundsTheWalk) {
  auto full = Message(RTM_NEWLINK, 7).U32(IFLA_MTU, 1500).U32(IFLA_GROUP, 9);
  auto bytes = full.Bytes();
  const size_t cut = bytes.size() - 6;  // the group's header, half of it
  bytes = full.Bytes(cut);
  bytes.resize(cut);
  auto event = Parse(bytes);
  ASSERT_TRUE(event);
  EXPECT_EQ(event->link.mtu, 1500u);
  EXPECT_EQ(event->link.group, 0u);
}

TEST(LinkMessageTest, ParsesEveryMessageOfADatagram) {
  std::vector<uint8_t> datagram = FullNewLink().Bytes();
  for (const auto& part :
       {Message(NLMSG_NOOP, 1).Bytes(), Message(RTM_DELLINK, 8).Bytes(),
        Message(RTM_NEWLINK, 9, 0, AF_BRIDGE).Bytes()}) {
    datagram.insert(datagram.end(), part.begin(), part.end());
  }
  // A trailing header cut short is not a message.
  auto tail = Message(RTM_NEWLINK, 10).Bytes();
  datagram.insert(datagram.end(), tail.begin(), tail.begin() + 12);

  std::vector<LinkEvent> events;
  ParseLinkMessages(datagram, events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].link.ifindex, 7);
  EXPECT_EQ(events[0].kind, LinkEvent::Kind::kChanged);
  EXPECT_EQ(events[1].link.ifindex, 8);
  EXPECT_EQ(events[1].kind, LinkEvent::Kind::kDeleted);

  // A header claiming 2 GiB or more ends the walk (libmnl's
  // mnl_nlmsg_ok() takes such a length as negative, so as fitting).
  std::vector<uint8_t> huge;
  for (const auto& part :
       {FullNewLink().Bytes(), Message(RTM_NEWLINK, 11).Bytes(0xfffffff0u)}) {
    huge.insert(huge.end(), part.begin(), part.end());
  }
  ParseLinkMessages(huge, events);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].link.ifindex, 7);

  // Appends; an empty datagram adds nothing.
  ParseLinkMessages({}, events);
  EXPECT_EQ(events.size(), 3u);
}

}  // namespace
}  // namespace etherip

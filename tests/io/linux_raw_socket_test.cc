// LinuxRawSocket between two test namespaces, A and B, joined by a veth
// pair (MTU 1500):
//   A: 192.0.2.1/24, 192.0.2.3/24, 2001:db8::1/64, 2001:db8::3/64
//   B: 192.0.2.2/24, 2001:db8::2/64
// with permanent neighbour entries, so no ARP/ND delays the first packet.
#include "io/linux/linux_raw_socket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <utility>
#include <vector>

#include "core/ip_address.h"
#include "core/outer_header.h"
#include "core/packet_buffer.h"
#include "io/linux/netns_enter.h"
#include "io/linux/unique_fd.h"
#include "linux_test_support.h"

namespace etherip {
namespace {

using testing::TestNetns;
using testing::UniqueName;

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

const IpAddress kA4 = Ip("192.0.2.1");
const IpAddress kA4Second = Ip("192.0.2.3");
const IpAddress kB4 = Ip("192.0.2.2");
const IpAddress kA6 = Ip("2001:db8::1");
const IpAddress kA6Second = Ip("2001:db8::3");
const IpAddress kB6 = Ip("2001:db8::2");
constexpr const char* kMacA = "02:00:00:00:00:0a";
constexpr const char* kMacB = "02:00:00:00:00:0b";

// An EtherIP-shaped payload: header 0x30 0x00, then `size - 2` bytes
// numbered by `index` so each packet is recognisable.
std::vector<uint8_t> Payload(uint16_t index, size_t size = 64) {
  std::vector<uint8_t> payload(size);
  payload[0] = 0x30;
  payload[1] = 0x00;
  for (size_t i = 2; i < size; ++i) {
    payload[i] = static_cast<uint8_t>(index + i);
  }
  if (size >= 4) {
    payload[2] = static_cast<uint8_t>(index >> 8);
    payload[3] = static_cast<uint8_t>(index);
  }
  return payload;
}
uint16_t IndexOf(std::span<const uint8_t> payload) {
  return static_cast<uint16_t>(payload[2] << 8 | payload[3]);
}

struct Received {
  std::vector<uint8_t> bytes;  // the payload, as Receive() handed it over
  InboundAddresses addresses;
  // IPv4: the 20 bytes in front of the payload, where the socket read the
  // outer header (the buffer keeps them; our packets carry no options).
  std::vector<uint8_t> ipv4_header;
};

class RawSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ETHERIP_REQUIRE_ROOT("builds two hosts in network namespaces");
    ASSERT_TRUE(a_.ok());
    ASSERT_TRUE(b_.ok());
    ASSERT_EQ(
        testing::Run("ip link add " + veth_a_ + " netns " + a_.name() +
                     " address " + kMacA + " type veth peer name " + veth_b_ +
                     " netns " + b_.name() + " address " + kMacB),
        0);
    for (const auto& [ns, veth] :
         {std::pair(&a_, veth_a_), std::pair(&b_, veth_b_)}) {
      ASSERT_EQ(ns->Ip("link set " + veth + " up"), 0);
    }
    const std::string a = " dev " + veth_a_;
    const std::string b = " dev " + veth_b_;
    ASSERT_EQ(a_.Ip("addr add 192.0.2.1/24" + a), 0);
    ASSERT_EQ(a_.Ip("addr add 192.0.2.3/24" + a), 0);
    ASSERT_EQ(a_.Ip("addr add 2001:db8::1/64 nodad" + a), 0);
    ASSERT_EQ(a_.Ip("addr add 2001:db8::3/64 nodad" + a), 0);
    ASSERT_EQ(b_.Ip("addr add 192.0.2.2/24" + b), 0);
    ASSERT_EQ(b_.Ip("addr add 2001:db8::2/64 nodad" + b), 0);
    const std::string to_b = std::string(" lladdr ") + kMacB + " nud permanent";
    const std::string to_a = std::string(" lladdr ") + kMacA + " nud permanent";
    ASSERT_EQ(a_.Ip("neigh replace 192.0.2.2" + to_b + a), 0);
    ASSERT_EQ(a_.Ip("neigh replace 2001:db8::2" + to_b + a), 0);
    for (const char* address :
         {"192.0.2.1", "192.0.2.3", "2001:db8::1", "2001:db8::3"}) {
      ASSERT_EQ(b_.Ip(std::string("neigh replace ") + address + to_a + b), 0);
    }
    // Both ends' queues are activated by the link watcher, which also sets
    // operstate: wait for it.
    ASSERT_TRUE(testing::WaitFor([&] {
      return a_.Sysfs(veth_a_, "operstate") == "up" &&
             b_.Sysfs(veth_b_, "operstate") == "up";
    }));
  }

  std::unique_ptr<LinuxRawSocket> Open(Family family, const TestNetns& ns) {
    auto socket = LinuxRawSocket::Open(family, ns.name());
    EXPECT_TRUE(socket) << socket.error().message;
    return socket ? std::move(*socket) : nullptr;
  }

  // Receives until `count` packets arrived or nothing came for 2 s.
  static std::vector<Received> ReceiveAll(LinuxRawSocket& socket,
                                          size_t count) {
    std::vector<PacketBuffer> buffers(LinuxRawSocket::kBatch);
    std::vector<InboundAddresses> addresses(buffers.size());
    std::vector<Received> received;
    while (received.size() < count) {
      pollfd entry{socket.fd(), POLLIN, 0};
      if (::poll(&entry, 1, 2000) != 1) break;
      auto n = socket.Receive(buffers, addresses);
      EXPECT_TRUE(n) << n.error().message;
      if (!n) break;
      for (size_t i = 0; i < *n; ++i) {
        auto bytes = std::as_const(buffers[i]).data();
        Received packet{{bytes.begin(), bytes.end()}, addresses[i], {}};
        if (socket.family() == Family::kIpv4 &&
            addresses[i].source.family() == Family::kIpv4) {
          packet.ipv4_header.assign(bytes.data() - 20, bytes.data());
        }
        received.push_back(std::move(packet));
      }
    }
    return received;
  }

  TestNetns a_;
  TestNetns b_;
  std::string veth_a_ = UniqueName("eipa");
  std::string veth_b_ = UniqueName("eipb");
};

// Owns payloads and the OutboundPackets that point into them.
struct Batch {
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<OutboundPacket> packets;
  void Add(std::vector<uint8_t> payload, IpAddress source,
           IpAddress destination, OuterFields outer = {}) {
    payloads.push_back(std::move(payload));
    packets.push_back({{}, source, destination, 0, outer});
  }
  // Through the zone `scope` (a link-local tunnel's).
  void Add(std::vector<uint8_t> payload, IpAddress source,
           IpAddress destination, uint32_t scope) {
    payloads.push_back(std::move(payload));
    packets.push_back({{}, source, destination, scope, {}});
  }
  std::span<const OutboundPacket> span() {
    for (size_t i = 0; i < packets.size(); ++i) {
      packets[i].payload = payloads[i];
    }
    return packets;
  }
};

TEST_F(RawSocketTest, Ipv4BatchArrivesWithWholeHeader) {
  auto sender = Open(Family::kIpv4, a_);
  auto receiver = Open(Family::kIpv4, b_);
  ASSERT_TRUE(sender && receiver);
  EXPECT_EQ(sender->family(), Family::kIpv4);
  EXPECT_EQ(sender->domain(), a_.name());

  // More than one sendmmsg/recvmmsg batch.
  constexpr size_t kCount = 100;
  Batch batch;
  for (uint16_t i = 0; i < kCount; ++i) batch.Add(Payload(i), kA4, kB4);
  const SendResult sent = sender->Send(batch.span());
  EXPECT_EQ(sent.sent, kCount);
  EXPECT_EQ(sent.error, 0);

  const auto received = ReceiveAll(*receiver, kCount);
  ASSERT_EQ(received.size(), kCount);
  std::vector<bool> seen(kCount);
  for (const auto& packet : received) {
    // IPv4 as IPv6: the payload, the addresses from the outer header.
    EXPECT_EQ(packet.addresses.source, kA4);
    EXPECT_EQ(packet.addresses.destination, kB4);
    const uint16_t index = IndexOf(packet.bytes);
    ASSERT_LT(index, kCount);
    seen[index] = true;
    EXPECT_EQ(packet.bytes, Payload(index));
    // SPEC 1: TOS 0x10, TTL 64, DF clear, protocol 97.
    const auto& header = packet.ipv4_header;
    ASSERT_EQ(header.size(), 20u);
    EXPECT_EQ(header[1], 0x10);
    EXPECT_EQ(header[8], 64);
    EXPECT_EQ(header[6] & 0x40, 0) << "DF set";
    EXPECT_EQ(header[9], 97);
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kCount);
}

TEST_F(RawSocketTest, LinkLocalPacketsLeaveThroughTheirScope) {
  // fe80::a on A's end of the veth, fe80::b on B's (SPEC 8, zones).
  ASSERT_EQ(a_.Ip("addr add fe80::a/64 nodad dev " + veth_a_), 0);
  ASSERT_EQ(b_.Ip("addr add fe80::b/64 nodad dev " + veth_b_), 0);
  ASSERT_EQ(a_.Ip(std::string("neigh replace fe80::b lladdr ") + kMacB +
                  " nud permanent dev " + veth_a_),
            0);
  ASSERT_EQ(b_.Ip(std::string("neigh replace fe80::a lladdr ") + kMacA +
                  " nud permanent dev " + veth_b_),
            0);
  const auto index_a = a_.Sysfs(veth_a_, "ifindex");
  const auto index_b = b_.Sysfs(veth_b_, "ifindex");
  ASSERT_TRUE(index_a && index_b);
  const uint32_t scope_a = static_cast<uint32_t>(std::stoul(*index_a));
  const uint32_t scope_b = static_cast<uint32_t>(std::stoul(*index_b));
  auto sender = Open(Family::kIpv6, a_);
  auto receiver = Open(Family::kIpv6, b_);
  ASSERT_TRUE(sender && receiver);

  constexpr size_t kCount = 3;
  Batch batch;
  for (uint16_t i = 0; i < kCount; ++i) {
    batch.Add(Payload(i), Ip("fe80::a"), Ip("fe80::b"), scope_a);
  }
  const SendResult sent = sender->Send(batch.span());
  EXPECT_EQ(sent.sent, kCount);
  EXPECT_EQ(sent.error, 0);
  const auto received = ReceiveAll(*receiver, kCount);
  ASSERT_EQ(received.size(), kCount);
  for (const auto& packet : received) {
    EXPECT_EQ(packet.addresses.source, Ip("fe80::a"));
    EXPECT_EQ(packet.addresses.destination, Ip("fe80::b"));
    // The interface it came in through, for the tunnel's zone to match.
    EXPECT_EQ(packet.addresses.ingress, scope_b);
  }
}

TEST_F(RawSocketTest, Ipv6BatchArrivesWithAddresses) {
  auto sender = Open(Family::kIpv6, a_);
  auto receiver = Open(Family::kIpv6, b_);
  ASSERT_TRUE(sender && receiver);

  constexpr size_t kCount = 100;
  Batch batch;
  for (uint16_t i = 0; i < kCount; ++i) batch.Add(Payload(i), kA6, kB6);
  const SendResult sent = sender->Send(batch.span());
  EXPECT_EQ(sent.sent, kCount);
  EXPECT_EQ(sent.error, 0);

  const auto received = ReceiveAll(*receiver, kCount);
  ASSERT_EQ(received.size(), kCount);
  std::vector<bool> seen(kCount);
  for (const auto& packet : received) {
    // IPv6: the payload only, addresses on the side.
    EXPECT_EQ(packet.addresses.source, kA6);
    EXPECT_EQ(packet.addresses.destination, kB6);
    ASSERT_GE(packet.bytes.size(), 4u);
    const uint16_t index = IndexOf(packet.bytes);
    ASSERT_LT(index, kCount);
    seen[index] = true;
    EXPECT_EQ(packet.bytes, Payload(index));
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kCount);
}

// The IPv6 header as it is on the wire (the raw socket does not show it):
// captured with AF_PACKET on B's veth.
TEST_F(RawSocketTest, Ipv6HeaderOnTheWire) {
  auto sender = Open(Family::kIpv6, a_);
  ASSERT_TRUE(sender);
  UniqueFd capture;
  {
    auto inside = NetnsEnter::Enter(b_.name());
    ASSERT_TRUE(inside) << inside.error().message;
    capture.reset(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                           htons(ETH_P_IPV6)));
    ASSERT_TRUE(capture.valid());
  }
  Batch batch;
  batch.Add(Payload(7), kA6, kB6);
  ASSERT_EQ(sender->Send(batch.span()).sent, 1u);

  std::vector<uint8_t> packet(2048);
  bool found = false;
  while (!found) {
    pollfd entry{capture.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&entry, 1, 2000), 1) << "no EtherIP packet captured";
    const ssize_t n = ::recv(capture.get(), packet.data(), packet.size(), 0);
    ASSERT_GT(n, 0);
    if (n < 40 || packet[6] != 97) continue;  // other IPv6 traffic
    found = true;
    const uint32_t first_word = static_cast<uint32_t>(packet[0]) << 24 |
                                packet[1] << 16 | packet[2] << 8 | packet[3];
    EXPECT_EQ(first_word >> 28, 6u);
    EXPECT_EQ((first_word >> 20) & 0xff, 0u) << "traffic class";
    EXPECT_EQ(first_word & 0xfffff, 0u) << "flow label";
    EXPECT_EQ(packet[7], 64) << "hop limit";
  }
}

TEST_F(RawSocketTest, Ipv4PayloadLargerThanMtuIsFragmented) {
  auto sender = Open(Family::kIpv4, a_);
  auto receiver = Open(Family::kIpv4, b_);
  ASSERT_TRUE(sender && receiver);
  const uint64_t reassembled = b_.SnmpCounter("Ip", "ReasmOKs").value_or(0);

  Batch batch;
  batch.Add(Payload(1, 4000), kA4, kB4);  // veth MTU 1500
  batch.Add(Payload(2, 9000), kA4, kB4);
  const SendResult sent = sender->Send(batch.span());
  EXPECT_EQ(sent.sent, 2u);
  EXPECT_EQ(sent.error, 0);

  const auto received = ReceiveAll(*receiver, 2);
  ASSERT_EQ(received.size(), 2u);
  for (const auto& packet : received) {
    const uint16_t index = IndexOf(packet.bytes);
    EXPECT_EQ(packet.bytes, Payload(index, index == 1 ? 4000 : 9000));
    EXPECT_EQ(packet.addresses.source, kA4);
  }
  EXPECT_EQ(b_.SnmpCounter("Ip", "ReasmOKs").value_or(0), reassembled + 2);
}

TEST_F(RawSocketTest, Ipv6PayloadLargerThanMtuIsFragmented) {
  auto sender = Open(Family::kIpv6, a_);
  auto receiver = Open(Family::kIpv6, b_);
  ASSERT_TRUE(sender && receiver);
  const uint64_t reassembled = b_.SnmpCounter("Ip6", "ReasmOKs").value_or(0);

  Batch batch;
  batch.Add(Payload(1, 4000), kA6, kB6);
  batch.Add(Payload(2, 9000), kA6, kB6);
  const SendResult sent = sender->Send(batch.span());
  EXPECT_EQ(sent.sent, 2u);
  EXPECT_EQ(sent.error, 0);

  const auto received = ReceiveAll(*receiver, 2);
  ASSERT_EQ(received.size(), 2u);
  for (const auto& packet : received) {
    const uint16_t index = IndexOf(packet.bytes);
    EXPECT_EQ(packet.bytes, Payload(index, index == 1 ? 4000 : 9000));
    EXPECT_EQ(packet.addresses.source, kA6);
    EXPECT_EQ(packet.addresses.destination, kB6);
  }
  EXPECT_EQ(b_.SnmpCounter("Ip6", "ReasmOKs").value_or(0), reassembled + 2);
}

TEST_F(RawSocketTest, Ipv4SourceChosenPerPacket) {
  auto sender = Open(Family::kIpv4, a_);
  auto receiver = Open(Family::kIpv4, b_);
  ASSERT_TRUE(sender && receiver);
  constexpr size_t kCount = 10;
  Batch batch;
  for (uint16_t i = 0; i < kCount; ++i) {
    batch.Add(Payload(i), i % 2 ? kA4Second : kA4, kB4);
  }
  ASSERT_EQ(sender->Send(batch.span()).sent, kCount);
  const auto received = ReceiveAll(*receiver, kCount);
  ASSERT_EQ(received.size(), kCount);
  for (const auto& packet : received) {
    const uint16_t index = IndexOf(packet.bytes);
    EXPECT_EQ(packet.addresses.source, index % 2 ? kA4Second : kA4) << index;
  }
}

TEST_F(RawSocketTest, Ipv6SourceChosenPerPacket) {
  auto sender = Open(Family::kIpv6, a_);
  auto receiver = Open(Family::kIpv6, b_);
  ASSERT_TRUE(sender && receiver);
  constexpr size_t kCount = 10;
  Batch batch;
  for (uint16_t i = 0; i < kCount; ++i) {
    batch.Add(Payload(i), i % 2 ? kA6Second : kA6, kB6);
  }
  ASSERT_EQ(sender->Send(batch.span()).sent, kCount);
  const auto received = ReceiveAll(*receiver, kCount);
  ASSERT_EQ(received.size(), kCount);
  for (const auto& packet : received) {
    const uint16_t index = IndexOf(packet.bytes);
    EXPECT_EQ(packet.addresses.source, index % 2 ? kA6Second : kA6) << index;
  }
}

TEST_F(RawSocketTest, UnsetSourceLetsTheKernelChoose) {
  auto sender = Open(Family::kIpv4, a_);
  auto receiver = Open(Family::kIpv4, b_);
  ASSERT_TRUE(sender && receiver);
  Batch batch;
  batch.Add(Payload(1), IpAddress(), kB4);
  ASSERT_EQ(sender->Send(batch.span()).sent, 1u);
  const auto received = ReceiveAll(*receiver, 1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].addresses.source,
            kA4);  // the primary address of the route
}

// SendResult: the count from the front, then the errno of the packet that
// failed; nothing after it is sent. A source the namespace does not own:
// IPv4 finds no route from it (ENETUNREACH), IPv6 refuses the pktinfo
// (EINVAL).
TEST_F(RawSocketTest, SourceNotOwnedFailsThatPacket) {
  for (Family family : {Family::kIpv4, Family::kIpv6}) {
    SCOPED_TRACE(family == Family::kIpv4 ? "IPv4" : "IPv6");
    const bool v4 = family == Family::kIpv4;
    auto sender = Open(family, a_);
    auto receiver = Open(family, b_);
    ASSERT_TRUE(sender && receiver);
    const IpAddress good = v4 ? kA4 : kA6;
    const IpAddress foreign = v4 ? Ip("198.51.100.1") : Ip("2001:db8:1::1");
    const IpAddress to = v4 ? kB4 : kB6;
    Batch batch;
    batch.Add(Payload(0), good, to);
    batch.Add(Payload(1), good, to);
    batch.Add(Payload(2), foreign, to);
    batch.Add(Payload(3), good, to);
    const SendResult sent = sender->Send(batch.span());
    EXPECT_EQ(sent.sent, 2u);
    EXPECT_EQ(sent.error, v4 ? ENETUNREACH : EINVAL);
    const auto received = ReceiveAll(*receiver, 2);
    EXPECT_EQ(received.size(), 2u);
    pollfd entry{receiver->fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&entry, 1, 200), 0) << "a packet after the failed one";
  }
}

TEST_F(RawSocketTest, WrongFamilyIsRefusedWithoutSending) {
  auto sender = Open(Family::kIpv4, a_);
  auto receiver = Open(Family::kIpv4, b_);
  ASSERT_TRUE(sender && receiver);
  Batch batch;
  batch.Add(Payload(0), kA4, kB4);
  batch.Add(Payload(1), kA6, kB6);
  batch.Add(Payload(2), kA4, kB4);
  SendResult sent = sender->Send(batch.span());
  EXPECT_EQ(sent.sent, 1u);
  EXPECT_EQ(sent.error, EAFNOSUPPORT);
  Batch mixed;
  mixed.Add(Payload(3), kA6, kB4);
  sent = sender->Send(mixed.span());
  EXPECT_EQ(sent.sent, 0u);
  EXPECT_EQ(sent.error, EAFNOSUPPORT);
  EXPECT_EQ(ReceiveAll(*receiver, 1).size(), 1u);
  pollfd entry{receiver->fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&entry, 1, 200), 0) << "a packet after the refused one";
}

// A receive queue too small for a burst: the kernel drops what does not
// fit, and the socket learns how many with the next packet it receives.
TEST_F(RawSocketTest, QueueDropsAreReported) {
  for (Family family : {Family::kIpv4, Family::kIpv6}) {
    SCOPED_TRACE(FamilyName(family));
    const IpAddress from = family == Family::kIpv4 ? kA4 : kA6;
    const IpAddress to = family == Family::kIpv4 ? kB4 : kB6;
    auto sender = Open(family, a_);
    auto receiver = Open(family, b_);
    ASSERT_TRUE(sender && receiver);
    EXPECT_EQ(receiver->TakeQueueDrops(), 0u);
    // The smallest queue the kernel allows: a few packets.
    const int small = 1;
    ASSERT_EQ(::setsockopt(receiver->fd(), SOL_SOCKET, SO_RCVBUF, &small,
                           sizeof(small)),
              0);

    constexpr size_t kBurst = 200;
    Batch burst;
    for (uint16_t i = 0; i < kBurst; ++i) burst.Add(Payload(i, 200), from, to);
    ASSERT_EQ(sender->Send(burst.span()).sent, kBurst);
    size_t received = ReceiveAll(*receiver, kBurst).size();
    EXPECT_LT(received, kBurst);
    // The losses after the last queued packet are learnt with the next one.
    Batch next;
    next.Add(Payload(kBurst), from, to);
    ASSERT_EQ(sender->Send(next.span()).sent, 1u);
    received += ReceiveAll(*receiver, 1).size();
    const uint64_t dropped = receiver->TakeQueueDrops();
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(received + dropped, kBurst + 1);
    EXPECT_EQ(receiver->TakeQueueDrops(), 0u) << "taken once";
  }
}

TEST_F(RawSocketTest, NothingPendingIsZero) {
  auto socket = Open(Family::kIpv6, b_);
  ASSERT_TRUE(socket);
  std::vector<PacketBuffer> buffers(4);
  std::vector<InboundAddresses> addresses(4);
  auto n = socket->Receive(buffers, addresses);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(socket->Send({}).sent, 0u);
}

TEST_F(RawSocketTest, SocketsLiveInTheirDomain) {
  const uint64_t home = testing::ThreadNetnsInode();
  for (Family family : {Family::kIpv4, Family::kIpv6}) {
    auto in_a = Open(family, a_);
    ASSERT_TRUE(in_a);
    EXPECT_EQ(testing::SocketNetnsInode(in_a->fd()),
              testing::NetnsInodeOf("/run/netns/" + a_.name()));
    EXPECT_EQ(testing::ThreadNetnsInode(), home);
    auto here = LinuxRawSocket::Open(family, "");
    ASSERT_TRUE(here) << here.error().message;
    EXPECT_EQ(testing::SocketNetnsInode((*here)->fd()), home);
  }
}

TEST_F(RawSocketTest, OptionsAreSet) {
  auto v4 = Open(Family::kIpv4, a_);
  auto v6 = Open(Family::kIpv6, a_);
  ASSERT_TRUE(v4 && v6);
  auto get = [](int fd, int level, int option) {
    int value = -1;
    socklen_t size = sizeof(value);
    EXPECT_EQ(::getsockopt(fd, level, option, &value, &size), 0);
    return value;
  };
  EXPECT_EQ(get(v4->fd(), IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_DONT);
  EXPECT_EQ(get(v4->fd(), IPPROTO_IP, IP_TOS), 0x10);
  EXPECT_EQ(get(v4->fd(), IPPROTO_IP, IP_TTL), 64);
  EXPECT_EQ(get(v4->fd(), IPPROTO_IP, IP_PKTINFO), 1);
  EXPECT_EQ(get(v6->fd(), IPPROTO_IPV6, IPV6_MTU_DISCOVER), IPV6_PMTUDISC_DONT);
  EXPECT_EQ(get(v6->fd(), IPPROTO_IPV6, IPV6_UNICAST_HOPS), 64);
  EXPECT_EQ(get(v6->fd(), IPPROTO_IPV6, IPV6_TCLASS), 0);
  EXPECT_EQ(get(v6->fd(), IPPROTO_IPV6, IPV6_AUTOFLOWLABEL), 0);
  EXPECT_EQ(get(v6->fd(), IPPROTO_IPV6, IPV6_RECVPKTINFO), 1);
  EXPECT_EQ(get(v4->fd(), SOL_SOCKET, SO_RXQ_OVFL), 1);
  EXPECT_EQ(get(v6->fd(), SOL_SOCKET, SO_RXQ_OVFL), 1);
  // Root: the forced sizes (the kernel reports double the request).
  EXPECT_GE(get(v4->fd(), SOL_SOCKET, SO_RCVBUF), 4 << 20);
  EXPECT_GE(get(v6->fd(), SOL_SOCKET, SO_SNDBUF), 4 << 20);
}

// --- Outer header options per packet (SPEC 8) ---

// Packets of one batch with different options: each arrives with its own
// TTL, TOS and DF, whatever came before it (the socket's defaults are never
// changed for the packets after one with options).
TEST_F(RawSocketTest, Ipv4OptionsPerPacket) {
  auto sender = Open(Family::kIpv4, a_);
  auto receiver = Open(Family::kIpv4, b_);
  ASSERT_TRUE(sender && receiver);
  const OuterFields kOptions[] = {
      {},
      {.ttl = 9},
      {.ttl = 9, .tos = 0x28},
      {.tos = 0xb8, .df = true},
      {.df = true},
      {},
      {.ttl = 255, .tos = 0, .df = true},
      {.tos = 0x10},  // the default, explicitly
      {},
  };
  constexpr size_t kCount = std::size(kOptions);
  Batch batch;
  for (uint16_t i = 0; i < kCount; ++i) {
    batch.Add(Payload(i), kA4, kB4, kOptions[i]);
  }
  const SendResult sent = sender->Send(batch.span());
  EXPECT_EQ(sent.sent, kCount);
  EXPECT_EQ(sent.error, 0);
  const auto received = ReceiveAll(*receiver, kCount);
  ASSERT_EQ(received.size(), kCount);
  for (const auto& packet : received) {
    const uint16_t index = IndexOf(packet.bytes);
    ASSERT_LT(index, kCount);
    SCOPED_TRACE(index);
    const OuterFields& asked = kOptions[index];
    const auto& header = packet.ipv4_header;
    ASSERT_EQ(header.size(), 20u);
    EXPECT_EQ(header[1], asked.tos.value_or(0x10));
    EXPECT_EQ(header[8], asked.ttl);
    EXPECT_EQ((header[6] & 0x40) != 0, asked.df);
  }
}

// IPv6 sockets do not hand over the header: it is captured on the wire.
TEST_F(RawSocketTest, Ipv6OptionsPerPacket) {
  auto sender = Open(Family::kIpv6, a_);
  ASSERT_TRUE(sender);
  UniqueFd capture;
  {
    auto inside = NetnsEnter::Enter(b_.name());
    ASSERT_TRUE(inside) << inside.error().message;
    capture.reset(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                           htons(ETH_P_IPV6)));
    ASSERT_TRUE(capture.valid());
  }
  const OuterFields kOptions[] = {
      {}, {.ttl = 9}, {.ttl = 9, .tos = 0x28}, {.tos = 0xb8, .df = true}, {},
  };
  constexpr size_t kCount = std::size(kOptions);
  Batch batch;
  for (uint16_t i = 0; i < kCount; ++i) {
    batch.Add(Payload(i), kA6, kB6, kOptions[i]);
  }
  ASSERT_EQ(sender->Send(batch.span()).sent, kCount);
  std::vector<uint8_t> packet(2048);
  size_t found = 0;
  while (found < kCount) {
    pollfd entry{capture.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&entry, 1, 2000), 1) << "EtherIP packets missing";
    const ssize_t n = ::recv(capture.get(), packet.data(), packet.size(), 0);
    ASSERT_GT(n, 0);
    if (n < 44 || packet[6] != 97) continue;  // other IPv6 traffic
    const uint16_t index = IndexOf({packet.data() + 40, 4});
    ASSERT_LT(index, kCount);
    SCOPED_TRACE(index);
    ++found;
    const uint8_t tclass =
        static_cast<uint8_t>((packet[0] & 0x0f) << 4 | packet[1] >> 4);
    EXPECT_EQ(tclass, kOptions[index].tos.value_or(0));
    EXPECT_EQ(packet[7], kOptions[index].ttl) << "hop limit";
  }
}

// DF: IPv4 sets the bit, and neither family fragments a packet with it:
// one over the path MTU fails with EMSGSIZE, the packets around it go.
TEST_F(RawSocketTest, DfPacketsAreNotFragmented) {
  for (Family family : {Family::kIpv4, Family::kIpv6}) {
    SCOPED_TRACE(FamilyName(family));
    const bool v4 = family == Family::kIpv4;
    const IpAddress from = v4 ? kA4 : kA6;
    const IpAddress to = v4 ? kB4 : kB6;
    auto sender = Open(family, a_);
    auto receiver = Open(family, b_);
    ASSERT_TRUE(sender && receiver);
    Batch batch;
    batch.Add(Payload(0, 4000), from, to);                // fragmented
    batch.Add(Payload(1, 1000), from, to, {.df = true});  // fits
    batch.Add(Payload(2, 4000), from, to, {.df = true});  // does not
    batch.Add(Payload(3, 4000), from, to);                // fragmented
    SendResult sent = sender->Send(batch.span());
    EXPECT_EQ(sent.sent, 2u);
    EXPECT_EQ(sent.error, EMSGSIZE);
    sent = sender->Send(batch.span().subspan(3));
    EXPECT_EQ(sent.sent, 1u);
    EXPECT_EQ(sent.error, 0);
    const auto received = ReceiveAll(*receiver, 3);
    ASSERT_EQ(received.size(), 3u);
    for (const auto& packet : received) {
      const uint16_t index = IndexOf(packet.bytes);
      EXPECT_NE(index, 2);
      EXPECT_EQ(packet.bytes.size(), index == 1 ? 1000u : 4000u);
      if (v4 && index == 1) {
        EXPECT_NE(packet.ipv4_header[6] & 0x40, 0) << "DF clear";
      }
    }
  }
}

// The mark is the packet's for the route lookup: a rule that prohibits
// mark 7 refuses exactly the packets with it (EACCES).
TEST_F(RawSocketTest, FwmarkReachesTheRouteLookup) {
  ASSERT_EQ(a_.Ip("-4 rule add fwmark 7 prohibit"), 0);
  ASSERT_EQ(a_.Ip("-6 rule add fwmark 7 prohibit"), 0);
  for (Family family : {Family::kIpv4, Family::kIpv6}) {
    SCOPED_TRACE(FamilyName(family));
    const bool v4 = family == Family::kIpv4;
    const IpAddress from = v4 ? kA4 : kA6;
    const IpAddress to = v4 ? kB4 : kB6;
    auto sender = Open(family, a_);
    auto receiver = Open(family, b_);
    ASSERT_TRUE(sender && receiver);
    Batch batch;
    batch.Add(Payload(0), from, to, {.fwmark = 8});
    batch.Add(Payload(1), from, to);
    batch.Add(Payload(2), from, to, {.fwmark = 7});
    const SendResult sent = sender->Send(batch.span());
    EXPECT_EQ(sent.sent, 2u);
    EXPECT_EQ(sent.error, EACCES);
    EXPECT_EQ(ReceiveAll(*receiver, 2).size(), 2u);
  }
}

TEST(RawSocketOpenTest, MissingDomainIsRefusedAndThreadStaysHome) {
  const uint64_t home = testing::ThreadNetnsInode();
  const std::string name = UniqueName("eiptest-missing-", 64);
  auto socket = LinuxRawSocket::Open(Family::kIpv4, name);
  ASSERT_FALSE(socket);
  EXPECT_EQ(socket.error().code, EINVAL);
  EXPECT_NE(socket.error().message.find(name), std::string::npos);
  EXPECT_EQ(testing::ThreadNetnsInode(), home);
  auto invalid = LinuxRawSocket::Open(Family::kIpv6, "../x");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, EINVAL);
}

TEST(RawSocketOpenTest, RefusesFamilyNone) {
  auto socket = LinuxRawSocket::Open(Family::kNone, "");
  ASSERT_FALSE(socket);
  EXPECT_EQ(socket.error().code, EAFNOSUPPORT);
}

}  // namespace
}  // namespace etherip

// LinuxTap against the real kernel. Every TAP is created inside a test
// namespace, so the host's links are never touched.
#include "io/linux/linux_tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/udp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "core/packet_buffer.h"
#include "io/linux/link_control.h"
#include "io/linux/netns_enter.h"
#include "io/linux/unique_fd.h"
#include "linux_test_support.h"

namespace etherip {
namespace {

using testing::TestNetns;
using testing::UniqueName;

// An Ethernet frame of an experimental EtherType (IEEE 802 "local
// experimental" 0x88b5), so no protocol stack in the namespace answers it.
constexpr uint16_t kTestEtherType = 0x88b5;

std::vector<uint8_t> TestFrame(uint8_t tag, size_t size = 60) {
  std::vector<uint8_t> frame(size, tag);
  const std::array<uint8_t, 6> to = {0x02, 0, 0, 0, 0, 0x02};
  const std::array<uint8_t, 6> from = {0x02, 0, 0, 0, 0, 0x01};
  std::copy(to.begin(), to.end(), frame.begin());
  std::copy(from.begin(), from.end(), frame.begin() + 6);
  frame[12] = kTestEtherType >> 8;
  frame[13] = kTestEtherType & 0xff;
  return frame;
}

// Frames in PacketBuffers, as the forwarder hands them to WriteFrames.
struct FramesToWrite {
  explicit FramesToWrite(std::initializer_list<std::span<const uint8_t>> frames)
      : buffers(frames.size()) {
    size_t i = 0;
    for (const auto& frame : frames) {
      auto room = buffers[i].ResetForRead();
      std::copy(frame.begin(), frame.end(), room.begin());
      buffers[i].Commit(frame.size());
      pointers.push_back(&buffers[i++]);
    }
  }
  std::vector<PacketBuffer> buffers;
  std::vector<PacketBuffer*> pointers;
};

class LinuxTapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ETHERIP_REQUIRE_ROOT("creates TAP devices in a network namespace");
    ASSERT_TRUE(netns_.ok());
    // No IPv6 on new links: no router solicitations or MLD reports mixed
    // in with the test's frames.
    ASSERT_EQ(netns_.Exec("sysctl -qw net.ipv6.conf.default.disable_ipv6=1"),
              0);
  }

  // Creates a TAP inside the test namespace.
  Result<std::unique_ptr<LinuxTap>> CreateTap(const std::string& name) {
    auto inside = NetnsEnter::Enter(netns_.name());
    if (!inside) return tl::unexpected(inside.error());
    return LinuxTap::Create(name);
  }
  Result<LinkControl> OpenLinks() {
    auto inside = NetnsEnter::Enter(netns_.name());
    if (!inside) return tl::unexpected(inside.error());
    return LinkControl::Open();
  }
  // Sets the link up with its carrier on and waits until the stack
  // transmits on it (operstate up).
  void BringUp(LinuxTap& device) {
    auto links = OpenLinks();
    ASSERT_TRUE(links) << links.error().message;
    ASSERT_TRUE(links->SetUp(device.ifindex(), true));
    ASSERT_TRUE(device.SetCarrier(true));
    ASSERT_TRUE(testing::WaitFor(
        [&] { return netns_.Sysfs(name_, "operstate") == "up"; }));
  }
  // An AF_PACKET socket in the namespace, bound to `ifindex`, seeing only
  // frames of the test EtherType.
  UniqueFd PacketSocket(int ifindex) {
    auto inside = NetnsEnter::Enter(netns_.name());
    if (!inside) return UniqueFd();
    UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                         htons(kTestEtherType)));
    if (!fd.valid()) return fd;
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(kTestEtherType);
    address.sll_ifindex = ifindex;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address),
               sizeof(address)) != 0) {
      return UniqueFd();
    }
    return fd;
  }

  void ExpectFramesFlowBothWays(LinuxTap& device);

  // Create() and Attach() inside the test namespace.
  Result<std::unique_ptr<LinuxTap>> CreateTap(const std::string& name,
                                              const TapOptions& options) {
    auto inside = NetnsEnter::Enter(netns_.name());
    if (!inside) return tl::unexpected(inside.error());
    return LinuxTap::Create(name, options);
  }
  Result<std::unique_ptr<LinuxTap>> AttachTap(const std::string& name) {
    auto inside = NetnsEnter::Enter(netns_.name());
    if (!inside) return tl::unexpected(inside.error());
    return LinuxTap::Attach(name);
  }
  bool LinkExists(const std::string& name) {
    return netns_.Ip("link show dev " + name + " >/dev/null 2>&1") == 0;
  }

  TestNetns netns_;
  std::string name_ = UniqueName("eipt");
};

// A persistent TAP outlives its fd: whatever a test does, this deletes the
// link when the test ends (deleting the namespace would too, but only once
// nothing holds it).
class PersistentLinkGuard {
 public:
  PersistentLinkGuard(const TestNetns& netns, std::string name)
      : netns_(netns), name_(std::move(name)) {}
  ~PersistentLinkGuard() {
    netns_.Ip("link del dev " + name_ + " >/dev/null 2>&1");
  }

 private:
  const TestNetns& netns_;
  std::string name_;
};

bool Readable(int fd, int timeout_ms) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, timeout_ms) == 1 && (entry.revents & POLLIN);
}

bool IsTestFrame(std::span<const uint8_t> frame) {
  return frame.size() >= 14 && frame[12] == (kTestEtherType >> 8) &&
         frame[13] == (kTestEtherType & 0xff);
}

// Reads from `device` in batches of `buffers` until `count` test frames
// arrived or nothing came for `timeout_ms`; returns those frames.
std::vector<std::vector<uint8_t>> ReadTestFrames(
    LinuxTap& device, std::vector<PacketBuffer>& buffers, size_t count,
    int timeout_ms = 2000) {
  std::vector<std::vector<uint8_t>> frames;
  while (frames.size() < count && Readable(device.fd(), timeout_ms)) {
    auto read = device.ReadFrames(buffers);
    if (!read) break;
    for (size_t i = 0; i < *read; ++i) {
      auto data = std::as_const(buffers[i]).data();
      if (IsTestFrame(data)) frames.emplace_back(data.begin(), data.end());
    }
  }
  return frames;
}

TEST_F(LinuxTapTest, CreatesTapWithCarrierOff) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  EXPECT_EQ((*tap)->name(), name_);
  EXPECT_GE((*tap)->fd(), 0);
  EXPECT_EQ(netns_.Sysfs(name_, "ifindex"), std::to_string((*tap)->ifindex()));
  // TAP: an Ethernet link (ARPHRD_ETHER = 1), tun_flags
  // IFF_TAP|IFF_NO_PI|IFF_VNET_HDR.
  EXPECT_EQ(netns_.Sysfs(name_, "type"), "1");
  EXPECT_EQ(netns_.Sysfs(name_, "tun_flags"), "0x5002");
  // Checksum offload and TSO for both families are always granted (Linux
  // has had them since 2.6); USO only from 6.2.
  const unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  EXPECT_EQ((*tap)->offloads() & tcp, tcp);
  EXPECT_NE((*tap)->OffloadNames().find("tso4 tso6"), std::string::npos);

  // /sys/.../carrier reads only while the link is up.
  auto links = OpenLinks();
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_TRUE(links->SetUp((*tap)->ifindex(), true));
  EXPECT_EQ(netns_.Sysfs(name_, "carrier"), "0");

  ASSERT_TRUE((*tap)->SetCarrier(true));
  EXPECT_EQ(netns_.Sysfs(name_, "carrier"), "1");
  EXPECT_TRUE(testing::WaitFor(
      [&] { return netns_.Sysfs(name_, "operstate") == "up"; }));
  ASSERT_TRUE((*tap)->SetCarrier(false));
  EXPECT_EQ(netns_.Sysfs(name_, "carrier"), "0");
}

TEST_F(LinuxTapTest, LinkVanishesWithTheObject) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  EXPECT_EQ(netns_.Ip("link show dev " + name_ + " >/dev/null 2>&1"), 0);
  tap->reset();
  EXPECT_NE(netns_.Ip("link show dev " + name_ + " >/dev/null 2>&1"), 0);
}

TEST_F(LinuxTapTest, RefusesAnExistingTap) {
  auto first = CreateTap(name_);
  ASSERT_TRUE(first) << first.error().message;
  auto second = CreateTap(name_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EEXIST);
  EXPECT_NE(second.error().message.find(name_), std::string::npos)
      << second.error().message;
  // The first one is untouched and still ours.
  EXPECT_EQ(netns_.Sysfs(name_, "ifindex"),
            std::to_string((*first)->ifindex()));
}

TEST_F(LinuxTapTest, NeverTakesOverAnotherLink) {
  // Loopback, and a veth: links of that name exist but are not TAPs.
  auto lo = CreateTap("lo");
  ASSERT_FALSE(lo);
  EXPECT_EQ(lo.error().code, EEXIST);
  ASSERT_EQ(netns_.Ip("link add " + name_ + " type veth peer name " +
                      UniqueName("eipp")),
            0);
  auto veth = CreateTap(name_);
  ASSERT_FALSE(veth);
  EXPECT_EQ(veth.error().code, EEXIST);
  EXPECT_NE(veth.error().message.find(name_), std::string::npos);
}

TEST_F(LinuxTapTest, RefusesPersistentTapOfSomeoneElse) {
  // A persistent TAP made by another program: attaching to it would hijack
  // its traffic.
  ASSERT_EQ(netns_.Ip("tuntap add dev " + name_ + " mode tap"), 0);
  auto tap = CreateTap(name_);
  ASSERT_FALSE(tap);
  EXPECT_EQ(tap.error().code, EEXIST);
}

// No root needed: the names are refused before any system call (as a
// non-root user opening /dev/net/tun would fail with EPERM/EACCES).
TEST(LinuxTapNameTest, RefusesInvalidNamesBeforeAnySyscall) {
  for (const char* name : {"eip%d", "%d", "", "a/b", "a:b", "a b", ".", "..",
                           "sixteen-bytes-xx"}) {
    auto tap = LinuxTap::Create(name);
    ASSERT_FALSE(tap) << name;
    EXPECT_EQ(tap.error().code, EINVAL) << name;
  }
  auto tap = LinuxTap::Create("eip%d");
  EXPECT_NE(tap.error().message.find("eip%d"), std::string::npos)
      << tap.error().message;
  for (const char* name : {"eip%d", "", "a/b", "sixteen-bytes-xx"}) {
    auto attached = LinuxTap::Attach(name);
    ASSERT_FALSE(attached) << name;
    EXPECT_EQ(attached.error().code, EINVAL) << name;
  }
}

TEST_F(LinuxTapTest, PercentCreatesNothing) {
  auto tap = CreateTap("eipt%d");
  ASSERT_FALSE(tap);
  EXPECT_EQ(tap.error().code, EINVAL);
  // Only loopback in the namespace.
  EXPECT_EQ(netns_.Sysfs("eipt0", "ifindex"), std::nullopt);
  EXPECT_EQ(netns_.ExecOutput("ls /sys/class/net"), "lo");
}

// Frames both ways through `device`, which must be up with its carrier on:
// what the daemon writes the namespace sees on the link, and what the
// namespace transmits on the link the daemon reads.
void LinuxTapTest::ExpectFramesFlowBothWays(LinuxTap& device) {
  UniqueFd packet = PacketSocket(device.ifindex());
  ASSERT_TRUE(packet.valid());

  // TAP -> stack: what the daemon writes, the host sees on the link.
  const auto to_host = TestFrame(0xa1, 100);
  FramesToWrite writes({to_host});
  auto written = device.WriteFrames(writes.pointers);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(*written, 1u);
  ASSERT_TRUE(Readable(packet.get(), 2000));
  std::vector<uint8_t> seen(2048);
  const ssize_t n = ::recv(packet.get(), seen.data(), seen.size(), 0);
  ASSERT_EQ(n, static_cast<ssize_t>(to_host.size()));
  seen.resize(static_cast<size_t>(n));
  EXPECT_EQ(seen, to_host);

  // Stack -> TAP: what the host transmits on the link, the daemon reads.
  // The carrier just came on; the stack starts transmitting once the link
  // watcher has activated its queue (asynchronously), so retry a few times.
  std::vector<PacketBuffer> buffers(8);
  std::vector<std::vector<uint8_t>> got;
  std::vector<uint8_t> expected;
  for (int attempt = 0; attempt < 40 && got.empty(); ++attempt) {
    expected = TestFrame(static_cast<uint8_t>(0xb0 + attempt % 16), 80);
    ASSERT_EQ(::send(packet.get(), expected.data(), expected.size(), 0),
              static_cast<ssize_t>(expected.size()));
    got = ReadTestFrames(device, buffers, 1, 50);
  }
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), expected);

  // Nothing more: 0, not an error.
  while (Readable(device.fd(), 0)) ASSERT_TRUE(device.ReadFrames(buffers));
  auto none = device.ReadFrames(buffers);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(*none, 0u);
}

TEST_F(LinuxTapTest, FramesFlowBothWays) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  LinuxTap& device = **tap;
  auto links = OpenLinks();
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_TRUE(links->SetUp(device.ifindex(), true));
  ASSERT_TRUE(device.SetCarrier(true));
  ExpectFramesFlowBothWays(device);
}

TEST_F(LinuxTapTest, ReadsABatch) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  LinuxTap& device = **tap;
  ASSERT_NO_FATAL_FAILURE(BringUp(device));
  UniqueFd packet = PacketSocket(device.ifindex());
  ASSERT_TRUE(packet.valid());
  for (uint8_t i = 0; i < 6; ++i) {
    const auto frame = TestFrame(i);
    ASSERT_EQ(::send(packet.get(), frame.data(), frame.size(), 0),
              static_cast<ssize_t>(frame.size()));
  }
  // A full batch of 4, then the other 2, in order.
  std::vector<PacketBuffer> buffers(4);
  ASSERT_TRUE(Readable(device.fd(), 2000));
  auto first = device.ReadFrames(buffers);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, 4u);
  std::vector<uint8_t> tags;
  for (size_t i = 0; i < *first; ++i) tags.push_back(buffers[i].data()[20]);
  for (const auto& frame : ReadTestFrames(device, buffers, 2)) {
    tags.push_back(frame[20]);
  }
  EXPECT_EQ(tags, (std::vector<uint8_t>{0, 1, 2, 3, 4, 5}));
}

TEST_F(LinuxTapTest, CarrierOffStopsTheStackTransmitting) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  auto links = OpenLinks();
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_TRUE(links->SetUp((*tap)->ifindex(), true));
  UniqueFd packet = PacketSocket((*tap)->ifindex());
  ASSERT_TRUE(packet.valid());
  const auto frame = TestFrame(0xc1);
  // Accepted by AF_PACKET, dropped by the link's (inactive) queue.
  ASSERT_EQ(::send(packet.get(), frame.data(), frame.size(), 0),
            static_cast<ssize_t>(frame.size()));
  EXPECT_FALSE(Readable((*tap)->fd(), 200));
  std::vector<PacketBuffer> buffers(4);
  auto read = (*tap)->ReadFrames(buffers);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, 0u);
}

TEST_F(LinuxTapTest, RefusedFramesAreSkipped) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  LinuxTap& device = **tap;
  const auto good = TestFrame(0xd1);
  const std::vector<uint8_t> runt(5, 0xee);  // under an Ethernet header
  FramesToWrite frames({runt, good, runt});

  // Link down: every frame refused (EIO), none is an error.
  auto down = device.WriteFrames(frames.pointers);
  ASSERT_TRUE(down) << down.error().message;
  EXPECT_EQ(*down, 3u);  // all taken, all refused by the kernel

  auto links = OpenLinks();
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_TRUE(links->SetUp(device.ifindex(), true));
  // Link up: the runts are refused (EINVAL), the good frame goes through.
  auto up = device.WriteFrames(frames.pointers);
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(*up, 3u);  // all taken; the runts refused by the kernel
}

// The offloads against the real kernel: a UDP socket with UDP_SEGMENT
// hands the TAP one super-frame (GSO_UDP_L4 where the kernel granted USO,
// else the kernel cuts it first); either way ReadFrames returns the
// standard datagrams, each with a complete, valid checksum. A plain
// datagram arrives with its checksum left to complete (checksum offload)
// and is completed too.
TEST_F(LinuxTapTest, SuperFramesFromTheStackComeOutAsStandardFrames) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  LinuxTap& device = **tap;
  ASSERT_NO_FATAL_FAILURE(BringUp(device));
  ASSERT_EQ(netns_.Ip("addr add 192.0.2.1/24 dev " + name_), 0);
  ASSERT_EQ(netns_.Ip("neigh replace 192.0.2.2 lladdr 02:00:00:00:00:02 "
                      "nud permanent dev " +
                      name_),
            0);
  UniqueFd udp;
  {
    auto inside = NetnsEnter::Enter(netns_.name());
    ASSERT_TRUE(inside);
    udp.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  }
  ASSERT_TRUE(udp.valid());
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  ASSERT_EQ(::inet_pton(AF_INET, "192.0.2.2", &to.sin_addr), 1);
  const int segment = 1000;
  ASSERT_EQ(::setsockopt(udp.get(), IPPROTO_UDP, UDP_SEGMENT, &segment,
                         sizeof(segment)),
            0);
  std::vector<uint8_t> payload(10 * 1000 + 300);
  for (size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<uint8_t>(i * 7);
  ASSERT_EQ(::sendto(udp.get(), payload.data(), payload.size(), 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof(to)),
            static_cast<ssize_t>(payload.size()));
  const int no_segments = 0;
  ASSERT_EQ(::setsockopt(udp.get(), IPPROTO_UDP, UDP_SEGMENT, &no_segments,
                         sizeof(no_segments)),
            0);
  ASSERT_EQ(::sendto(udp.get(), payload.data(), 200, 0,
                     reinterpret_cast<sockaddr*>(&to), sizeof(to)),
            200);

  // Only the UDP datagrams to 192.0.2.2 (no ARP: the neighbour is static).
  std::vector<PacketBuffer> buffers(4);  // fewer than the segments: held
  std::vector<std::vector<uint8_t>> datagrams;
  bool held = false;
  while (datagrams.size() < 12 && Readable(device.fd(), 2000)) {
    do {
      auto read = device.ReadFrames(buffers);
      held = held || device.HasHeldFrames();
      ASSERT_TRUE(read) << read.error().message;
      for (size_t i = 0; i < *read; ++i) {
        auto frame = std::as_const(buffers[i]).data();
        if (frame.size() > 42 && frame[23] == IPPROTO_UDP) {
          datagrams.emplace_back(frame.begin(), frame.end());
        }
      }
    } while (device.HasHeldFrames());
  }
  ASSERT_EQ(datagrams.size(), 12u);
  std::vector<uint8_t> carried;
  for (size_t i = 0; i < datagrams.size(); ++i) {
    const auto& frame = datagrams[i];
    const size_t udp_length = size_t{frame[38]} << 8 | frame[39];
    EXPECT_EQ(udp_length, frame.size() - 34) << i;
    EXPECT_LE(frame.size(), 1514u);
    // A complete checksum: the sum over pseudo-header and datagram is
    // 0xffff (naive RFC 1071, independent of the code under test).
    uint32_t sum = 0;
    auto add = [&](uint32_t word) {
      sum += word;
      sum = (sum & 0xffff) + (sum >> 16);
    };
    for (size_t at = 26; at < 34; at += 2) add(frame[at] << 8 | frame[at + 1]);
    add(IPPROTO_UDP);
    add(static_cast<uint32_t>(udp_length));
    for (size_t at = 34; at < frame.size(); at += 2) {
      add(frame[at] << 8 | (at + 1 < frame.size() ? frame[at + 1] : 0));
    }
    EXPECT_EQ(sum, 0xffffu) << "datagram " << i;
    if (i < 11) carried.insert(carried.end(), frame.begin() + 42, frame.end());
  }
  EXPECT_EQ(carried, payload);
  EXPECT_EQ(datagrams.back().size(), 42u + 200);
  EXPECT_EQ(device.TakeUnsendable(), 0u);
  // With USO granted (Linux 6.2+; TUN_F_USO4 is 0x20), the eleven
  // datagrams came as one super-frame, more than four buffers hold.
  if (device.offloads() & 0x20) {
    EXPECT_TRUE(held);
  }
}

// What the fd does after `ip link del` (see linux_tap.h): EPOLLERR on every
// epoll_wait, EBADFD from read/write/ioctl. The daemon must see an error
// from ReadFrames, never a silent 0 that would leave a level-triggered
// EPOLLERR spinning its loop.
TEST_F(LinuxTapTest, DeletedLinkIsAnErrorNotASpin) {
  auto tap = CreateTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  LinuxTap& device = **tap;
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  ASSERT_TRUE(epoll.valid());
  epoll_event watch{};
  watch.events = EPOLLIN;
  watch.data.fd = device.fd();
  ASSERT_EQ(::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, device.fd(), &watch), 0);
  epoll_event event{};
  EXPECT_EQ(::epoll_wait(epoll.get(), &event, 1, 0), 0);  // quiet while alive

  ASSERT_EQ(netns_.Ip("link del dev " + name_), 0);

  // Wakes up with EPOLLERR although only EPOLLIN was asked for...
  ASSERT_EQ(::epoll_wait(epoll.get(), &event, 1, 2000), 1);
  EXPECT_TRUE(event.events & EPOLLERR) << std::hex << event.events;
  // ...and keeps doing so: level-triggered, it never clears.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(::epoll_wait(epoll.get(), &event, 1, 0), 1);
    EXPECT_TRUE(event.events & EPOLLERR);
  }
  pollfd entry{device.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&entry, 1, 0), 1);
  EXPECT_TRUE(entry.revents & POLLERR);

  std::vector<PacketBuffer> buffers(4);
  auto read = device.ReadFrames(buffers);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, EBADFD);
  EXPECT_NE(read.error().message.find(name_), std::string::npos)
      << read.error().message;

  const auto frame = TestFrame(0xe1);
  FramesToWrite frames({frame});
  auto written = device.WriteFrames(frames.pointers);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, EBADFD);

  auto carrier = device.SetCarrier(true);
  ASSERT_FALSE(carrier);
  EXPECT_EQ(carrier.error().code, EBADFD);
  EXPECT_NE(netns_.Ip("link show dev " + name_ + " >/dev/null 2>&1"), 0);

  // The name is free again although the old fd is still open: the daemon
  // can make the interface anew.
  auto again = CreateTap(name_);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_NE((*again)->ifindex(), device.ifindex());
}

// A persistent TAP survives its object (the daemon's restart) and is
// opened again by Attach(): same link, same index, frames flow.
TEST_F(LinuxTapTest, PersistentTapOutlivesTheObjectAndIsAttachedAgain) {
  PersistentLinkGuard guard(netns_, name_);
  auto tap = CreateTap(name_, TapOptions{.persist = true});
  ASSERT_TRUE(tap) << tap.error().message;
  const int index = (*tap)->ifindex();
  // IFF_PERSIST (0x800) next to IFF_TAP|IFF_NO_PI|IFF_VNET_HDR.
  EXPECT_EQ(netns_.Sysfs(name_, "tun_flags"), "0x5802");
  auto links = OpenLinks();
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_TRUE(links->SetMtu(index, 1400));
  tap->reset();
  ASSERT_TRUE(LinkExists(name_));

  auto attached = AttachTap(name_);
  ASSERT_TRUE(attached) << attached.error().message;
  LinuxTap& device = **attached;
  EXPECT_EQ(device.name(), name_);
  EXPECT_EQ(device.ifindex(), index);
  EXPECT_EQ(netns_.Sysfs(name_, "ifindex"), std::to_string(index));
  EXPECT_EQ(netns_.Sysfs(name_, "tun_flags"), "0x5802");
  EXPECT_EQ(netns_.Sysfs(name_, "mtu"), "1400");  // settings kept
  const unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  EXPECT_EQ(device.offloads() & tcp, tcp);
  ASSERT_NO_FATAL_FAILURE(BringUp(device));
  ExpectFramesFlowBothWays(device);

  // Reattached, it is still persistent: closing leaves the link again.
  attached->reset();
  EXPECT_TRUE(LinkExists(name_));
}

// Pins down the carrier across detach and attach. The kernel turns the
// carrier off when the last fd detaches (__tun_detach()) and on again when
// an fd attaches to the existing TAP (TUNSETIFF), as for a new one; so
// Attach() turns it off, as Create() does, and the caller turns it on when
// the interface runs (SPEC 2).
TEST_F(LinuxTapTest, AttachedTapStartsWithCarrierOffAsANewOne) {
  PersistentLinkGuard guard(netns_, name_);
  auto tap = CreateTap(name_, TapOptions{.persist = true});
  ASSERT_TRUE(tap) << tap.error().message;
  ASSERT_NO_FATAL_FAILURE(BringUp(**tap));
  EXPECT_EQ(netns_.Sysfs(name_, "carrier"), "1");
  tap->reset();
  EXPECT_EQ(netns_.Sysfs(name_, "carrier"), "0");

  // The kernel alone: a bare TUNSETIFF on the existing TAP turns the
  // carrier on.
  {
    UniqueFd raw;
    {
      auto inside = NetnsEnter::Enter(netns_.name());
      ASSERT_TRUE(inside);
      raw.reset(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    }
    ASSERT_TRUE(raw.valid());
    struct ifreq request {};
    std::memcpy(request.ifr_name, name_.data(), name_.size());
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    ASSERT_EQ(::ioctl(raw.get(), TUNSETIFF, &request), 0);
    EXPECT_EQ(netns_.Sysfs(name_, "carrier"), "1");
  }
  EXPECT_EQ(netns_.Sysfs(name_, "carrier"), "0");

  auto attached = AttachTap(name_);
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_EQ(netns_.Sysfs(name_, "carrier"), "0");
  EXPECT_TRUE(testing::WaitFor(
      [&] { return netns_.Sysfs(name_, "operstate") == "down"; }));
  ASSERT_TRUE((*attached)->SetCarrier(true));
  EXPECT_EQ(netns_.Sysfs(name_, "carrier"), "1");
}

TEST_F(LinuxTapTest, SetPersistOffThenCloseRemovesTheLink) {
  PersistentLinkGuard guard(netns_, name_);
  auto tap = CreateTap(name_, TapOptions{.persist = true});
  ASSERT_TRUE(tap) << tap.error().message;
  tap->reset();
  auto attached = AttachTap(name_);
  ASSERT_TRUE(attached) << attached.error().message;
  auto done = (*attached)->SetPersist(false);
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(netns_.Sysfs(name_, "tun_flags"), "0x5002");
  EXPECT_TRUE(LinkExists(name_));  // still held
  attached->reset();
  EXPECT_FALSE(LinkExists(name_));

  // And the other way: a TAP made persistent after its creation stays.
  auto later = CreateTap(name_);
  ASSERT_TRUE(later) << later.error().message;
  ASSERT_TRUE((*later)->SetPersist(true));
  later->reset();
  EXPECT_TRUE(LinkExists(name_));
}

TEST_F(LinuxTapTest, AttachRefusesAMissingLinkAndCreatesNothing) {
  auto tap = AttachTap(name_);
  ASSERT_FALSE(tap);
  EXPECT_EQ(tap.error().code, ENODEV);
  EXPECT_NE(tap.error().message.find(name_), std::string::npos)
      << tap.error().message;
  EXPECT_EQ(netns_.ExecOutput("ls /sys/class/net"), "lo");
}

TEST_F(LinuxTapTest, AttachRefusesLinksThatAreNotTaps) {
  const std::string tun = UniqueName("eipu");
  PersistentLinkGuard guard(netns_, tun);
  ASSERT_EQ(netns_.Ip("link add " + name_ + " type veth peer name " +
                      UniqueName("eipp")),
            0);
  ASSERT_EQ(netns_.Ip("tuntap add dev " + tun + " mode tun"), 0);
  for (const std::string& name : {name_, tun, std::string("lo")}) {
    auto tap = AttachTap(name);
    ASSERT_FALSE(tap) << name;
    EXPECT_EQ(tap.error().code, EEXIST) << name;
    EXPECT_NE(tap.error().message.find("not a TAP"), std::string::npos)
        << tap.error().message;
    EXPECT_TRUE(LinkExists(name)) << name;
  }
  EXPECT_EQ(netns_.Sysfs(name_, "type"), "1");  // the veth is untouched
  EXPECT_FALSE(netns_.Sysfs(name_, "tun_flags").has_value());
}

// A single-queue TAP has one fd at most: one held by its creator (ours or
// another program's, persistent or not) cannot be attached.
TEST_F(LinuxTapTest, AttachRefusesATapInUse) {
  PersistentLinkGuard guard(netns_, name_);
  for (bool persist : {false, true}) {
    auto held = CreateTap(name_, TapOptions{.persist = persist});
    ASSERT_TRUE(held) << held.error().message;
    auto tap = AttachTap(name_);
    ASSERT_FALSE(tap) << persist;
    EXPECT_EQ(tap.error().code, EBUSY) << persist;
    EXPECT_NE(tap.error().message.find(name_), std::string::npos)
        << tap.error().message;
    // The holder is undisturbed.
    ASSERT_TRUE((*held)->SetCarrier(true));
    ASSERT_TRUE((*held)->SetPersist(false));
  }
}

// A persistent TAP made by `ip tuntap` (no virtio-net header) is attached
// with the same flags and offloads as one of ours.
TEST_F(LinuxTapTest, AttachesAPersistentTapMadeByIp) {
  PersistentLinkGuard guard(netns_, name_);
  ASSERT_EQ(netns_.Ip("tuntap add dev " + name_ + " mode tap"), 0);
  auto tap = AttachTap(name_);
  ASSERT_TRUE(tap) << tap.error().message;
  EXPECT_EQ(netns_.Sysfs(name_, "tun_flags"), "0x5802");
  EXPECT_EQ(netns_.Sysfs(name_, "ifindex"), std::to_string((*tap)->ifindex()));
  ASSERT_NO_FATAL_FAILURE(BringUp(**tap));
  ExpectFramesFlowBothWays(**tap);
}

TEST_F(LinuxTapTest, SetPersistAfterTheLinkIsDeletedIsEbadfd) {
  PersistentLinkGuard guard(netns_, name_);
  auto tap = CreateTap(name_, TapOptions{.persist = true});
  ASSERT_TRUE(tap) << tap.error().message;
  ASSERT_EQ(netns_.Ip("link del dev " + name_), 0);
  auto done = (*tap)->SetPersist(false);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, EBADFD);
  EXPECT_NE(done.error().message.find(name_), std::string::npos)
      << done.error().message;
}

}  // namespace
}  // namespace etherip

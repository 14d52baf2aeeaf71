// The forwarding loop applying changes to its running data plane: sources
// added, replaced and removed one at a time while the others keep
// forwarding, what is removed released when Apply returns, and held sends
// (back-pressure) across changes. Devices and sockets are in-memory fakes
// with real fds (an eventfd, a socketpair) so that epoll sees them as it
// sees TAPs and raw sockets.
#include "daemon/forwarding_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/core_fixtures.h"

namespace etherip {
namespace {

using testing_support::EtherIpPayload;
using testing_support::Ip;
using testing_support::MakeFrame;
using Bytes = std::vector<uint8_t>;

// Waits up to 5 s for `condition`.
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return condition();
}

// A device whose fd (an eventfd) is readable while frames wait for the
// loop, as a TAP's is.
class PolledDevice : public FrameDevice {
 public:
  PolledDevice() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~PolledDevice() override { close(fd_); }
  int fd() const { return fd_; }

  void Inject(Bytes frame) {
    std::lock_guard lock(mutex_);
    frames_.push_back(std::move(frame));
    Signal();
  }
  // Reads fail (and the fd is readable) until Mend().
  void Break() {
    std::lock_guard lock(mutex_);
    broken_ = true;
    Signal();
  }
  void Mend() {
    std::lock_guard lock(mutex_);
    broken_ = false;
  }
  std::vector<Bytes> Delivered() {
    std::lock_guard lock(mutex_);
    return delivered_;
  }

  Result<size_t> ReadFrames(std::span<PacketBuffer> buffers) override {
    std::lock_guard lock(mutex_);
    if (broken_) return Fail(EIO, "broken");
    size_t n = 0;
    for (; n < buffers.size() && !frames_.empty(); ++n) {
      auto room = buffers[n].ResetForRead();
      std::copy(frames_.front().begin(), frames_.front().end(), room.begin());
      buffers[n].Commit(frames_.front().size());
      frames_.pop_front();
    }
    if (frames_.empty()) {
      uint64_t ignored;
      (void)!read(fd_, &ignored, sizeof ignored);
    }
    return n;
  }
  Result<size_t> WriteFrames(std::span<PacketBuffer* const> frames) override {
    std::lock_guard lock(mutex_);
    for (PacketBuffer* frame : frames) {
      auto data = std::as_const(*frame).data();
      delivered_.emplace_back(data.begin(), data.end());
    }
    return frames.size();
  }

 private:
  void Signal() {
    const uint64_t one = 1;
    (void)!write(fd_, &one, sizeof one);
  }

  const int fd_;
  std::mutex mutex_;
  std::deque<Bytes> frames_;
  std::vector<Bytes> delivered_;
  bool broken_ = false;
};

// An IPv4 socket whose fd is one end of a socketpair: readable while
// packets wait for the loop, and writable unless Block() filled it, as a
// raw socket without room is not.
class PolledSocket : public OuterSocket {
 public:
  struct Sent {
    Bytes payload;
    IpAddress destination;
  };

  PolledSocket() {
    (void)!socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                      ends_.data());
  }
  ~PolledSocket() override {
    close(ends_[0]);
    close(ends_[1]);
  }
  int fd() const { return ends_[0]; }

  // Sends fail with EAGAIN and the fd is not writable, until Room().
  void Block() {
    std::lock_guard lock(mutex_);
    room_ = 0;
    const std::array<uint8_t, 4096> filler{};
    while (write(ends_[0], filler.data(), filler.size()) > 0) {
    }
  }
  // Takes `packets` more; with `writable`, the fd says so (EPOLLOUT).
  void Room(size_t packets, bool writable = true) {
    std::lock_guard lock(mutex_);
    room_ = packets;
    if (!writable) return;
    std::array<uint8_t, 4096> sink;
    while (read(ends_[1], sink.data(), sink.size()) > 0) {
    }
  }
  // As if the peer `source` sent `payload` to `destination`.
  void Arrive(IpAddress source, IpAddress destination, Bytes payload) {
    std::lock_guard lock(mutex_);
    arrivals_.push_back({std::move(payload), source, destination});
    const uint8_t byte = 1;
    (void)!write(ends_[1], &byte, 1);
  }
  std::vector<Sent> sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  size_t refused() {
    std::lock_guard lock(mutex_);
    return refused_;
  }

  Family family() const override { return Family::kIpv4; }
  Result<size_t> Receive(std::span<PacketBuffer> buffers,
                         std::span<InboundAddresses> addresses) override {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (; n < buffers.size() && !arrivals_.empty(); ++n) {
      const Arrival& arrival = arrivals_.front();
      auto room = buffers[n].ResetForRead();
      std::copy(arrival.payload.begin(), arrival.payload.end(), room.begin());
      buffers[n].Commit(arrival.payload.size());
      addresses[n] = {arrival.source, arrival.destination};
      arrivals_.pop_front();
    }
    if (arrivals_.empty()) {
      std::array<uint8_t, 64> sink;
      while (read(ends_[0], sink.data(), sink.size()) > 0) {
      }
    }
    return n;
  }
  SendResult Send(std::span<const OutboundPacket> packets) override {
    std::lock_guard lock(mutex_);
    const size_t n = std::min(room_, packets.size());
    for (size_t i = 0; i < n; ++i) {
      sent_.push_back(
          {Bytes(packets[i].payload.begin(), packets[i].payload.end()),
           packets[i].destination});
    }
    room_ -= n;
    if (n < packets.size()) ++refused_;
    return {n, n < packets.size() ? EAGAIN : 0};
  }

 private:
  struct Arrival {
    Bytes payload;
    IpAddress source;
    IpAddress destination;
  };
  std::array<int, 2> ends_{-1, -1};
  std::mutex mutex_;
  size_t room_ = SIZE_MAX;
  std::deque<Arrival> arrivals_;
  std::vector<Sent> sent_;
  size_t refused_ = 0;
};

constexpr Endpoint kEndpoint{Family::kIpv4, 0};

// Interface `id`: tunnel 192.0.2.1 -> 198.51.100.<id + 10>, and its parts.
struct Interface {
  explicit Interface(InterfaceId id)
      : id(id),
        counters(std::make_shared<InterfaceCounters>()),
        device(std::make_shared<PolledDevice>()) {}

  IpAddress remote() const {
    const std::array<uint8_t, 4> bytes = {198, 51, 100,
                                          static_cast<uint8_t>(id + 10)};
    return IpAddress::V4(bytes);
  }
  PlaneChanges::Interface Change() const {
    ForwardingEntry entry;
    entry.id = id;
    entry.has_tunnel = true;
    entry.up = true;
    entry.tunnel = Tunnel{Ip("192.0.2.1"), remote()};
    return {entry, counters, device, device->fd()};
  }

  InterfaceId id;
  std::shared_ptr<InterfaceCounters> counters;
  std::shared_ptr<PolledDevice> device;
};

// Applies the erasure of one interface (one socket) alone.
void EraseInterface(ForwardingLoop& loop, InterfaceId id) {
  PlaneChanges changes;
  changes.erased_interfaces.push_back(id);
  loop.Apply(std::move(changes));
}

void EraseSocket(ForwardingLoop& loop, Endpoint endpoint) {
  PlaneChanges changes;
  changes.erased_sockets.push_back(endpoint);
  loop.Apply(std::move(changes));
}

PlaneChanges::Socket SocketChange(const std::shared_ptr<PolledSocket>& s) {
  return {kEndpoint, s, s->fd()};
}

// The seed MakeFrame(60, seed) put in a sent packet's source MAC.
uint8_t SeedOf(const PolledSocket::Sent& sent) {
  return sent.payload[kEtherIpHeaderSize + 11];
}

class ForwardingLoopTest : public ::testing::Test {
 protected:
  ForwardingLoopTest() { EXPECT_TRUE(loop_.Start()); }

  // Frames from the devices of `interfaces`, through `socket`.
  void Add(std::initializer_list<const Interface*> interfaces,
           const std::shared_ptr<PolledSocket>& socket = nullptr) {
    PlaneChanges changes;
    for (const Interface* interface : interfaces) {
      changes.interfaces.push_back(interface->Change());
    }
    if (socket) changes.sockets.push_back(SocketChange(socket));
    loop_.Apply(std::move(changes));
  }

  GlobalCounters counters_;
  std::atomic<bool> allow_{true};
  ForwardingLoop loop_{counters_, allow_, nullptr,
                       std::chrono::microseconds(0)};
  std::shared_ptr<PolledSocket> socket_ = std::make_shared<PolledSocket>();
};

TEST_F(ForwardingLoopTest, ForwardsBetweenTheDevicesAndSocketsItWasGiven) {
  Interface a(0), b(1);
  Add({&a, &b}, socket_);
  a.device->Inject(MakeFrame(60, 1));
  b.device->Inject(MakeFrame(60, 2));
  ASSERT_TRUE(Eventually([&] { return socket_->sent().size() == 2; }));
  for (const auto& sent : socket_->sent()) {
    EXPECT_EQ(sent.destination, SeedOf(sent) == 1 ? a.remote() : b.remote());
  }
  // And back: from b's peer to b's device.
  const Bytes frame = MakeFrame(60, 3);
  socket_->Arrive(b.remote(), Ip("192.0.2.1"), EtherIpPayload(frame));
  ASSERT_TRUE(Eventually([&] { return b.device->Delivered().size() == 1; }));
  EXPECT_EQ(b.device->Delivered()[0], frame);
  EXPECT_TRUE(a.device->Delivered().empty());
  EXPECT_EQ(b.counters->Read().ipackets, 1u);
}

TEST_F(ForwardingLoopTest, AnErasedInterfaceIsReleasedWhenApplyReturns) {
  Interface a(0), b(1);
  Add({&a, &b}, socket_);
  std::weak_ptr<PolledDevice> device = a.device;
  std::weak_ptr<InterfaceCounters> counters = a.counters;
  a.device.reset();
  a.counters.reset();
  EraseInterface(loop_, 0);
  // The daemon relies on this: the TAP's fd is closed, its link gone.
  EXPECT_TRUE(device.expired());
  EXPECT_TRUE(counters.expired());

  // The others go on; a new interface takes the id.
  b.device->Inject(MakeFrame(60, 2));
  ASSERT_TRUE(Eventually([&] { return socket_->sent().size() == 1; }));
  Interface c(0);
  Add({&c});
  c.device->Inject(MakeFrame(60, 3));
  ASSERT_TRUE(Eventually([&] { return socket_->sent().size() == 2; }));
  EXPECT_EQ(SeedOf(socket_->sent()[1]), 3);
  EXPECT_EQ(c.counters->Read().opackets, 1u);
}

TEST_F(ForwardingLoopTest, AReplacedDeviceIsReleasedAndTheNewOneIsPolled) {
  Interface a(0);
  Add({&a}, socket_);
  std::weak_ptr<PolledDevice> old = a.device;
  a.device = std::make_shared<PolledDevice>();
  Add({&a});
  EXPECT_TRUE(old.expired());
  a.device->Inject(MakeFrame(60, 4));
  ASSERT_TRUE(Eventually([&] { return socket_->sent().size() == 1; }));
}

TEST_F(ForwardingLoopTest, AReplacedSocketIsReleasedAndTheNewOneCarries) {
  Interface a(0);
  Add({&a}, socket_);
  auto replacement = std::make_shared<PolledSocket>();
  std::weak_ptr<PolledSocket> old = socket_;
  Add({}, replacement);
  socket_.reset();
  EXPECT_TRUE(old.expired());
  a.device->Inject(MakeFrame(60, 5));
  ASSERT_TRUE(Eventually([&] { return replacement->sent().size() == 1; }));
  const Bytes frame = MakeFrame(60, 6);
  replacement->Arrive(a.remote(), Ip("192.0.2.1"), EtherIpPayload(frame));
  ASSERT_TRUE(Eventually([&] { return a.device->Delivered().size() == 1; }));
}

TEST_F(ForwardingLoopTest, AHeldSendGoesOnWhenTheSocketHasRoom) {
  Interface a(0), b(1);
  socket_->Block();
  // Queued before the loop polls a: read in one batch, held together.
  for (uint8_t seed = 1; seed <= 3; ++seed)
    a.device->Inject(MakeFrame(60, seed));
  Add({&a, &b}, socket_);
  ASSERT_TRUE(Eventually([&] { return socket_->refused() > 0; }));
  // While a's frames wait, b's wait in b.
  b.device->Inject(MakeFrame(60, 9));
  socket_->Room(100);
  ASSERT_TRUE(Eventually([&] { return socket_->sent().size() == 4; }));
  const auto sent = socket_->sent();
  for (uint8_t i = 0; i < 3; ++i) EXPECT_EQ(SeedOf(sent[i]), i + 1);
  EXPECT_EQ(SeedOf(sent[3]), 9);
  EXPECT_EQ(a.counters->Read().opackets, 3u);
  EXPECT_EQ(a.counters->Read().oerrors, 0u);
}

TEST_F(ForwardingLoopTest, AHeldSendOfAnErasedInterfaceIsDroppedAndOthersGoOn) {
  Interface a(0), b(1);
  socket_->Block();
  // Queued before the loop polls a: read in one batch, held together.
  for (uint8_t seed = 1; seed <= 3; ++seed)
    a.device->Inject(MakeFrame(60, seed));
  Add({&a, &b}, socket_);
  ASSERT_TRUE(Eventually([&] { return socket_->refused() > 0; }));
  b.device->Inject(MakeFrame(60, 9));
  // Most likely b is parked by now; either way its frame must go.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Room the loop is not told of: only the change can let b go on.
  socket_->Room(100, /*writable=*/false);
  EraseInterface(loop_, 0);
  ASSERT_TRUE(Eventually([&] { return socket_->sent().size() == 1; }));
  EXPECT_EQ(SeedOf(socket_->sent()[0]), 9);
  EXPECT_EQ(a.counters->Read().opackets, 0u);
  EXPECT_EQ(a.counters->Read().oerrors, 0u);
}

TEST_F(ForwardingLoopTest, AHeldSendWhoseSocketIsErasedFailsWithOerrors) {
  Interface a(0);
  socket_->Block();
  a.device->Inject(MakeFrame(60, 1));
  a.device->Inject(MakeFrame(60, 2));
  Add({&a}, socket_);
  ASSERT_TRUE(Eventually([&] { return socket_->refused() > 0; }));
  std::weak_ptr<PolledSocket> old = socket_;
  socket_.reset();
  EraseSocket(loop_, kEndpoint);
  EXPECT_TRUE(old.expired());
  EXPECT_EQ(a.counters->Read().oerrors, 2u);  // SPEC 4: a failed send
  EXPECT_EQ(a.counters->Read().opackets, 0u);
  // Nothing is held any more: a new socket takes a's next frames.
  auto replacement = std::make_shared<PolledSocket>();
  Add({}, replacement);
  a.device->Inject(MakeFrame(60, 3));
  ASSERT_TRUE(Eventually([&] { return replacement->sent().size() == 1; }));
}

TEST_F(ForwardingLoopTest, AFailedDeviceIsReportedAndPolledAgainOnUpsert) {
  Interface a(0);
  Add({&a}, socket_);
  a.device->Break();
  pollfd failure{loop_.failure_fd(), POLLIN, 0};
  ASSERT_EQ(poll(&failure, 1, 5000), 1);
  const auto failures = loop_.TakeFailures();
  EXPECT_EQ(failures.devices, std::vector<InterfaceId>{0});
  EXPECT_TRUE(failures.sockets.empty());
  a.device->Mend();
  a.device->Inject(MakeFrame(60, 1));
  // Not polled meanwhile (a negative, so a short wait).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(socket_->sent().empty());
  Add({&a});
  ASSERT_TRUE(Eventually([&] { return socket_->sent().size() == 1; }));
}

TEST_F(ForwardingLoopTest, SendsEoipKeepalivesAtOnceThenEveryInterval) {
  // An EoIP tunnel (ID 0x123, a keepalive every second) over IPv6, and a
  // standard one that sends none.
  Interface eoip(0), standard(1);
  PlaneChanges::Interface change = eoip.Change();
  change.entry.tunnel = Tunnel{Ip("2001:db8::1"), Ip("2001:db8::2")};
  change.entry.eoip = 0x123;
  change.entry.keepalive = 1;
  auto socket6 = std::make_shared<PolledSocket>();
  PlaneChanges changes;
  changes.interfaces = {change, standard.Change()};
  changes.sockets = {SocketChange(socket_),
                     {Endpoint{Family::kIpv6, 0}, socket6, socket6->fd()}};
  loop_.Apply(std::move(changes));
  ASSERT_TRUE(Eventually([&] { return socket6->sent().size() == 1; }));
  EXPECT_EQ(socket6->sent()[0].payload, (Bytes{0x13, 0x23}));
  EXPECT_EQ(socket6->sent()[0].destination, Ip("2001:db8::2"));
  ASSERT_TRUE(Eventually([&] { return socket6->sent().size() == 2; }));
  // Not frames: nothing counted.
  EXPECT_EQ(counters_.Read(), GlobalCounterValues{});
  EXPECT_EQ(eoip.counters->Read(), InterfaceCounterValues{});
  EXPECT_TRUE(socket_->sent().empty());
  // Down: no more.
  change.entry.up = false;
  PlaneChanges down;
  down.interfaces = {change};
  loop_.Apply(std::move(down));
  const size_t sent = socket6->sent().size();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(socket6->sent().size(), sent);
}

TEST(ForwardingLoop, NotRunningItAppliesInPlaceAndPollsOnceStarted) {
  GlobalCounters counters;
  std::atomic<bool> allow{true};
  ForwardingLoop loop(counters, allow, nullptr, std::chrono::microseconds(0));
  Interface a(0), b(1);
  auto socket = std::make_shared<PolledSocket>();
  PlaneChanges changes;
  changes.interfaces = {a.Change(), b.Change()};
  changes.sockets.push_back(SocketChange(socket));
  loop.Apply(std::move(changes));
  std::weak_ptr<PolledDevice> device = a.device;
  a.device.reset();
  EraseInterface(loop, 0);
  EXPECT_TRUE(device.expired());

  ASSERT_TRUE(loop.Start());
  b.device->Inject(MakeFrame(60, 2));
  ASSERT_TRUE(Eventually([&] { return socket->sent().size() == 1; }));

  loop.Stop();
  std::weak_ptr<PolledSocket> stopped = socket;
  socket.reset();
  EraseSocket(loop, kEndpoint);
  EXPECT_TRUE(stopped.expired());
}

}  // namespace
}  // namespace etherip

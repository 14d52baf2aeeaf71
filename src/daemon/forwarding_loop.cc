#include "daemon/forwarding_loop.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace etherip {
namespace {

// epoll data: the wake eventfd, a device (its InterfaceId) or a socket
// (kSocketTag, its family, its domain). Stable while the source is in the
// plane, so a change touches only the sources it changes.
constexpr uint64_t kWakeToken = UINT64_MAX;
constexpr uint64_t kSocketTag = uint64_t{1} << 40;
constexpr int kMaxEvents = 64;
// Batches read from one source per readiness before the loop moves on, so
// one busy source cannot starve the others.
constexpr int kBatchesPerWake = 4;

uint64_t SocketToken(Endpoint endpoint) {
  return kSocketTag | uint64_t{static_cast<uint8_t>(endpoint.family)} << 32 |
         endpoint.domain;
}
bool IsSocketToken(uint64_t token) { return (token & kSocketTag) != 0; }
Endpoint EndpointOf(uint64_t token) {
  return Endpoint{static_cast<Family>(static_cast<uint8_t>(token >> 32)),
                  static_cast<DomainId>(token)};
}

}  // namespace

ForwardingLoop::ForwardingLoop(GlobalCounters& counters,
                               const std::atomic<bool>& allow,
                               DropObserver* observer,
                               std::chrono::microseconds busy_poll)
    : allow_(allow), forwarder_(counters, observer), busy_poll_(busy_poll) {}

ForwardingLoop::~ForwardingLoop() {
  Stop();
  for (int fd : {epoll_, wake_event_, failure_event_}) {
    if (fd >= 0) close(fd);
  }
}

Status ForwardingLoop::Start() {
  wake_event_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  failure_event_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (wake_event_ < 0 || failure_event_ < 0 || epoll_ < 0) {
    return Fail(errno, fmt::format("forwarding loop: {}", strerror(errno)));
  }
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.u64 = kWakeToken;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_event_, &wake) < 0) {
    return Fail(errno, fmt::format("forwarding loop: {}", strerror(errno)));
  }
  // Sources applied before the start are polled from now on.
  for (InterfaceId id = 0; id < device_polls_.size(); ++id) {
    DevicePoll& poll = device_polls_[id];
    if (poll.polled == Polled::kYes) Watch(id, poll.fd, EPOLLIN, EPOLL_CTL_ADD);
  }
  for (const SocketPoll& poll : socket_polls_) {
    Watch(SocketToken(poll.endpoint), poll.fd, EPOLLIN, EPOLL_CTL_ADD);
  }
  thread_ = std::thread([this] { Run(); });
  return {};
}

void ForwardingLoop::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  const uint64_t one = 1;
  (void)!write(wake_event_, &one, sizeof one);
  thread_.join();
}

void ForwardingLoop::Apply(PlaneChanges changes) {
  Released released;
  std::unique_lock lock(mutex_);
  if (!thread_.joinable() || stopping_) {
    // Not running: apply in place; what is removed goes when this returns.
    ApplyNow(changes, released);
    return;
  }
  pending_.push_back(std::move(changes));
  const uint64_t generation = ++published_generation_;
  const uint64_t one = 1;
  (void)!write(wake_event_, &one, sizeof one);
  adopted_.wait(lock, [&] { return adopted_generation_ >= generation; });
}

ForwardingLoop::Failures ForwardingLoop::TakeFailures() {
  uint64_t ignored;
  (void)!read(failure_event_, &ignored, sizeof ignored);
  std::lock_guard lock(mutex_);
  return std::exchange(failures_, {});
}

void ForwardingLoop::ReportFailure(Token token) {
  {
    std::lock_guard lock(mutex_);
    if (IsSocketToken(token)) {
      failures_.sockets.push_back(EndpointOf(token));
    } else {
      failures_.devices.push_back(static_cast<InterfaceId>(token));
    }
  }
  const uint64_t one = 1;
  (void)!write(failure_event_, &one, sizeof one);
}

void ForwardingLoop::Adopt() {
  uint64_t ignored;
  (void)!read(wake_event_, &ignored, sizeof ignored);
  {
    std::lock_guard lock(mutex_);
    if (adopted_generation_ == published_generation_) return;
    Released released;
    for (PlaneChanges& changes : pending_) ApplyNow(changes, released);
    pending_.clear();
    // What the changes removed (and the fds only it held) goes before the
    // caller is released.
    released.clear();
    adopted_generation_ = published_generation_;
  }
  adopted_.notify_all();
}

void ForwardingLoop::ApplyNow(PlaneChanges& changes, Released& released) {
  for (InterfaceId id : changes.erased_interfaces) EraseInterface(id, released);
  for (auto& change : changes.interfaces) UpsertInterface(change, released);
  for (Endpoint endpoint : changes.erased_sockets) {
    EraseSocket(endpoint, released);
  }
  for (auto& change : changes.sockets) UpsertSocket(change, released);
  if (changes.domain_names) {
    plane_.domain_names = std::move(*changes.domain_names);
  }
  SettleHeld();
}

void ForwardingLoop::EraseInterface(InterfaceId id, Released& released) {
  released.push_back(plane_.table.Erase(id));
  keepalives_.Erase(id);
  if (id >= plane_.devices.size()) return;
  DevicePoll& poll = device_polls_[id];
  if (poll.polled == Polled::kYes) Watch(id, poll.fd, 0, EPOLL_CTL_DEL);
  // parked_ and holding_ may keep naming it: both are checked when used.
  poll = DevicePoll{};
  released.push_back(std::move(plane_.devices[id]));
  plane_.devices[id] = nullptr;
}

void ForwardingLoop::UpsertInterface(PlaneChanges::Interface& change,
                                     Released& released) {
  const InterfaceId id = change.entry.id;
  keepalives_.Upsert(change.entry, Clock::now());
  released.push_back(
      plane_.table.Upsert(change.entry, std::move(change.counters)));
  if (id >= plane_.devices.size()) {
    plane_.devices.resize(id + 1);
    device_polls_.resize(id + 1);
  }
  DevicePoll& poll = device_polls_[id];
  if (plane_.devices[id] == change.device) {
    // The same device: polled again if it had failed.
    if (change.device != nullptr && poll.polled == Polled::kNo) {
      Watch(id, poll.fd, EPOLLIN, EPOLL_CTL_ADD);
      poll.polled = Polled::kYes;
    }
    return;
  }
  if (poll.polled == Polled::kYes) Watch(id, poll.fd, 0, EPOLL_CTL_DEL);
  released.push_back(std::move(plane_.devices[id]));
  plane_.devices[id] = std::move(change.device);
  poll = DevicePoll{change.fd, Polled::kNo};
  if (plane_.devices[id] == nullptr) return;
  Watch(id, poll.fd, EPOLLIN, EPOLL_CTL_ADD);
  poll.polled = Polled::kYes;
  if (HoldsFrames(id)) holding_.push_back(id);
}

void ForwardingLoop::EraseSocket(Endpoint endpoint, Released& released) {
  auto& sockets = plane_.sockets;
  auto it = std::find_if(sockets.begin(), sockets.end(),
                         [&](const auto& at) { return at.first == endpoint; });
  if (it == sockets.end()) return;
  SocketPoll* poll = SocketPollOf(endpoint);
  if (poll->polled == Polled::kYes) {
    Watch(SocketToken(endpoint), poll->fd, 0, EPOLL_CTL_DEL);
  }
  if (waiting_socket_ == endpoint) waiting_socket_.reset();
  *poll = std::move(socket_polls_.back());
  socket_polls_.pop_back();
  released.push_back(std::move(it->second));
  *it = std::move(sockets.back());
  sockets.pop_back();
}

void ForwardingLoop::UpsertSocket(PlaneChanges::Socket& change,
                                  Released& released) {
  const Endpoint endpoint = change.endpoint;
  if (plane_.SocketOf(endpoint) == change.socket.get()) {
    // The same socket: polled again if it had failed.
    SocketPoll* poll = SocketPollOf(endpoint);
    if (poll != nullptr && poll->polled == Polled::kNo) {
      Watch(SocketToken(endpoint), poll->fd, EPOLLIN, EPOLL_CTL_ADD);
      poll->polled = Polled::kYes;
    }
    return;
  }
  EraseSocket(endpoint, released);
  if (change.socket == nullptr) return;
  plane_.sockets.emplace_back(endpoint, std::move(change.socket));
  Watch(SocketToken(endpoint), change.fd, EPOLLIN, EPOLL_CTL_ADD);
  socket_polls_.push_back(SocketPoll{endpoint, change.fd, Polled::kYes});
}

ForwardingLoop::SocketPoll* ForwardingLoop::SocketPollOf(Endpoint endpoint) {
  for (SocketPoll& poll : socket_polls_) {
    if (poll.endpoint == endpoint) return &poll;
  }
  return nullptr;
}

void ForwardingLoop::SettleHeld() {
  // A send held for lack of room goes on in the changed plane (its
  // interface may be gone, its tunnel moved, its socket replaced).
  if (forwarder_.blocked()) {
    if (!forwarder_.ResumeSend(plane_)) {
      // Still no room, maybe on another socket than the one watched.
      if (waiting_socket_ != forwarder_.blocked()) StopWaiting();
      WaitForRoom();
    }
    if (forwarder_.blocked()) return;
  }
  Unblocked();
}

void ForwardingLoop::Watch(Token token, int fd, uint32_t events, int op) {
  if (epoll_ < 0) return;  // not started: Start registers what is there
  epoll_event event{};
  event.events = events;
  event.data.u64 = token;
  if (epoll_ctl(epoll_, op, fd, &event) < 0 && op != EPOLL_CTL_DEL) {
    spdlog::warn("forwarding: cannot poll fd {}: {}", fd, strerror(errno));
  }
}

void ForwardingLoop::WaitForRoom() {
  const auto endpoint = forwarder_.blocked();
  if (!endpoint || waiting_socket_) return;
  const SocketPoll* poll = SocketPollOf(*endpoint);
  if (poll == nullptr) {
    // The socket is gone from the plane: what was held fails to send now
    // (oerrors) rather than wait for a socket nobody watches.
    (void)forwarder_.ResumeSend(plane_);
    return;
  }
  // A failed socket is replaced by the control thread (Failures); that
  // change resumes the send.
  if (poll->polled != Polled::kYes) return;
  Watch(SocketToken(*endpoint), poll->fd, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
  waiting_socket_ = *endpoint;
}

void ForwardingLoop::StopWaiting() {
  if (!waiting_socket_) return;
  if (const SocketPoll* poll = SocketPollOf(*waiting_socket_);
      poll != nullptr && poll->polled == Polled::kYes) {
    Watch(SocketToken(*waiting_socket_), poll->fd, EPOLLIN, EPOLL_CTL_MOD);
  }
  waiting_socket_.reset();
}

void ForwardingLoop::ResumeSending() {
  if (!forwarder_.ResumeSend(plane_)) return;  // still no room
  Unblocked();
}

void ForwardingLoop::Unblocked() {
  StopWaiting();
  // Each gets a turn: what it holds inside is not announced by its fd.
  // parked_ may name devices removed (or replaced) since: only those still
  // parked are watched again.
  for (InterfaceId id : parked_) {
    if (id >= device_polls_.size()) continue;
    DevicePoll& poll = device_polls_[id];
    if (poll.polled != Polled::kParked) continue;
    Watch(id, poll.fd, EPOLLIN, EPOLL_CTL_ADD);
    poll.polled = Polled::kYes;
    holding_.push_back(id);
  }
  parked_.clear();
}

void ForwardingLoop::Serve(Token token, uint32_t events) {
  const bool is_device = !IsSocketToken(token);
  const auto id = static_cast<InterfaceId>(token);
  const Endpoint endpoint = is_device ? Endpoint{} : EndpointOf(token);
  // Gone or failed since (holding_ may still name it): not served again.
  Polled* polled = nullptr;
  if (is_device) {
    if (plane_.DeviceOf(id) == nullptr) return;
    polled = &device_polls_[id].polled;
  } else {
    SocketPoll* poll = SocketPollOf(endpoint);
    if (poll == nullptr) return;
    polled = &poll->polled;
  }
  if (*polled == Polled::kNo) return;
  if (!is_device && (events & EPOLLOUT)) ResumeSending();
  if (is_device && forwarder_.blocked()) {
    // Its frames would have nowhere to go: stop watching it until the
    // socket has room (level-triggered, it would wake us for nothing).
    if (*polled == Polled::kYes) {
      Watch(token, device_polls_[id].fd, 0, EPOLL_CTL_DEL);
      *polled = Polled::kParked;
      parked_.push_back(id);
    }
    return;
  }
  const bool allow = allow_.load(std::memory_order_relaxed);
  for (int batch = 0; batch < kBatchesPerWake; ++batch) {
    PumpResult pumped = is_device
                            ? forwarder_.PumpDevice(plane_, id)
                            : forwarder_.PumpSocket(plane_, endpoint, allow);
    const bool hung_up = events & (EPOLLERR | EPOLLHUP);
    if (pumped.source_failed || (hung_up && pumped.packets == 0)) {
      // Never spin on a broken fd: stop polling it and tell the control
      // thread.
      const int fd =
          is_device ? device_polls_[id].fd : SocketPollOf(endpoint)->fd;
      Watch(token, fd, 0, EPOLL_CTL_DEL);
      *polled = Polled::kNo;
      if (!is_device && waiting_socket_ == endpoint) waiting_socket_.reset();
      ReportFailure(token);
      return;
    }
    if (pumped.packets > 0) last_traffic_ = Clock::now();
    if (forwarder_.blocked()) {
      WaitForRoom();
      break;
    }
    if (pumped.packets < Forwarder::kBatch) break;
  }
  if (is_device && !forwarder_.blocked() && HoldsFrames(id)) {
    holding_.push_back(id);
  }
}

bool ForwardingLoop::HoldsFrames(InterfaceId id) const {
  const FrameDevice* device = plane_.DeviceOf(id);
  return device != nullptr && device->HasHeldFrames();
}

int ForwardingLoop::WaitTimeout() const {
  if (!holding_.empty()) return 0;
  int timeout = -1;
  // Adaptive busy polling: right after traffic, poll without sleeping, so
  // the next packet of an exchange finds the thread awake instead of paying
  // a wake-up; once the line has been quiet for busy_poll_, sleep.
  if (busy_poll_.count() != 0 && Clock::now() - last_traffic_ < busy_poll_) {
    return 0;
  }
  // Awake for the next keepalive (rounded up: never early by a fraction).
  if (const auto next = keepalives_.next()) {
    const auto wait =
        std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now());
    timeout = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 60'000));
  }
  return timeout;
}

void ForwardingLoop::SendDueKeepalives() {
  const auto next = keepalives_.next();
  if (!next) return;
  const auto now = Clock::now();
  if (now < *next) return;
  keepalives_.TakeDue(now, due_keepalives_);
  for (InterfaceId id : due_keepalives_) {
    (void)forwarder_.SendKeepalive(plane_, id);
  }
  due_keepalives_.clear();
}

void ForwardingLoop::Run() {
  std::array<epoll_event, kMaxEvents> events;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    const int n = epoll_wait(epoll_, events.data(), kMaxEvents, WaitTimeout());
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("forwarding: epoll_wait: {}", strerror(errno));
      break;
    }
    bool wake = false;
    for (int i = 0; i < n; ++i) {
      const uint64_t token = events[i].data.u64;
      if (token == kWakeToken) {
        wake = true;
        continue;
      }
      Serve(token, events[i].events);
    }
    // Devices that still hold frames: their turn comes after every ready
    // source had one.
    serving_.swap(holding_);
    for (InterfaceId id : serving_) Serve(id, EPOLLIN);
    serving_.clear();
    SendDueKeepalives();
    if (wake) Adopt();
  }
  // Nothing is sent any more. Changes handed over meanwhile are applied
  // here; later ones in place, by Apply.
  std::lock_guard lock(mutex_);
  stopping_ = true;
  forwarder_.DropHeld();
  Released released;
  for (PlaneChanges& changes : pending_) ApplyNow(changes, released);
  pending_.clear();
  released.clear();
  adopted_generation_ = published_generation_;
  adopted_.notify_all();
}

}  // namespace etherip

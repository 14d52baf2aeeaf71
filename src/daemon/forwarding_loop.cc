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

// epoll data: the wake eventfd, or an index into current_->sources.
constexpr uint64_t kWakeToken = UINT64_MAX;
constexpr int kMaxEvents = 64;
// Batches read from one source per readiness before the loop moves on, so
// one busy source cannot starve the others.
constexpr int kBatchesPerWake = 4;

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

void ForwardingLoop::Publish(std::shared_ptr<const PublishedPlane> plane) {
  std::unique_lock lock(mutex_);
  pending_ = std::move(plane);
  const uint64_t generation = ++published_generation_;
  if (!thread_.joinable() || stopping_) {
    // Not running: adopt in place so the old snapshot is released now.
    current_ = std::move(pending_);
    adopted_generation_ = generation;
    return;
  }
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

void ForwardingLoop::ReportFailure(const PollSource& source) {
  {
    std::lock_guard lock(mutex_);
    if (source.kind == PollSource::Kind::kDevice) {
      failures_.devices.push_back(source.interface);
    } else {
      failures_.sockets.push_back(source.endpoint);
    }
  }
  const uint64_t one = 1;
  (void)!write(failure_event_, &one, sizeof one);
}

void ForwardingLoop::Adopt() {
  uint64_t ignored;
  (void)!read(wake_event_, &ignored, sizeof ignored);
  std::shared_ptr<const PublishedPlane> old;
  {
    std::lock_guard lock(mutex_);
    if (adopted_generation_ == published_generation_) return;
    old = std::move(current_);
    current_ = std::move(pending_);
    if (current_) {
      Rearm(*current_);
    } else {
      forwarder_.DropHeld();
    }
    // The old snapshot (and the fds only it holds) goes before the
    // publisher is released.
    old.reset();
    adopted_generation_ = published_generation_;
  }
  adopted_.notify_all();
}

void ForwardingLoop::Rearm(const PublishedPlane& plane) {
  // Rebuild the interest list from scratch: simple, and O(sources) per
  // change, which is a control-plane cost.
  close(epoll_);
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.u64 = kWakeToken;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_event_, &wake);
  parked_.clear();
  holding_.clear();
  waiting_socket_.reset();
  for (size_t i = 0; i < plane.sources.size(); ++i) {
    Watch(i, EPOLLIN, EPOLL_CTL_ADD);
    if (HoldsFrames(i)) holding_.push_back(i);
  }
  // A send held for lack of room goes on in the new plane (its interface
  // may be gone, its tunnel moved).
  if (forwarder_.blocked() && forwarder_.ResumeSend(plane.plane)) return;
  WaitForRoom();
}

void ForwardingLoop::Watch(size_t index, uint32_t events, int op) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = index;
  if (epoll_ctl(epoll_, op, current_->sources[index].fd, &event) < 0 &&
      op != EPOLL_CTL_DEL) {
    spdlog::warn("forwarding: cannot poll fd {}: {}",
                 current_->sources[index].fd, strerror(errno));
  }
}

void ForwardingLoop::WaitForRoom() {
  const auto endpoint = forwarder_.blocked();
  if (!endpoint || waiting_socket_) return;
  for (size_t i = 0; i < current_->sources.size(); ++i) {
    const PollSource& source = current_->sources[i];
    if (source.kind == PollSource::Kind::kSocket &&
        source.endpoint == *endpoint) {
      Watch(i, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
      waiting_socket_ = i;
      return;
    }
  }
  // The socket is gone from the plane: what was held fails to send now
  // (oerrors) rather than wait for a socket nobody watches.
  (void)forwarder_.ResumeSend(current_->plane);
}

void ForwardingLoop::ResumeSending() {
  if (!forwarder_.ResumeSend(current_->plane)) return;  // still no room
  if (waiting_socket_) Watch(*waiting_socket_, EPOLLIN, EPOLL_CTL_MOD);
  waiting_socket_.reset();
  // Each gets a turn: what it holds inside is not announced by its fd.
  for (size_t index : parked_) {
    Watch(index, EPOLLIN, EPOLL_CTL_ADD);
    holding_.push_back(index);
  }
  parked_.clear();
}

void ForwardingLoop::Serve(size_t index, uint32_t events) {
  const PollSource& source = current_->sources[index];
  const bool is_device = source.kind == PollSource::Kind::kDevice;
  if (!is_device && (events & EPOLLOUT)) ResumeSending();
  if (is_device && forwarder_.blocked()) {
    // Its frames would have nowhere to go: stop watching it until the
    // socket has room (level-triggered, it would wake us for nothing).
    if (std::find(parked_.begin(), parked_.end(), index) == parked_.end()) {
      Watch(index, 0, EPOLL_CTL_DEL);
      parked_.push_back(index);
    }
    return;
  }
  const bool allow = allow_.load(std::memory_order_relaxed);
  for (int batch = 0; batch < kBatchesPerWake; ++batch) {
    PumpResult pumped =
        is_device
            ? forwarder_.PumpDevice(current_->plane, source.interface)
            : forwarder_.PumpSocket(current_->plane, source.endpoint, allow);
    const bool hung_up = events & (EPOLLERR | EPOLLHUP);
    if (pumped.source_failed || (hung_up && pumped.packets == 0)) {
      // Never spin on a broken fd: stop polling it and tell the control
      // thread.
      epoll_ctl(epoll_, EPOLL_CTL_DEL, source.fd, nullptr);
      ReportFailure(source);
      return;
    }
    if (pumped.packets > 0) last_traffic_ = Clock::now();
    if (forwarder_.blocked()) {
      WaitForRoom();
      break;
    }
    if (pumped.packets < Forwarder::kBatch) break;
  }
  if (!forwarder_.blocked() && HoldsFrames(index)) holding_.push_back(index);
}

bool ForwardingLoop::HoldsFrames(size_t index) const {
  const PollSource& source = current_->sources[index];
  if (source.kind != PollSource::Kind::kDevice) return false;
  const FrameDevice* device = current_->plane.DeviceOf(source.interface);
  return device != nullptr && device->HasHeldFrames();
}

int ForwardingLoop::WaitTimeout() const {
  if (!holding_.empty()) return 0;
  // Adaptive busy polling: right after traffic, poll without sleeping, so
  // the next packet of an exchange finds the thread awake instead of paying
  // a wake-up; once the line has been quiet for busy_poll_, sleep.
  if (busy_poll_.count() == 0) return -1;
  return Clock::now() - last_traffic_ < busy_poll_ ? 0 : -1;
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
      if (!current_ || token >= current_->sources.size()) continue;
      Serve(token, events[i].events);
    }
    // Devices that still hold frames: their turn comes after every ready
    // source had one.
    if (current_) {
      serving_.swap(holding_);
      for (size_t index : serving_) Serve(index, EPOLLIN);
      serving_.clear();
    }
    if (wake) Adopt();
  }
  // Release the snapshot on this thread's way out; later publications are
  // adopted in place.
  std::lock_guard lock(mutex_);
  stopping_ = true;
  current_.reset();
  adopted_generation_ = published_generation_;
  adopted_.notify_all();
}

}  // namespace etherip

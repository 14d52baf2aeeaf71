#include "daemon/forwarding_loop.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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
                               DropObserver* observer)
    : allow_(allow), forwarder_(counters, observer) {}

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
    if (current_) Rearm(*current_);
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
  for (size_t i = 0; i < plane.sources.size(); ++i) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, plane.sources[i].fd, &event) < 0) {
      spdlog::warn("forwarding: cannot poll fd {}: {}", plane.sources[i].fd,
                   strerror(errno));
    }
  }
}

void ForwardingLoop::Run() {
  std::array<epoll_event, kMaxEvents> events;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    const int n = epoll_wait(epoll_, events.data(), kMaxEvents, -1);
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
      const PollSource& source = current_->sources[token];
      const bool allow = allow_.load(std::memory_order_relaxed);
      for (int batch = 0; batch < kBatchesPerWake; ++batch) {
        PumpResult pumped =
            source.kind == PollSource::Kind::kDevice
                ? forwarder_.PumpDevice(current_->plane, source.interface)
                : forwarder_.PumpSocket(current_->plane, source.endpoint,
                                        allow);
        const bool hung_up = events[i].events & (EPOLLERR | EPOLLHUP);
        if (pumped.source_failed || (hung_up && pumped.packets == 0)) {
          // Never spin on a broken fd: stop polling it and tell the
          // control thread.
          epoll_ctl(epoll_, EPOLL_CTL_DEL, source.fd, nullptr);
          ReportFailure(source);
          break;
        }
        if (pumped.packets < Forwarder::kBatch) break;
      }
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

#include "daemon/device_reaper.h"

#include <algorithm>
#include <utility>

namespace etherip {

DeviceReaper::DeviceReaper(bool background) {
  if (background) thread_ = std::thread([this] { Run(); });
}

DeviceReaper::~DeviceReaper() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeviceReaper::Release(std::shared_ptr<void> device) {
  if (!thread_.joinable()) {
    device.reset();
    return;
  }
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < kMaxQueued; });
    last_busy_ = Clock::now();
    queue_.push_back({std::move(device), last_busy_});
  }
  changed_.notify_all();
}

void DeviceReaper::Busy() {
  std::lock_guard lock(mutex_);
  last_busy_ = Clock::now();
}

void DeviceReaper::Flush() {
  std::unique_lock lock(mutex_);
  flushing_ = true;
  changed_.notify_all();
  changed_.wait(lock, [&] { return queue_.empty() && !dropping_; });
  flushing_ = false;
}

void DeviceReaper::Run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    const bool urgent = stopping_ || flushing_ || queue_.size() >= kMaxQueued;
    const auto due =
        std::min(last_busy_ + kQuiet, queue_.front().released + kMaxDelay);
    if (!urgent && Clock::now() < due) {
      changed_.wait_until(lock, due);
      continue;
    }
    std::shared_ptr<void> device = std::move(queue_.front().device);
    queue_.pop_front();
    dropping_ = true;
    lock.unlock();
    device.reset();
    lock.lock();
    dropping_ = false;
    changed_.notify_all();
  }
}

}  // namespace etherip

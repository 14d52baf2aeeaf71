#include "daemon/device_reaper.h"

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
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(device));
  }
  changed_.notify_all();
}

void DeviceReaper::Flush() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void DeviceReaper::Run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::shared_ptr<void> device = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    device.reset();
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

}  // namespace etherip

// Drops devices on a thread of its own. Removing a Linux TAP (closing its
// last fd) makes the closing thread wait for the kernel's unregister
// (RCU grace periods: ~15 ms per device on the test VM, `ip link del`
// timed in docs/reliability.md), which a control request should not pay.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace etherip {

class DeviceReaper {
 public:
  // `background` false: Release drops at once, on the caller's thread.
  explicit DeviceReaper(bool background);
  ~DeviceReaper();  // drops what is still queued
  DeviceReaper(const DeviceReaper&) = delete;
  DeviceReaper& operator=(const DeviceReaper&) = delete;

  void Release(std::shared_ptr<void> device);
  // Returns once everything released so far is dropped (a name it held is
  // free again).
  void Flush();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<void>> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace etherip

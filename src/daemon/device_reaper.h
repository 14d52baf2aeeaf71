// Drops devices on a thread of its own, when the control plane is quiet.
// Removing a Linux TAP (closing its last fd) makes the closing thread wait
// for the kernel's unregister, RCU grace periods under the RTNL lock:
// ~15 ms per device on an idle machine, hundreds of ms with 10 000 busy
// links (docs/reliability.md), and every link change or new TAP waits for
// the lock meanwhile. So a removal is not paid by the request that asked
// for it, and waits until no request has arrived for kQuiet, but never
// longer than kMaxDelay: under steady churn devices still go (scripts/soak
// found 1024 fds held after 10 minutes of churn without that bound).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace etherip {

class DeviceReaper {
 public:
  static constexpr auto kQuiet = std::chrono::milliseconds(200);
  static constexpr auto kMaxDelay = std::chrono::seconds(1);
  // Past this many queued devices, removal starts even while busy, and
  // Release waits for room: devices released faster than the kernel
  // removes them (~20-50 ms each) would otherwise pile up without bound.
  static constexpr size_t kMaxQueued = 64;

  // `background` false: Release drops at once, on the caller's thread.
  explicit DeviceReaper(bool background);
  ~DeviceReaper();  // drops what is still queued
  DeviceReaper(const DeviceReaper&) = delete;
  DeviceReaper& operator=(const DeviceReaper&) = delete;

  // Queues `device`; waits while kMaxQueued are queued already.
  void Release(std::shared_ptr<void> device);
  // A request is being served: removals wait for the next quiet moment.
  void Busy();
  // Returns once everything released so far is dropped (a name it held is
  // free again).
  void Flush();

 private:
  using Clock = std::chrono::steady_clock;
  void Run();

  std::mutex mutex_;
  std::condition_variable changed_;
  struct Queued {
    std::shared_ptr<void> device;
    Clock::time_point released;
  };
  std::deque<Queued> queue_;
  Clock::time_point last_busy_{};
  bool flushing_ = false;
  bool dropping_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace etherip

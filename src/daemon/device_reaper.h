// Drops devices on a thread of its own, when the control plane is quiet.
// Removing a Linux TAP (closing its last fd) makes the closing thread wait
// for the kernel's unregister, RCU grace periods under the RTNL lock:
// ~15 ms per device on an idle machine, hundreds of ms with 10 000 busy
// links (docs/reliability.md), and every link change or new TAP waits for
// the lock meanwhile. So a removal is neither paid by the request that
// asked for it nor run while requests keep coming: it waits until no
// request has arrived for kQuiet.
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
  // Past this many queued devices, removal starts even while busy.
  static constexpr size_t kMaxQueued = 1024;

  // `background` false: Release drops at once, on the caller's thread.
  explicit DeviceReaper(bool background);
  ~DeviceReaper();  // drops what is still queued
  DeviceReaper(const DeviceReaper&) = delete;
  DeviceReaper& operator=(const DeviceReaper&) = delete;

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
  std::deque<std::shared_ptr<void>> queue_;
  Clock::time_point last_busy_{};
  bool flushing_ = false;
  bool dropping_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace etherip

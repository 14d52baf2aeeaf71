// The forwarding thread: an epoll loop over the TAP devices and outer
// sockets of the current data plane. It never waits on the control plane:
// the control thread publishes a new immutable snapshot on every change and
// the loop adopts it between batches.
//
// Back-pressure: when a socket has no room (EAGAIN), the forwarder holds
// the rest of its batch; the loop then watches that socket for EPOLLOUT
// and stops watching each device that becomes readable (parked) until the
// held packets are sent, so frames wait in the TAP queues instead of being
// dropped here.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/counters.h"
#include "engine/data_plane.h"
#include "engine/forwarder.h"

namespace etherip {

// One pollable source of the data plane.
struct PollSource {
  enum class Kind : uint8_t { kDevice, kSocket };
  int fd = -1;
  Kind kind = Kind::kDevice;
  InterfaceId interface = 0;  // kDevice
  Endpoint endpoint{};        // kSocket
};

struct PublishedPlane {
  DataPlane plane;
  std::vector<PollSource> sources;
};

class ForwardingLoop {
 public:
  // busy_poll: how long after the last packet the loop keeps polling
  // without sleeping (0: always sleep when idle).
  ForwardingLoop(GlobalCounters& counters, const std::atomic<bool>& allow,
                 DropObserver* observer, std::chrono::microseconds busy_poll);
  ~ForwardingLoop();  // stops the thread
  ForwardingLoop(const ForwardingLoop&) = delete;
  ForwardingLoop& operator=(const ForwardingLoop&) = delete;

  Status Start();
  void Stop();

  // Hands over a new snapshot and waits until the loop has adopted it, so
  // that the caller may rely on the old one being released (a destroyed
  // TAP's fd closed) when this returns.
  void Publish(std::shared_ptr<const PublishedPlane> plane);

  // Sources the loop stopped polling because they failed: devices (e.g.
  // their link was deleted behind the daemon's back) and sockets.
  struct Failures {
    std::vector<InterfaceId> devices;
    std::vector<Endpoint> sockets;
  };
  // Readable while failures are pending; TakeFailures clears it.
  int failure_fd() const { return failure_event_; }
  Failures TakeFailures();

 private:
  void Run();
  void Adopt();
  void Rearm(const PublishedPlane& plane);
  void ReportFailure(const PollSource& source);
  // Handles readiness of current_->sources[index].
  void Serve(size_t index, uint32_t events);
  // epoll_ctl for current_->sources[index].
  void Watch(size_t index, uint32_t events, int op);
  // Watches the socket a held send waits for.
  void WaitForRoom();
  // Sends what is held; once all is gone, watches parked devices again.
  void ResumeSending();
  // Whether current_->sources[index] is a device holding frames its fd
  // does not announce (the rest of a super-frame).
  bool HoldsFrames(size_t index) const;
  int WaitTimeout() const;

  using Clock = std::chrono::steady_clock;

  const std::atomic<bool>& allow_;
  Forwarder forwarder_;
  int epoll_ = -1;
  int wake_event_ = -1;     // the control thread publishes or stops
  int failure_event_ = -1;  // the loop reports failed devices

  std::mutex mutex_;
  std::condition_variable adopted_;
  std::shared_ptr<const PublishedPlane> pending_;
  uint64_t published_generation_ = 0;
  uint64_t adopted_generation_ = 0;
  bool stopping_ = false;
  Failures failures_;

  std::shared_ptr<const PublishedPlane> current_;  // loop thread only
  // Loop thread only: back-pressure and busy polling.
  std::vector<size_t> parked_;  // devices not watched meanwhile
  // Devices holding frames their fd does not announce (the rest of a
  // super-frame): served again on the next turn without waiting.
  std::vector<size_t> holding_;
  std::vector<size_t> serving_;           // holding_ of the turn being served
  std::optional<size_t> waiting_socket_;  // watched for EPOLLOUT
  const std::chrono::microseconds busy_poll_;
  Clock::time_point last_traffic_{};
  std::thread thread_;
};

}  // namespace etherip

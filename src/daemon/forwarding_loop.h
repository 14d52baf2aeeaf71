// The forwarding thread: an epoll loop over the TAP devices and outer
// sockets of its data plane. It never waits on the control plane: the
// control thread hands over what changed (PlaneChanges) and the loop applies
// it to its own plane between batches, touching only what changed (the
// table entry, the device or socket, its epoll registration): a change
// costs O(1) in the number of tunnels.
//
// Keepalives: the loop sends each running EoIP tunnel's keepalive when it
// is due (KeepaliveSchedule), between batches, waking up for it when idle.
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
#include <string>
#include <thread>
#include <vector>

#include "core/counters.h"
#include "engine/data_plane.h"
#include "engine/forwarder.h"
#include "engine/keepalive_schedule.h"
#include "engine/plane_changes.h"

namespace etherip {

class ForwardingLoop : public PlanePublisher {
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

  // Hands the changes to the loop and waits until it has applied them and
  // released what they removed (a destroyed TAP's fd is closed when this
  // returns). A loop that is not running applies them on the calling
  // thread. Each change costs O(1) in the number of interfaces: the table
  // entry, the device or socket and its epoll registration.
  //
  // A send held for lack of room then goes on in the changed plane: held
  // frames of an interface that is gone (or whose id is now another
  // interface's) are dropped; if their socket is gone they fail to send
  // (oerrors, SPEC 4); if it was replaced, the new one is waited for.
  // Upserting an interface whose device the loop stopped polling after a
  // failure (Failures) polls it again.
  void Apply(PlaneChanges changes) override;

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
  // How epoll knows a source: its epoll_event data (stable while the source
  // is in the plane, whatever else changes).
  using Token = uint64_t;
  // Where the loop stands with a source's fd.
  enum class Polled : uint8_t {
    kNo,      // not registered: none, or it failed (reported)
    kYes,     // registered
    kParked,  // a device, deregistered until a held send is gone
  };
  struct DevicePoll {
    int fd = -1;
    Polled polled = Polled::kNo;
  };
  struct SocketPoll {
    Endpoint endpoint;
    int fd = -1;
    Polled polled = Polled::kNo;
  };

  // What a change removed (devices, sockets, counters), kept until the
  // change is complete and then dropped before Apply returns.
  using Released = std::vector<std::shared_ptr<const void>>;

  void Run();
  // Applies what was handed over (loop thread).
  void Adopt();
  // Applies one change set to plane_ and epoll; what it removes goes to
  // `released`.
  void ApplyNow(PlaneChanges& changes, Released& released);
  void EraseInterface(InterfaceId id, Released& released);
  void UpsertInterface(PlaneChanges::Interface& change, Released& released);
  void EraseSocket(Endpoint endpoint, Released& released);
  void UpsertSocket(PlaneChanges::Socket& change, Released& released);
  // After a change: what is held goes on in the changed plane.
  void SettleHeld();
  void ReportFailure(Token token);
  // Handles readiness of the source `token`.
  void Serve(Token token, uint32_t events);
  // epoll_ctl for one source (nothing before Start).
  void Watch(Token token, int fd, uint32_t events, int op);
  SocketPoll* SocketPollOf(Endpoint endpoint);
  // Watches the socket a held send waits for.
  void WaitForRoom();
  // Stops watching the waited-for socket for EPOLLOUT.
  void StopWaiting();
  // Sends what is held; once all is gone, watches parked devices again.
  void ResumeSending();
  // Nothing is held any more: watch parked devices again.
  void Unblocked();
  // Whether device `id` holds frames its fd does not announce (the rest of
  // a super-frame).
  bool HoldsFrames(InterfaceId id) const;
  int WaitTimeout() const;
  // Sends the EoIP keepalives that are due (between batches).
  void SendDueKeepalives();

  using Clock = std::chrono::steady_clock;

  const std::atomic<bool>& allow_;
  Forwarder forwarder_;
  int epoll_ = -1;
  int wake_event_ = -1;     // the control thread hands over or stops
  int failure_event_ = -1;  // the loop reports failed devices

  std::mutex mutex_;
  std::condition_variable adopted_;
  std::vector<PlaneChanges> pending_;
  uint64_t published_generation_ = 0;
  uint64_t adopted_generation_ = 0;
  bool stopping_ = false;
  Failures failures_;

  // The loop thread's while it runs; the caller's of Apply otherwise.
  DataPlane plane_;
  std::vector<DevicePoll> device_polls_;  // by InterfaceId
  std::vector<SocketPoll> socket_polls_;  // one per plane_.sockets entry
  // Loop thread only: back-pressure and busy polling.
  std::vector<InterfaceId> parked_;  // devices not watched meanwhile
  // Devices holding frames their fd does not announce (the rest of a
  // super-frame): served again on the next turn without waiting.
  std::vector<InterfaceId> holding_;
  std::vector<InterfaceId> serving_;        // holding_ of the turn served
  std::optional<Endpoint> waiting_socket_;  // watched for EPOLLOUT
  const std::chrono::microseconds busy_poll_;
  Clock::time_point last_traffic_{};
  // EoIP keepalives: when each tunnel sends its next one. The loop sleeps
  // no longer than until the first is due (epoll_wait's timeout): no timer
  // fd, no other thread.
  KeepaliveSchedule keepalives_;
  std::vector<InterfaceId> due_keepalives_;
  std::thread thread_;
};

}  // namespace etherip

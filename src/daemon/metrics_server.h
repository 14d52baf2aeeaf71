// The metrics listener (`metrics = "HOST:PORT"`, SPEC 8): GET /metrics
// answers the Prometheus text of metrics_text.h, from its own thread, with
// cpp-httplib. Counters are read as they are (relaxed atomics, no lock the
// forwarding thread ever takes); the interface list is a snapshot the
// control thread publishes.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "control/listen_address.h"
#include "core/counters.h"
#include "core/error.h"
#include "daemon/counter_source.h"

namespace httplib {
class Server;
}

namespace etherip {

class MetricsServer {
 public:
  // Binds and listens on `address` (at start, with the privileges a low
  // port needs); nothing is served before Start. EADDRINUSE and the like
  // name the address.
  static Result<std::unique_ptr<MetricsServer>> Bind(
      const control::ListenAddress& address);
  ~MetricsServer();  // stops serving and joins the thread

  // Serves from a thread of its own. `counters` and `allow` must outlive
  // this object.
  void Start(const GlobalCounters& counters, const std::atomic<bool>& allow);
  // The interfaces later scrapes report.
  void Publish(std::vector<InterfaceCounterSource> interfaces);
  // The port bound (the one asked for, or the kernel's choice for 0).
  int port() const { return port_; }

 private:
  MetricsServer();
  std::shared_ptr<const std::vector<InterfaceCounterSource>> Snapshot();

  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;  // guards interfaces_
  std::shared_ptr<const std::vector<InterfaceCounterSource>> interfaces_;
};

}  // namespace etherip

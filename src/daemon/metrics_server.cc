#include "daemon/metrics_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "daemon/metrics_text.h"

namespace etherip {

MetricsServer::MetricsServer()
    : server_(std::make_unique<httplib::Server>()),
      interfaces_(std::make_shared<std::vector<InterfaceCounterSource>>()) {}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Bind(
    const control::ListenAddress& address) {
  std::unique_ptr<MetricsServer> metrics(new MetricsServer());
  httplib::Server& server = *metrics->server_;
  // One worker: a scrape is cheap, and the daemon's threads stay few. Each
  // connection answers one request and closes, with short timeouts, so no
  // client holds the worker.
  server.new_task_queue = [] { return new httplib::ThreadPool(1); };
  server.set_keep_alive_max_count(1);
  server.set_read_timeout(2, 0);
  server.set_write_timeout(2, 0);
  server.set_payload_max_length(4096);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let
  // a second daemon share the port instead of failing to start.
  server.set_socket_options([](int socket) {
    const int on = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  });
  const std::string host = address.host.ToString();
  errno = 0;
  if (!server.bind_to_port(host, address.port)) {
    const int error = errno != 0 ? errno : EADDRNOTAVAIL;
    return Fail(error, fmt::format("metrics {}:{}: cannot listen: {}",
                                   address.host.family() == Family::kIpv6
                                       ? fmt::format("[{}]", host)
                                       : host,
                                   address.port, std::strerror(error)));
  }
  metrics->port_ = address.port;
  return metrics;
}

std::shared_ptr<const std::vector<InterfaceCounterSource>>
MetricsServer::Snapshot() {
  std::lock_guard lock(mutex_);
  return interfaces_;
}

void MetricsServer::Publish(std::vector<InterfaceCounterSource> interfaces) {
  auto snapshot = std::make_shared<const std::vector<InterfaceCounterSource>>(
      std::move(interfaces));
  std::lock_guard lock(mutex_);
  interfaces_ = std::move(snapshot);
}

void MetricsServer::Start(const GlobalCounters& counters,
                          const std::atomic<bool>& allow) {
  server_->Get("/metrics", [this, &counters, &allow](const httplib::Request&,
                                                     httplib::Response& res) {
    const auto interfaces = Snapshot();
    res.set_content(RenderMetrics(counters.Read(), allow.load(), *interfaces),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

}  // namespace etherip

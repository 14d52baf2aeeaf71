// Tells the service manager (systemd, Type=notify) where the daemon is in
// its life: ready, reloading, stopping, and a one-line status. Through
// libsystemd's sd_notify, which does nothing when the daemon was not
// started with $NOTIFY_SOCKET (not under systemd, or not Type=notify).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>

namespace etherip {

// How many interfaces the daemon has, and how many of them are running.
struct InterfaceTally {
  size_t interfaces = 0;
  size_t running = 0;
};

// "3 interfaces, 2 running": the STATUS= line.
std::string StatusText(const InterfaceTally& tally);

class ServiceNotifier {
 public:
  // Whether a service manager listens ($NOTIFY_SOCKET is set), so callers
  // can skip computing what nobody will read.
  bool active() const { return active_; }
  // Serving requests: READY=1 with the status.
  void Ready(const InterfaceTally& tally);
  // A reload begins (RELOADING=1) or has ended, applied or refused
  // (READY=1, with the status and, if refused, why).
  void Reloading();
  void Reloaded(const InterfaceTally& tally, std::string_view refusal = {});
  // The status, when it differs from the last one sent.
  void Status(const InterfaceTally& tally);
  // Removing interfaces and exiting: STOPPING=1.
  void Stopping();

 private:
  void Send(const std::string& state);
  bool active_ = std::getenv("NOTIFY_SOCKET") != nullptr;
  std::string last_status_;
};

}  // namespace etherip

#include "daemon/service_notifier.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstring>

namespace etherip {

std::string StatusText(const InterfaceTally& tally) {
  return fmt::format("{} interface{}, {} running", tally.interfaces,
                     tally.interfaces == 1 ? "" : "s", tally.running);
}

void ServiceNotifier::Send(const std::string& state) {
  // 0 = no $NOTIFY_SOCKET: nobody to tell. A failure costs the service
  // manager's view, never the daemon's work: log it only.
  if (const int sent = sd_notify(0, state.c_str()); sent < 0) {
    spdlog::warn("sd_notify: {}", std::strerror(-sent));
  }
}

void ServiceNotifier::Ready(const InterfaceTally& tally) {
  last_status_ = StatusText(tally);
  Send(fmt::format("READY=1\nSTATUS={}", last_status_));
}

void ServiceNotifier::Reloading() { Send("RELOADING=1"); }

void ServiceNotifier::Reloaded(const InterfaceTally& tally,
                               std::string_view refusal) {
  last_status_ = StatusText(tally);
  if (refusal.empty()) {
    Send(fmt::format("READY=1\nSTATUS={}", last_status_));
  } else {
    // STATUS is one line: the refusal's first.
    const std::string_view first = refusal.substr(0, refusal.find('\n'));
    Send(fmt::format("READY=1\nSTATUS={}; last reload refused: {}",
                     last_status_, first));
  }
}

void ServiceNotifier::Status(const InterfaceTally& tally) {
  std::string status = StatusText(tally);
  if (status == last_status_) return;
  last_status_ = std::move(status);
  Send(fmt::format("STATUS={}", last_status_));
}

void ServiceNotifier::Stopping() { Send("STOPPING=1"); }

}  // namespace etherip

// Logs why received packets are dropped, at most once per reason per
// interval, with the number dropped since the last line. Called on the
// forwarding path: the common case is one clock read and a compare.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "engine/forwarder.h"

namespace etherip {

class DropLogger : public DropObserver {
 public:
  explicit DropLogger(
      std::chrono::steady_clock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}

  void OnReceiveDrop(ReceiveDrop reason, const DataPlane& plane,
                     Endpoint where) override;

 private:
  struct Slot {
    uint64_t suppressed = 0;
    std::chrono::steady_clock::time_point last{};
    bool logged_once = false;
  };
  std::chrono::steady_clock::duration interval_;
  std::array<Slot, 4> slots_{};
};

}  // namespace etherip

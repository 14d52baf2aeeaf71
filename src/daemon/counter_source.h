// One interface as the metrics listener reads it: a snapshot of its name
// and state, and its live counters.
#pragma once

#include <memory>
#include <string>

#include "core/counters.h"

namespace etherip {

struct InterfaceCounterSource {
  std::string name;
  bool running = false;
  // Shared with the forwarding thread: read while it writes (relaxed
  // atomics), and still valid after the interface is gone.
  std::shared_ptr<const InterfaceCounters> counters;
};

}  // namespace etherip

// When each EoIP tunnel sends its next keepalive (SPEC 8, "EoIP"): a
// tunnel with `keepalive` N > 0 that is up with a tunnel sends one at once,
// then one every N seconds. Times are given, never read, so tests drive it.
//
// The forwarding loop keeps one beside its data plane, changed with it (one
// Upsert or Erase per changed interface: O(log n) in the EoIP tunnels, and
// nothing for standard ones), and asks it for what is due between batches.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "core/forwarding_table.h"

namespace etherip {

class KeepaliveSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  // Follows interface entry.id as the plane now has it. One that sends
  // keepalives (eoip, keepalive > 0, up, with a tunnel) is due at `now`
  // when it did not send them before or its interval changed; otherwise
  // its time is kept. Any other is dropped from the schedule.
  void Upsert(const ForwardingEntry& entry, Clock::time_point now);
  // The interface is gone (its id may come back as another one).
  void Erase(InterfaceId id);

  // Appends to `due` the interfaces whose keepalive is due at `now`, and
  // schedules each one interval later (after `now` if the loop was late, so
  // a stall never causes a burst).
  void TakeDue(Clock::time_point now, std::vector<InterfaceId>& due);

  // When TakeDue may next have something (it may then have nothing: a
  // tunnel changed since); nullopt when no tunnel sends keepalives.
  std::optional<Clock::time_point> next() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.top().at;
  }
  // How many interfaces send keepalives.
  size_t size() const { return active_; }

 private:
  struct State {
    bool active = false;
    Clock::duration interval{};
    uint64_t generation = 0;  // bumped by every change of its schedule
  };
  struct Due {
    Clock::time_point at;
    InterfaceId id;
    uint64_t generation;  // stale when not the interface's any more
    friend bool operator>(const Due& a, const Due& b) { return a.at > b.at; }
  };
  void Deactivate(InterfaceId id);

  std::vector<State> states_;  // by InterfaceId
  std::priority_queue<Due, std::vector<Due>, std::greater<>> heap_;
  size_t active_ = 0;
};

}  // namespace etherip

#include "engine/keepalive_schedule.h"

namespace etherip {

void KeepaliveSchedule::Upsert(const ForwardingEntry& entry,
                               Clock::time_point now) {
  const bool sends = entry.eoip.has_value() && entry.keepalive > 0 &&
                     entry.up && entry.has_tunnel;
  if (!sends) {
    Deactivate(entry.id);
    return;
  }
  if (entry.id >= states_.size()) states_.resize(entry.id + 1);
  State& state = states_[entry.id];
  const Clock::duration interval = std::chrono::seconds(entry.keepalive);
  if (state.active && state.interval == interval) return;  // on its way
  if (!state.active) ++active_;
  state.active = true;
  state.interval = interval;
  ++state.generation;
  heap_.push(Due{now, entry.id, state.generation});
}

void KeepaliveSchedule::Erase(InterfaceId id) { Deactivate(id); }

void KeepaliveSchedule::Deactivate(InterfaceId id) {
  if (id >= states_.size() || !states_[id].active) return;
  State& state = states_[id];
  state.active = false;
  ++state.generation;  // what the heap holds for it is stale
  --active_;
  // A schedule that is empty forgets its stale times at once, so an idle
  // loop does not wake up for them.
  if (active_ == 0) heap_ = {};
}

void KeepaliveSchedule::TakeDue(Clock::time_point now,
                                std::vector<InterfaceId>& due) {
  while (!heap_.empty() && heap_.top().at <= now) {
    Due top = heap_.top();
    heap_.pop();
    const State& state = states_[top.id];
    if (!state.active || state.generation != top.generation) continue;
    due.push_back(top.id);
    top.at += state.interval;
    if (top.at <= now) top.at = now + state.interval;
    heap_.push(top);
  }
}

}  // namespace etherip

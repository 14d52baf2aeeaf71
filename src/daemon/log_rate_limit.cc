#include "daemon/log_rate_limit.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace etherip {

std::string HeldBackNote(uint64_t lines) {
  return lines == 0 ? std::string()
                    : fmt::format(" ({} similar lines not logged)", lines);
}

std::optional<uint64_t> LogRateLimit::Admit(Clock::time_point now) {
  if (refilled_ == Clock::time_point{}) refilled_ = now;
  if (tokens_ < burst_ && now >= refilled_ + interval_) {
    const auto periods = (now - refilled_) / interval_;
    tokens_ = static_cast<uint32_t>(
        std::min<int64_t>(burst_, tokens_ + static_cast<int64_t>(periods)));
    refilled_ += periods * interval_;
  }
  if (tokens_ == burst_) refilled_ = now;  // a full bucket does not bank time
  if (tokens_ == 0) {
    ++held_back_;
    return std::nullopt;
  }
  --tokens_;
  return std::exchange(held_back_, 0);
}

}  // namespace etherip

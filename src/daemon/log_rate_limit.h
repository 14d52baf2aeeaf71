// Log lines a client can cause (refused requests, bad requests) come in
// bursts of at most `burst`, then one per `interval`: a client that sends
// refused requests as fast as it can cannot fill the disk or crowd out the
// other lines. What is held back is counted, and the next line let through
// says how many.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace etherip {

class LogRateLimit {
 public:
  using Clock = std::chrono::steady_clock;

  LogRateLimit(uint32_t burst, Clock::duration interval)
      : burst_(burst), interval_(interval), tokens_(burst) {}

  // nullopt: hold this line back. Otherwise log it, and with it the number
  // of lines held back since the last one let through (0: none).
  std::optional<uint64_t> Admit(Clock::time_point now = Clock::now());

 private:
  uint32_t burst_;
  Clock::duration interval_;
  uint32_t tokens_;
  Clock::time_point refilled_{};  // when the last token was added
  uint64_t held_back_ = 0;
};

// " (N similar lines not logged)" to end the line let through, "" for 0.
std::string HeldBackNote(uint64_t lines);

}  // namespace etherip

// Ethernet MAC addresses: parse, print, and the random locally administered
// unicast address a new interface gets.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "core/error.h"

namespace etherip {

class MacAddress {
 public:
  MacAddress() = default;
  explicit MacAddress(const std::array<uint8_t, 6>& bytes) : bytes_(bytes) {}

  // "fe:e1:ba:d0:00:01" (also '-' separated; hex digits in either case).
  static Result<MacAddress> Parse(std::string_view text);
  // Locally administered (bit 1 of byte 0 set), unicast (bit 0 clear).
  static MacAddress RandomLocal(std::mt19937_64& random);

  const std::array<uint8_t, 6>& bytes() const { return bytes_; }
  bool is_multicast() const { return bytes_[0] & 0x01; }
  bool is_zero() const;
  std::string ToString() const;  // lower case, ':' separated

  friend bool operator==(const MacAddress&, const MacAddress&) = default;

 private:
  std::array<uint8_t, 6> bytes_{};
};

}  // namespace etherip

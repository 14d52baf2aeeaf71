// IPv4 and IPv6 addresses as plain values: parse, print, classify.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace etherip {

enum class Family : uint8_t { kNone = 0, kIpv4 = 4, kIpv6 = 6 };

// "IPv4", "IPv6" or "none", for messages.
constexpr std::string_view FamilyName(Family family) {
  switch (family) {
    case Family::kIpv4:
      return "IPv4";
    case Family::kIpv6:
      return "IPv6";
    case Family::kNone:
      break;
  }
  return "none";
}

class IpAddress {
 public:
  IpAddress() = default;  // family kNone

  static IpAddress V4(std::span<const uint8_t, 4> bytes);
  static IpAddress V6(std::span<const uint8_t, 16> bytes);
  // Accepts IPv4 dotted quads and IPv6 literals (no zone, no prefix).
  static Result<IpAddress> Parse(std::string_view text);

  Family family() const { return family_; }
  // 4 bytes for IPv4, 16 for IPv6, none for kNone.
  std::span<const uint8_t> bytes() const;
  bool is_unspecified() const;
  bool is_multicast() const;
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::kNone;
  std::array<uint8_t, 16> bytes_{};  // IPv4 uses the first 4
};

}  // namespace etherip

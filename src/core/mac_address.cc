#include "core/mac_address.h"

#include <fmt/format.h>

#include <cerrno>

namespace etherip {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<MacAddress> MacAddress::Parse(std::string_view text) {
  auto invalid = [&] {
    return Fail(EINVAL, fmt::format("lladdr {}: not a MAC address", text));
  };
  if (text.size() != 17) return invalid();
  const char separator = text[2];
  if (separator != ':' && separator != '-') return invalid();
  std::array<uint8_t, 6> bytes{};
  for (size_t i = 0; i < 6; ++i) {
    const size_t at = i * 3;
    if (i > 0 && text[at - 1] != separator) return invalid();
    const int high = HexValue(text[at]);
    const int low = HexValue(text[at + 1]);
    if (high < 0 || low < 0) return invalid();
    bytes[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return MacAddress(bytes);
}

MacAddress MacAddress::RandomLocal(std::mt19937_64& random) {
  const uint64_t bits = random();
  std::array<uint8_t, 6> bytes{};
  for (size_t i = 0; i < 6; ++i)
    bytes[i] = static_cast<uint8_t>(bits >> (8 * i));
  bytes[0] = static_cast<uint8_t>((bytes[0] & 0xfc) | 0x02);
  return MacAddress(bytes);
}

bool MacAddress::is_zero() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

std::string MacAddress::ToString() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes_[0],
                     bytes_[1], bytes_[2], bytes_[3], bytes_[4], bytes_[5]);
}

}  // namespace etherip

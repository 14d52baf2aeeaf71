#include "core/ip_address.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

namespace etherip {

IpAddress IpAddress::V4(std::span<const uint8_t, 4> bytes) {
  IpAddress address;
  address.family_ = Family::kIpv4;
  std::copy(bytes.begin(), bytes.end(), address.bytes_.begin());
  return address;
}

IpAddress IpAddress::V6(std::span<const uint8_t, 16> bytes) {
  IpAddress address;
  address.family_ = Family::kIpv6;
  std::copy(bytes.begin(), bytes.end(), address.bytes_.begin());
  return address;
}

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton needs a terminated string; literals are short. An embedded
  // NUL would make inet_pton read only the part before it.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN ||
      text.find('\0') != std::string_view::npos) {
    return Fail(EINVAL, fmt::format("{}: not an IP address", text));
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  std::copy(text.begin(), text.end(), buffer);
  std::array<uint8_t, 16> raw{};
  if (inet_pton(AF_INET, buffer, raw.data()) == 1) {
    return V4(std::span<const uint8_t, 4>(raw.data(), 4));
  }
  if (inet_pton(AF_INET6, buffer, raw.data()) == 1) {
    return V6(raw);
  }
  return Fail(EINVAL, fmt::format("{}: not an IP address", text));
}

std::span<const uint8_t> IpAddress::bytes() const {
  switch (family_) {
    case Family::kIpv4:
      return {bytes_.data(), 4};
    case Family::kIpv6:
      return {bytes_.data(), 16};
    case Family::kNone:
      break;
  }
  return {};
}

bool IpAddress::is_unspecified() const {
  auto b = bytes();
  return std::all_of(b.begin(), b.end(), [](uint8_t v) { return v == 0; });
}

bool IpAddress::is_multicast() const {
  switch (family_) {
    case Family::kIpv4:
      return (bytes_[0] & 0xf0) == 0xe0;  // 224.0.0.0/4
    case Family::kIpv6:
      return bytes_[0] == 0xff;  // ff00::/8
    case Family::kNone:
      break;
  }
  return false;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  switch (family_) {
    case Family::kIpv4:
      inet_ntop(AF_INET, bytes_.data(), buffer, sizeof buffer);
      return buffer;
    case Family::kIpv6:
      inet_ntop(AF_INET6, bytes_.data(), buffer, sizeof buffer);
      return buffer;
    case Family::kNone:
      break;
  }
  return "";
}

}  // namespace etherip

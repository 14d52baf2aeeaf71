#include "core/tunnel_endpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "core/interface_name.h"

namespace etherip {
namespace {

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

// An interface index in decimal: 1..2^32-1 (0 is no interface).
uint32_t IndexOf(std::string_view text) {
  if (!AllDigits(text)) return 0;
  uint32_t index = 0;
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), index);
  if (error != std::errc() || end != text.data() + text.size()) return 0;
  return index;
}

bool IsLabelCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

bool IsLinkLocal(const IpAddress& address) {
  if (address.family() != Family::kIpv6) return false;
  const auto b = address.bytes();
  return b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
}

bool IsHostName(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return false;
  std::string_view last;
  while (true) {
    const size_t dot = text.find('.');
    const std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' ||
        label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), IsLabelCharacter)) {
      return false;
    }
    last = label;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return !AllDigits(last);
}

Result<TunnelEndpoint> TunnelEndpoint::Parse(std::string_view text) {
  const size_t percent = text.find('%');
  if (percent != std::string_view::npos) {
    const std::string_view literal = text.substr(0, percent);
    const std::string_view zone = text.substr(percent + 1);
    auto address = IpAddress::Parse(literal);
    if (!address) {
      return Fail(EINVAL, fmt::format("{} is not an IP literal", text));
    }
    if (!IsLinkLocal(*address)) {
      return Fail(EINVAL, fmt::format("{}: a zone is only for IPv6 link-local "
                                      "addresses (fe80::/10)",
                                      text));
    }
    const bool index = AllDigits(zone);
    if ((index && IndexOf(zone) == 0) ||
        (!index && !ValidateInterfaceName(zone))) {
      return Fail(
          EINVAL,
          fmt::format("{}: the zone is not an interface name or index", text));
    }
    return TunnelEndpoint{*address, std::string(zone), {}};
  }
  if (auto address = IpAddress::Parse(text)) return Literal(*address);
  if (IsHostName(text)) return TunnelEndpoint{{}, {}, std::string(text)};
  return Fail(EINVAL,
              fmt::format("{} is not an IP literal or host name", text));
}

uint32_t TunnelEndpoint::zone_index() const { return IndexOf(zone); }

std::string TunnelEndpoint::ToString() const {
  if (is_name()) return host;
  if (zone.empty()) return address.ToString();
  return fmt::format("{}%{}", address.ToString(), zone);
}

}  // namespace etherip

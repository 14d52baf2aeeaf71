#include "control/listen_address.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>

namespace etherip::control {

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto refuse = [&](std::string_view why) {
    return Fail(EINVAL, fmt::format("{}: {} (expected HOST:PORT, e.g. "
                                    "127.0.0.1:9797 or [::1]:9797)",
                                    text, why));
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return refuse("no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  const bool bracketed =
      host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  auto address = IpAddress::Parse(host);
  if (!address) return refuse("not an IP literal");
  if ((address->family() == Family::kIpv6) != bracketed) {
    return refuse(bracketed ? "only an IPv6 literal goes in brackets"
                            : "an IPv6 literal goes in brackets");
  }
  unsigned port = 0;
  const auto [end, status] = std::from_chars(
      port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || status != std::errc() ||
      end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return refuse("the port is not a number from 1 to 65535");
  }
  return ListenAddress{*address, static_cast<uint16_t>(port)};
}

}  // namespace etherip::control

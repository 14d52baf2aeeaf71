#include "core/interface_name.h"

#include <fmt/format.h>

#include <cerrno>

namespace etherip {

Status ValidateInterfaceName(std::string_view name) {
  auto invalid = [&](std::string_view why) {
    return Fail(EINVAL, fmt::format("invalid interface name ({})", why));
  };
  if (name.empty()) return invalid("empty");
  if (name.size() > kMaxInterfaceNameLength) {
    return invalid("longer than 15 bytes");
  }
  if (name == "." || name == "..") return invalid("reserved");
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == ':' || c == '%') return invalid("forbidden character");
    if (u <= 0x20 || u == 0x7f)
      return invalid("white space or control character");
  }
  return {};
}

}  // namespace etherip

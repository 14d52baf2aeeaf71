#include "core/etherip_header.h"

#include <fmt/format.h>

#include <cerrno>

namespace etherip {

std::string_view HeaderModeName(HeaderMode mode) {
  switch (mode) {
    case HeaderMode::kStandard:
      return "standard";
    case HeaderMode::kReversed:
      return "reversed";
    case HeaderMode::kAny:
      return "any";
  }
  return "standard";
}

Result<HeaderMode> ParseHeaderMode(std::string_view text) {
  for (HeaderMode mode :
       {HeaderMode::kStandard, HeaderMode::kReversed, HeaderMode::kAny}) {
    if (text == HeaderModeName(mode)) return mode;
  }
  return Fail(EINVAL,
              fmt::format("header {}: invalid argument (standard, reversed "
                          "or any)",
                          text));
}

}  // namespace etherip

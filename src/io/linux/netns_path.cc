#include "io/linux/netns_path.h"

#include <fmt/format.h>

#include "core/tunnel_table.h"

namespace etherip {

Result<std::string> NetnsPath(std::string_view name,
                              std::string_view directory) {
  if (auto valid = ValidateDomainName(name); !valid) {
    return tl::unexpected(valid.error());
  }
  return fmt::format("{}/{}", directory, name);
}

}  // namespace etherip

// Where named network namespaces (domains) live: `ip netns add NAME` bind-
// mounts the namespace on /run/netns/NAME.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace etherip {

inline constexpr std::string_view kNetnsDirectory = "/run/netns";

// DIRECTORY/NAME for a valid domain name (ValidateDomainName), so that a
// name can never reach outside the directory ("..", "a/b"). EINVAL
// "domain NAME: no such domain" otherwise.
Result<std::string> NetnsPath(std::string_view name,
                              std::string_view directory = kNetnsDirectory);

}  // namespace etherip

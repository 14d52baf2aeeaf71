// Linux interface names: what the kernel's dev_valid_name() accepts.
#pragma once

#include <string_view>

#include "core/error.h"

namespace etherip {

inline constexpr size_t kMaxInterfaceNameLength = 15;  // IFNAMSIZ - 1

// 1-15 bytes, no '/', ':', '%' or white space, not "." or "..".
// ('%' would make the kernel pick a number; ':' marks an alias.)
Status ValidateInterfaceName(std::string_view name);

}  // namespace etherip

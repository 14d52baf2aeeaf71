#include "io/linux/system_error.h"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <string>

namespace etherip {

std::string SystemErrorReason(int code) {
  std::string_view known = ErrnoReason(code);
  if (known != "error") return std::string(known);
  // strerrordesc_np is thread-safe and never localised (glibc >= 2.32).
  const char* description = strerrordesc_np(code);
  if (description == nullptr) return fmt::format("error {}", code);
  std::string reason(description);
  // The product's reasons are lower case ("invalid argument"); the C
  // library's start with a capital ("Invalid argument").
  if (!reason.empty()) {
    reason[0] =
        static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
  }
  return reason;
}

Error SystemError(int code, std::string_view context) {
  return Error{code, fmt::format("{}: {}", context, SystemErrorReason(code))};
}

}  // namespace etherip

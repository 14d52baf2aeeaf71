#include "core/error.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace etherip {
namespace {

// The reasons SPEC 6 words differently from the C library's descriptions
// ("no such interface", not "No such device or address").
struct Rewording {
  int code;
  std::string_view reason;
};

constexpr std::array kRewordings = {
    Rewording{EADDRNOTAVAIL, "address not available"},
    Rewording{ENXIO, "no such interface"},
    Rewording{ENOMEM, "out of memory"},
    Rewording{ENOSPC, "no space left"},
    Rewording{ETIMEDOUT, "timed out"},
    Rewording{EAFNOSUPPORT, "address family not supported"},
};

// Errno values run from 1 to well under this on Linux (EHWPOISON is 133).
constexpr int kLastErrno = 255;

}  // namespace

std::string ErrnoName(int code) {
  // glibc's own table (2.32 and later): every name, kept with the codes.
  if (const char* name = ::strerrorname_np(code)) return name;
  return fmt::format("E{}", code);
}

int ErrnoFromName(std::string_view name) {
  for (int code = 1; code <= kLastErrno; ++code) {
    const char* known = ::strerrorname_np(code);
    if (known != nullptr && name == known) return code;
  }
  return 0;
}

std::string_view ErrnoReason(int code) {
  for (const auto& rewording : kRewordings) {
    if (rewording.code == code) return rewording.reason;
  }
  // The C library's English description ("Invalid argument"), not the
  // locale's, with a lower-case first letter: "invalid argument".
  static const auto kReasons = [] {
    std::array<std::string, kLastErrno + 1> reasons;
    for (int known = 1; known <= kLastErrno; ++known) {
      const char* description = ::strerrordesc_np(known);
      if (description == nullptr) continue;
      reasons[known] = description;
      reasons[known][0] = static_cast<char>(
          std::tolower(static_cast<unsigned char>(reasons[known][0])));
    }
    return reasons;
  }();
  if (code > 0 && code <= kLastErrno && !kReasons[code].empty()) {
    return kReasons[code];
  }
  return "error";
}

}  // namespace etherip

#include "core/error.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>

namespace etherip {
namespace {

struct ErrnoInfo {
  int code;
  std::string_view name;
  std::string_view reason;
};

constexpr std::array kErrnos = {
    ErrnoInfo{EINVAL, "EINVAL", "invalid argument"},
    ErrnoInfo{EADDRNOTAVAIL, "EADDRNOTAVAIL", "address not available"},
    ErrnoInfo{ENXIO, "ENXIO", "no such interface"},
    ErrnoInfo{EEXIST, "EEXIST", "file exists"},
    ErrnoInfo{EPERM, "EPERM", "operation not permitted"},
    ErrnoInfo{EACCES, "EACCES", "permission denied"},
    ErrnoInfo{ENOENT, "ENOENT", "no such file or directory"},
    ErrnoInfo{EBUSY, "EBUSY", "device or resource busy"},
    ErrnoInfo{EAGAIN, "EAGAIN", "resource temporarily unavailable"},
    ErrnoInfo{EIO, "EIO", "input/output error"},
    ErrnoInfo{ENOMEM, "ENOMEM", "out of memory"},
    ErrnoInfo{ENOSPC, "ENOSPC", "no space left"},
    ErrnoInfo{ETIMEDOUT, "ETIMEDOUT", "timed out"},
    ErrnoInfo{EPROTO, "EPROTO", "protocol error"},
    ErrnoInfo{ECONNREFUSED, "ECONNREFUSED", "connection refused"},
    ErrnoInfo{EAFNOSUPPORT, "EAFNOSUPPORT", "address family not supported"},
    ErrnoInfo{EOPNOTSUPP, "EOPNOTSUPP", "operation not supported"},
    ErrnoInfo{ENODEV, "ENODEV", "no such device"},
};

}  // namespace

std::string ErrnoName(int code) {
  for (const auto& info : kErrnos) {
    if (info.code == code) return std::string(info.name);
  }
  return fmt::format("E{}", code);
}

int ErrnoFromName(std::string_view name) {
  for (const auto& info : kErrnos) {
    if (info.name == name) return info.code;
  }
  return 0;
}

std::string_view ErrnoReason(int code) {
  for (const auto& info : kErrnos) {
    if (info.code == code) return info.reason;
  }
  return "error";
}

}  // namespace etherip

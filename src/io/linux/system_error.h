// Errors from system calls as etherip Error values: the errno, and a message
// of the form "CONTEXT: reason" where CONTEXT names the object (interface,
// domain, ...) and the operation.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace etherip {

// The product's short reason for `code` (ErrnoReason) when it has one,
// otherwise the C library's description, e.g. "file descriptor in bad state".
std::string SystemErrorReason(int code);

// Error{code, "CONTEXT: reason"}.
Error SystemError(int code, std::string_view context);

// As Fail(): tl::unexpected(SystemError(code, context)).
inline tl::unexpected<Error> FailSystem(int code, std::string_view context) {
  return tl::unexpected<Error>(SystemError(code, context));
}

}  // namespace etherip

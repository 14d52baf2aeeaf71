// Errors are values: an errno-style code plus a message naming the input.
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace etherip {

struct Error {
  int code = 0;  // errno value (EINVAL, ENXIO, ...)
  std::string
      message;  // names the input and the reason, e.g.
                // "tunnel 192.0.2.1 -> 192.0.2.2: address not available"
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> Fail(int code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// "EINVAL" for EINVAL (the C library's name); "E<number>" for a code it
// does not know.
std::string ErrnoName(int code);
// Parses ErrnoName's output back; 0 when unknown.
int ErrnoFromName(std::string_view name);
// The short reason the product prints: "invalid argument",
// "address not available", "no such interface", ...
std::string_view ErrnoReason(int code);

}  // namespace etherip

// RaisedCapabilities: makes capabilities effective on the calling thread for
// the lifetime of a scope, e.g. CAP_SYS_ADMIN around setns().
//
//   {
//     RaisedCapabilities raised({CAP_SYS_ADMIN});
//     setns(...);
//   }  // CAP_SYS_ADMIN is no longer effective
//
// After start-up etheripd keeps some capabilities in its permitted set only
// (daemon/privileges.h): they are in no thread's effective set except
// inside such a scope, so an operation that is not meant to use them (a
// request that names a file, a bug) cannot. Capabilities are per thread:
// only the calling thread is affected, and the scope must end on it.
//
// Best effort by design: a capability that is already effective (a daemon
// that kept everything, a test run as root) or not permitted at all is left
// alone, and then the operation itself reports EPERM as it would have.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace etherip {

class RaisedCapabilities {
 public:
  // `capabilities`: CAP_* numbers (linux/capability.h).
  explicit RaisedCapabilities(std::initializer_list<int> capabilities);
  // Lowers what the constructor raised (only that).
  ~RaisedCapabilities();

  RaisedCapabilities(const RaisedCapabilities&) = delete;
  RaisedCapabilities& operator=(const RaisedCapabilities&) = delete;

  // The capabilities this scope made effective, as a bit mask (1 << CAP_*).
  uint64_t raised() const { return raised_; }

 private:
  uint64_t raised_ = 0;
};

}  // namespace etherip

// NetnsEnter: runs the calling thread inside another network namespace for
// the lifetime of a scope, e.g. to create a socket there. Sockets, TAP
// devices and netlink sockets belong to the namespace they were created in
// and keep belonging to it, so the thread can leave right after.
//
//   {
//     auto inside = NetnsEnter::Enter("underlay");
//     if (!inside) return tl::unexpected(inside.error());
//     fd = socket(...);  // lives in "underlay"
//   }  // the thread is back in its original namespace
//
// Only the calling thread moves (setns() changes one thread's namespaces);
// other threads of the process are not affected, but a thread started from
// inside the scope inherits the namespace, so start none there. Needs
// CAP_SYS_ADMIN.
#pragma once

#include <string_view>

#include "core/error.h"
#include "io/linux/netns_path.h"
#include "io/linux/unique_fd.h"

namespace etherip {

class NetnsEnter {
 public:
  // Saves the thread's current namespace (/proc/thread-self/ns/net) and
  // moves the thread into DIRECTORY/NAME. "" enters nothing: the thread
  // stays where it is. On error the thread has not moved. Errors: EINVAL
  // "domain NAME: no such domain" for an invalid name or a missing
  // namespace, otherwise the errno of open()/setns() (EPERM without
  // CAP_SYS_ADMIN, EINVAL when the file is not a network namespace).
  static Result<NetnsEnter> Enter(std::string_view name,
                                  std::string_view directory = kNetnsDirectory);

  NetnsEnter(NetnsEnter&& other) noexcept = default;
  NetnsEnter& operator=(NetnsEnter&&) = delete;
  NetnsEnter(const NetnsEnter&) = delete;
  NetnsEnter& operator=(const NetnsEnter&) = delete;

  // Returns the thread to the saved namespace. Must run on the thread that
  // entered. A thread that cannot go back would go on creating sockets and
  // devices in the wrong namespace without anyone noticing, so a failure
  // here aborts the process (call Leave() first to handle it instead).
  ~NetnsEnter();

  // Returns the thread to the saved namespace now; later calls and the
  // destructor do nothing. Fails only if setns() back fails.
  Status Leave();

  // Whether the thread actually moved (false for "").
  bool moved() const { return original_.valid(); }

 private:
  explicit NetnsEnter(UniqueFd original) : original_(std::move(original)) {}

  UniqueFd original_;  // the namespace to return to; invalid: nothing to do
};

}  // namespace etherip

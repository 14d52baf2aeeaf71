// What etheripd keeps of its privileges once it has started (SPEC 8,
// "Privileges"): a few capabilities, optionally another user, and
// no_new_privs. The system call filter is syscall_filter.h.
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace etherip {

// One capability the daemon keeps, and why.
struct KeptCapability {
  int capability;  // CAP_*
  // Effective on every thread all the time; otherwise permitted only, and
  // raised around the operations that need it (io/linux/raised_capabilities.h).
  bool effective;
  const char* why;
};

// The capabilities kept after start-up; every other one leaves the
// effective, permitted and inheritable sets, and the bounding and ambient
// sets are emptied.
std::span<const KeptCapability> KeptCapabilities();

// The user named by the configuration's `user` key.
struct UserId {
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group
};

// `user`: a user name from the user database, or a decimal uid. A uid
// without an entry there runs with the gid of the same number (as in a
// container that only knows numbers). Errors: ENOENT "user NAME: no such
// user" (the caller adds FILE:LINE).
Result<UserId> ResolveUser(std::string_view user);

// Sets no_new_privs, keeps only KeptCapabilities() (those the process has:
// a daemon started with fewer keeps fewer), and with `user` switches the
// real, effective and saved uid and gid to it and clears the supplementary
// groups. Returns a description for the log.
//
// Must run before the process starts any thread: capabilities and
// no_new_privs belong to each thread, and threads inherit them when they
// are created. Irreversible. Errors: the errno of the step that failed
// (EPERM when the process may not change its user or bounding set).
Result<std::string> DropPrivileges(const std::optional<UserId>& user);

}  // namespace etherip

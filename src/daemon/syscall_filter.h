// The system call filter etheripd installs once it has started (SPEC 8,
// "Privileges"): an allow-list, on every thread. A call outside it fails
// with EPERM (the process goes on; the kernel logs the call).
#pragma once

#include <span>
#include <string_view>

#include "core/error.h"

namespace etherip {

// The system calls the daemon makes after start-up, by name (as
// seccomp_syscall_resolve_name knows them). Names this architecture lacks
// are skipped.
std::span<const std::string_view> AllowedSyscalls();
// socket() is allowed only for these address families (AF_*); it is not
// in AllowedSyscalls().
std::span<const int> AllowedSocketFamilies();
// ioctl() is allowed only for these requests; it is not in
// AllowedSyscalls() either.
std::span<const unsigned long> AllowedIoctlRequests();

// Whether this build installs the filter: not the sanitizer builds, whose
// run-time makes calls of its own (reading /proc/self/maps, ptrace for the
// leak check at exit) that the list does not hold.
bool SyscallFilterAvailable();

// Installs the allow-list on every thread of the process (TSYNC). Needs
// no_new_privs (or CAP_SYS_ADMIN). Irreversible: the process and the
// threads it starts later keep it. Errors: the errno of libseccomp, e.g.
// ESRCH when another thread has a filter of its own.
Status InstallSyscallFilter();

}  // namespace etherip

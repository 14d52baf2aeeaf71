#include "daemon/privileges.h"

#include <cap-ng.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

namespace etherip {
namespace {

// The single list of what the daemon keeps; SPEC 8 repeats it for users.
// Left out on purpose: CAP_SETUID,
// CAP_SETGID and CAP_SETPCAP (used once, to switch user and empty the
// bounding set, then gone); CAP_DAC_READ_SEARCH (CAP_DAC_OVERRIDE, needed
// for writing, covers reading); CAP_NET_BIND_SERVICE and CAP_KILL (nothing
// here uses them). A CAP_DAC_OVERRIDE narrower than a directory's write
// bit does not exist; documenting "give the daemon's user the directories"
// instead would break `save` of the usual root-owned /etc/etherip file.
constexpr KeptCapability kKept[] = {
    {CAP_NET_ADMIN, true,
     "create and attach TAP devices (TUNSETIFF, TUNSETPERSIST), change and "
     "delete links over rtnetlink, write net.ipv6.conf.IF.disable_ipv6, "
     "SO_RCVBUFFORCE/SO_SNDBUFFORCE, the fwmark of outer packets (SO_MARK "
     "control messages; CAP_NET_RAW also allows them)"},
    {CAP_NET_RAW, true, "open the raw protocol-97 sockets of new domains"},
    {CAP_SYS_ADMIN, false,
     "setns() into a domain to open its sockets, and back (NetnsEnter)"},
    {CAP_DAC_OVERRIDE, false,
     "open /dev/net/tun where only root may (0600, in some containers); "
     "`save`: create the temporary file beside the configuration file in a "
     "directory the daemon's user does not own (/etc/etherip); reload: read "
     "a configuration file only root may read; exit: remove the control "
     "socket from its root-owned directory, and reach it on reload to set its "
     "group"},
    {CAP_CHOWN, false,
     "`save`: give the rewritten configuration file its owner back; "
     "reload: give the control socket to a new control_group"},
    {CAP_FOWNER, false,
     "reload: change the control socket's mode for a new control_group "
     "(the socket belongs to the user that started the daemon; the atomic "
     "replacement needs none: it sets the mode while the temporary file is "
     "the daemon's own)"},
};

std::string Names(bool effective) {
  std::string names;
  for (const KeptCapability& kept : kKept) {
    if (kept.effective != effective ||
        !capng_have_capability(CAPNG_PERMITTED, kept.capability)) {
      continue;
    }
    if (!names.empty()) names += ",";
    const char* name = capng_capability_to_name(kept.capability);
    names += name != nullptr ? name : fmt::format("{}", kept.capability);
  }
  return names.empty() ? "none" : names;
}

}  // namespace

std::span<const KeptCapability> KeptCapabilities() { return kKept; }

Result<UserId> ResolveUser(std::string_view user) {
  const std::string name(user);
  long buffer_size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(buffer_size > 0 ? buffer_size : 16384);
  passwd entry{};
  passwd* found = nullptr;
  uid_t uid = 0;
  const auto [end, parsed] =
      std::from_chars(user.data(), user.data() + user.size(), uid);
  const bool numeric =
      parsed == std::errc() && end == user.data() + user.size();
  int error;
  while ((error = numeric ? getpwuid_r(uid, &entry, buffer.data(),
                                       buffer.size(), &found)
                          : getpwnam_r(name.c_str(), &entry, buffer.data(),
                                       buffer.size(), &found)) == ERANGE) {
    buffer.resize(buffer.size() * 2);
  }
  if (found != nullptr) return UserId{found->pw_uid, found->pw_gid};
  if (numeric) return UserId{uid, static_cast<gid_t>(uid)};
  if (error != 0 && error != ENOENT && error != ESRCH) {
    return Fail(error, fmt::format("user {}: {}", user, strerror(error)));
  }
  return Fail(ENOENT, fmt::format("user {}: no such user", user));
}

Result<std::string> DropPrivileges(const std::optional<UserId>& user) {
  // No execve() may ever gain privileges again (set-user-ID files, file
  // capabilities); the system call filter needs it too.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Fail(errno, fmt::format("no_new_privs: {}", strerror(errno)));
  }
  if (capng_get_caps_process() != 0) {
    return Fail(errno, "capabilities: cannot read them");
  }
  const bool may_bound = capng_have_capability(CAPNG_PERMITTED, CAP_SETPCAP);
  std::vector<int> present;
  for (const KeptCapability& kept : kKept) {
    if (capng_have_capability(CAPNG_PERMITTED, kept.capability)) {
      present.push_back(kept.capability);
    }
  }
  // Everything out: effective, permitted, inheritable, bounding, ambient.
  capng_clear(CAPNG_SELECT_ALL);
  for (const KeptCapability& kept : kKept) {
    if (std::find(present.begin(), present.end(), kept.capability) ==
        present.end()) {
      continue;
    }
    capng_update(CAPNG_ADD,
                 static_cast<capng_type_t>(
                     CAPNG_PERMITTED | (kept.effective ? CAPNG_EFFECTIVE : 0)),
                 kept.capability);
  }
  std::string bounding = "empty";
  if (user) {
    // setresgid, setgroups(0), setresuid with the kept capabilities carried
    // across (PR_SET_KEEPCAPS), the bounding set emptied on the way.
    const int rc = capng_change_id(
        static_cast<int>(user->uid), static_cast<int>(user->gid),
        static_cast<capng_flags_t>(CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING |
                                   CAPNG_CLEAR_AMBIENT));
    if (rc != 0) {
      const int error = errno != 0 ? errno : EPERM;
      return Fail(error,
                  fmt::format("cannot switch to uid {} gid {}: {} "
                              "(libcap-ng step {})",
                              user->uid, user->gid, strerror(error), rc));
    }
  } else {
    // Emptying the bounding set takes CAP_SETPCAP; a daemon started without
    // it (not as root) keeps the bounding set it was given.
    if (!may_bound) bounding = "left as it was (no CAP_SETPCAP)";
    const int rc = capng_apply(static_cast<capng_select_t>(
        may_bound ? CAPNG_SELECT_ALL
                  : CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT));
    if (rc != 0) {
      const int error = errno != 0 ? errno : EPERM;
      return Fail(error, fmt::format("capabilities: cannot drop them: {} "
                                     "(libcap-ng step {})",
                                     strerror(error), rc));
    }
  }
  if (capng_get_caps_process() != 0) {
    return Fail(errno, "capabilities: cannot read them");
  }
#if defined(__SANITIZE_ADDRESS__)
  // A process that changed its uid is not dumpable, and LeakSanitizer's
  // check at exit then cannot ptrace its threads (it lost CAP_SYS_PTRACE).
  // The sanitizer build only: dumpable lets the user's processes read the
  // daemon's /proc files.
  if (user) (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
  return fmt::format(
      "privileges: uid {} gid {}, capabilities effective {}, permitted also "
      "{}, bounding set {}, no_new_privs",
      getuid(), getgid(), Names(true), Names(false), bounding);
}

}  // namespace etherip

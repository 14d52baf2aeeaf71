// Who may use the control socket (SPEC 8): root and the daemon's own user
// always; with `control_group`, also every member of that group, whether
// it is the peer's primary group or one of its supplementary groups. The
// daemon checks each connection's credentials as the kernel recorded them
// at connect(2), so a socket file whose mode lets in more than this (a
// chmod by hand, a directory bind-mounted elsewhere) still admits nobody
// else.
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"

namespace etherip {

struct ControlAccess {
  uid_t owner = 0;             // the daemon's effective uid
  std::optional<gid_t> group;  // control_group; nullopt: none
  std::string group_name;      // as configured, to name it in messages
};

// The credentials of a connected peer, as of its connect(2).
struct PeerCredentials {
  uid_t uid = 0;
  gid_t gid = 0;              // primary group
  std::vector<gid_t> groups;  // supplementary groups
};

// True when the peer may use the control socket: uid 0, the daemon's own
// uid, or (with a group) primary or supplementary membership of it.
bool PeerAllowed(uid_t uid, gid_t gid, std::span<const gid_t> groups,
                 const ControlAccess& access);
bool PeerAllowed(const PeerCredentials& peer, const ControlAccess& access);

// The message a refused peer gets, e.g. "permission denied: uid 1234 is not
// root and not in group etherip".
std::string PeerRefusal(uid_t uid, const ControlAccess& access);

// SO_PEERCRED and SO_PEERGROUPS of a connected UNIX socket. On a kernel
// without SO_PEERGROUPS (before 4.13) the supplementary groups are empty:
// only the primary group then counts.
Result<PeerCredentials> ReadPeerCredentials(int fd);

}  // namespace etherip

#include "daemon/peer_access.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace etherip {

bool PeerAllowed(uid_t uid, gid_t gid, std::span<const gid_t> groups,
                 const ControlAccess& access) {
  if (uid == 0 || uid == access.owner) return true;
  if (!access.group) return false;
  return gid == *access.group ||
         std::find(groups.begin(), groups.end(), *access.group) != groups.end();
}

bool PeerAllowed(const PeerCredentials& peer, const ControlAccess& access) {
  return PeerAllowed(peer.uid, peer.gid, peer.groups, access);
}

std::string PeerRefusal(uid_t uid, const ControlAccess& access) {
  if (!access.group) {
    return fmt::format("permission denied: uid {} is not root", uid);
  }
  return fmt::format(
      "permission denied: uid {} is not root and not in group {}", uid,
      access.group_name);
}

Result<PeerCredentials> ReadPeerCredentials(int fd) {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return Fail(errno, fmt::format("SO_PEERCRED: {}", strerror(errno)));
  }
  PeerCredentials peer{credentials.uid, credentials.gid, {}};
  // The kernel says how much room the list needs when it is too small.
  peer.groups.resize(16);
  for (;;) {
    socklen_t bytes =
        static_cast<socklen_t>(peer.groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer.groups.data(), &bytes) ==
        0) {
      peer.groups.resize(bytes / sizeof(gid_t));
      return peer;
    }
    if (errno == ERANGE && bytes / sizeof(gid_t) > peer.groups.size()) {
      peer.groups.resize(bytes / sizeof(gid_t));
      continue;
    }
    if (errno == ENOPROTOOPT) {
      peer.groups.clear();
      return peer;
    }
    return Fail(errno, fmt::format("SO_PEERGROUPS: {}", strerror(errno)));
  }
}

}  // namespace etherip

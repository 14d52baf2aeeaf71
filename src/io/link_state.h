// What the host's kernel says about one link, and the changes it announces
// (on Linux: rtnetlink RTM_NEWLINK / RTM_DELLINK of group RTNLGRP_LINK).
// Plain data, shared by the host seam (io/host.h) and its implementations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/mac_address.h"

namespace etherip {

// A link as the kernel describes it. The ifindex is the identity;
// everything else may change under it (a rename keeps the index).
struct LinkInfo {
  int ifindex = 0;
  std::string name;  // "" when the kernel's message had none
  bool up = false;   // IFF_UP: administratively up
  uint32_t mtu = 0;  // 0 when absent
  // The Ethernet address; all zero for links without one or with another
  // kind of address (e.g. ipip's 4 bytes).
  MacAddress address;
  uint32_t group = 0;  // IFLA_GROUP; 0 (the default group) when absent

  friend bool operator==(const LinkInfo&, const LinkInfo&) = default;
};

struct LinkEvent {
  enum class Kind {
    // The link exists, with these settings (new, or changed: renamed,
    // up/down, MTU, address, group, carrier, ...).
    kChanged,
    // The link is gone from this namespace (deleted, or moved to another
    // namespace with `ip link set X netns Y`).
    kDeleted,
  };
  Kind kind = Kind::kChanged;
  LinkInfo link;

  friend bool operator==(const LinkEvent&, const LinkEvent&) = default;
};

struct LinkEvents {
  std::vector<LinkEvent> events;  // in the order the kernel sent them
  // Events were lost (the kernel's queue overflowed: ENOBUFS). The caller
  // must list every link again (Host::DumpLinks) and resynchronise.
  // `events` is then empty: an event older than a lost one may be stale (X
  // renamed to B, queued; to C, lost: applying "B" after a dump that says
  // "C" would be wrong, and nothing would correct it). Events read later
  // are newer than every loss and apply on top of the dump.
  bool overflowed = false;
};

}  // namespace etherip

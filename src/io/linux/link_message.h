// What rtnetlink says about a link: the parsed form of a RTM_NEWLINK or
// RTM_DELLINK message, as LinkMonitor reports them and LinkControl::Get
// answers. The parser is a pure function over bytes (no socket, no kernel),
// so it can be unit-tested and fuzzed (fuzz/link_message_fuzzer.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/link_state.h"

struct nlmsghdr;

namespace etherip {

// Parses one rtnetlink message. `message` must be 4-byte aligned (as
// netlink messages are) and point at nlmsg_len readable bytes (at least a
// header's worth); nothing beyond them is read, whatever the attributes
// claim.
//
// nullopt for anything that is not a whole-link message: another type,
// a payload too short for struct ifinfomsg, ifi_index <= 0, or a family
// other than AF_UNSPEC. The family matters: the bridge sends its port
// messages (RTM_NEWLINK/RTM_DELLINK with AF_BRIDGE) to the same
// RTNLGRP_LINK group, and a bridge port's RTM_DELLINK means "no longer a
// port", not "the link is gone".
//
// Attributes are optional: one that is missing, or of the wrong size
// (a name without its NUL, a 4-byte address), leaves its field at the
// default above; the rest of the message is still used.
std::optional<LinkEvent> ParseLinkMessage(const nlmsghdr* message);

// Parses every message of one netlink datagram (as recvmsg() returned it;
// 4-byte aligned), in order, appending the link events to `events`. Stops at
// the first message header that does not fit in the bytes left. Messages that
// are not link messages (see ParseLinkMessage) are skipped.
void ParseLinkMessages(std::span<const uint8_t> datagram,
                       std::vector<LinkEvent>& events);

}  // namespace etherip

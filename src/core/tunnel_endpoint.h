// One end of a tunnel as the user gave it (SPEC 6, 8): an IP literal, an
// IPv6 link-local literal with a zone ("fe80::1%eth0", "fe80::1%3"), or a
// host name ("peer.example"), which the daemon resolves. The text is kept
// as given (literals in their canonical form), so that showconf and a saved
// file write the name, never what it resolved to.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/ip_address.h"

namespace etherip {

struct TunnelEndpoint {
  IpAddress address;  // the literal; family kNone for a host name
  // A link-local literal's zone, "" for none: an interface name of the
  // tunnel's domain, or an interface index in decimal digits.
  std::string zone;
  std::string host;  // the host name, as given; "" for a literal

  // An IP literal of `address`, no zone.
  static TunnelEndpoint Literal(const IpAddress& address) {
    return TunnelEndpoint{address, {}, {}};
  }
  // Reads `text`; EINVAL with the reason alone (e.g. "2001:db8::1%eth0: a
  // zone is only for link-local addresses") when it is none of the three.
  // Whether a literal can be an endpoint at all (EndpointProblem) is not
  // checked here.
  static Result<TunnelEndpoint> Parse(std::string_view text);

  bool is_name() const { return !host.empty(); }
  // The zone as an interface index when it is one (decimal digits); 0 when
  // there is no zone or it names an interface.
  uint32_t zone_index() const;
  // A zone that names an interface, whose index only the domain knows.
  bool has_named_zone() const { return !zone.empty() && zone_index() == 0; }
  // "192.0.2.1", "fe80::1%eth0", "peer.example".
  std::string ToString() const;

  friend bool operator==(const TunnelEndpoint&,
                         const TunnelEndpoint&) = default;
};

// IPv6 link-local unicast (fe80::/10): the only addresses a zone is for.
bool IsLinkLocal(const IpAddress& address);

// Whether `text` is a host name as endpoints take them: at most 253 bytes
// (254 with a final dot), dot-separated labels of 1-63 letters, digits,
// '-' and '_', none starting or ending with '-', and a last label that is
// not all digits, so that no numeric form ("192.0.2.300", "3232235777")
// is ever taken for a name.
bool IsHostName(std::string_view text);

}  // namespace etherip

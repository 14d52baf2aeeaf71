// `mtu auto` (SPEC 8): an interface's MTU derived from the MTU of the
// route its outer packets take. Pure arithmetic; the route is the host's
// business (Host::LookupRouteMtu).
#pragma once

#include <cstdint>

#include "core/ip_address.h"

namespace etherip {

// What one inner frame costs on top of its IP payload (the interface MTU):
// the outer IP header (IPv4 without options: 20; IPv6 without extension
// headers: 40), the EtherIP header (2) and the inner Ethernet header (14).
// An 802.1Q tag is not counted (as Linux's gretap and vxlan do not): a
// tagged frame of full size is 4 bytes over, and its outer packet is
// fragmented (DF is clear).
inline constexpr uint32_t kEtherIpHeaderBytes = 2;
inline constexpr uint32_t kInnerEthernetBytes = 14;
constexpr uint32_t OuterIpHeaderBytes(Family family) {
  return family == Family::kIpv6 ? 40 : 20;
}
constexpr uint32_t EncapsulationOverhead(Family family) {
  return OuterIpHeaderBytes(family) + kEtherIpHeaderBytes + kInnerEthernetBytes;
}

// The MTU of an interface whose outer packets (of `family`) take a path of
// MTU `path_mtu`: path_mtu less the overhead, clamped to kMinMtu..kMaxMtu
// (interface_options.h). IPv4 over 1500: 1464; IPv6 over 1500: 1444.
uint32_t AutoMtu(Family family, uint32_t path_mtu);

}  // namespace etherip

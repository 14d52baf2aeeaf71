// The settings of an interface and the options that change them (SPEC 6:
// "tunnel SRC DST", "-tunnel", "domain NAME", "-domain", "up", "down",
// "mtu N", "lladdr MAC", "header MODE", "master BRIDGE", "-master", and the
// outer header options "ttl N", "df", "-df", "tos N|inherit", "-tos",
// "fwmark N", "-fwmark").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/etherip_header.h"
#include "core/ip_address.h"
#include "core/mac_address.h"
#include "core/outer_header.h"

namespace etherip {

inline constexpr uint32_t kDefaultMtu = 1500;
inline constexpr uint32_t kMinMtu = 68;
// Frame (MTU + 18 with a VLAN tag) and headers fit a 64 KiB buffer.
inline constexpr uint32_t kMaxMtu = 65000;

struct Tunnel {
  IpAddress source;              // local outer address
  IpAddress destination;         // remote outer address
  std::string ToString() const;  // "192.0.2.1 -> 192.0.2.2"
  friend bool operator==(const Tunnel&, const Tunnel&) = default;
};

// The outer TOS (IPv4) or traffic class (IPv6) a tunnel sends (SPEC 8):
// the family's default (SPEC 1: 0x10 over IPv4, 0 over IPv6), a value, or
// the inner packet's DSCP.
struct OuterTos {
  enum class Kind : uint8_t { kDefault, kValue, kInherit };
  Kind kind = Kind::kDefault;
  uint8_t value = 0;  // for kValue
  static OuterTos Value(uint8_t value) { return {Kind::kValue, value}; }
  static OuterTos Inherit() { return {Kind::kInherit, 0}; }
  bool is_default() const { return kind == Kind::kDefault; }
  // "default", "inherit", or the value as "0x10".
  std::string ToString() const;
  friend bool operator==(const OuterTos&, const OuterTos&) = default;
};

struct InterfaceSettings {
  std::optional<Tunnel> tunnel;
  std::string domain;  // network namespace name; "" = the daemon's own
  bool up = false;
  uint32_t mtu = kDefaultMtu;
  MacAddress lladdr;  // chosen at random on create unless given
  HeaderMode header = HeaderMode::kStandard;
  // The link's master (a bridge), joined on create, set, start and reload;
  // "" = not managed: whatever `ip link` did stays.
  std::string master;
  // Outer header options (SPEC 8).
  uint8_t ttl = kOuterTtl;  // 1-255
  bool df = false;
  OuterTos tos;
  uint32_t fwmark = 0;  // 0: none
  friend bool operator==(const InterfaceSettings&,
                         const InterfaceSettings&) = default;
};

struct SetTunnel {
  std::string source;  // as given, so refusals can quote it
  std::string destination;
};
struct ClearTunnel {};
struct SetDomain {
  std::string name;
};
struct ClearDomain {};
struct SetUp {
  bool up;
};
struct SetMtu {
  std::string mtu;
};
struct SetLladdr {
  std::string mac;
};
struct SetHeader {
  std::string mode;
};
struct SetMaster {
  std::string name;
};
struct ClearMaster {};
struct SetTtl {
  std::string ttl;
};
struct SetDf {
  bool df;
};
struct SetTos {
  std::string tos;
};
struct ClearTos {};
struct SetFwmark {
  std::string fwmark;
};
struct ClearFwmark {};
using InterfaceOption =
    std::variant<SetTunnel, ClearTunnel, SetDomain, ClearDomain, SetUp, SetMtu,
                 SetLladdr, SetHeader, SetMaster, ClearMaster, SetTtl, SetDf,
                 SetTos, ClearTos, SetFwmark, ClearFwmark>;

// Splits command words into options. Fails only on syntax: an unknown
// keyword or a missing argument (a usage error, exit status 2 in the CLI).
// Values are checked when the options are applied.
Result<std::vector<InterfaceOption>> ParseInterfaceOptions(
    std::span<const std::string> words);

// The words that ParseInterfaceOptions turns back into `options`.
std::vector<std::string> InterfaceOptionWords(
    std::span<const InterfaceOption> options);

// Applies options in order to `settings`, checking each value on its own
// (IP literals of one family that can be endpoints (EndpointProblem), source
// and destination different; MTU range;
// unicast non-zero MAC). Whether the result clashes with other interfaces is
// the tunnel table's business. On failure `settings` may be half changed:
// apply to a copy.
Status ApplyInterfaceOptions(std::span<const InterfaceOption> options,
                             InterfaceSettings& settings);

// The value checks of ApplyInterfaceOptions, for settings built elsewhere
// (the configuration file).
Status CheckTunnel(const Tunnel& tunnel);
// Why `address` cannot be a tunnel endpoint, "" when it can: not an
// address, unspecified, multicast, IPv4 0.0.0.0/8, loopback or the limited
// broadcast address, IPv6 loopback, IPv4-mapped (::ffff:0:0/96) or
// IPv4-compatible (::/96). None of these can carry EtherIP to a peer.
std::string_view EndpointProblem(const IpAddress& address);
Status CheckMtu(uint32_t mtu);              // kMinMtu..kMaxMtu
Status CheckLladdr(const MacAddress& mac);  // unicast, not zero
Result<uint32_t> ParseMtu(std::string_view text);
Result<MacAddress> ParseLladdr(std::string_view text);
// A master's name: a valid interface name.
Status CheckMaster(std::string_view name);
Result<Tunnel> ParseTunnel(std::string_view source,
                           std::string_view destination);

// Outer header options. Numbers are decimal or hexadecimal with 0x.
// ttl: 1-255. tos: 0-255, "inherit", or "default" (the family's).
// fwmark: 0-4294967295 (0: none). EINVAL naming the text otherwise.
Result<uint8_t> ParseTtl(std::string_view text);
Result<OuterTos> ParseTos(std::string_view text);
Result<uint32_t> ParseFwmark(std::string_view text);
// The same ranges for numbers from elsewhere (the configuration file).
Result<uint8_t> CheckTtl(int64_t ttl);
Result<uint8_t> CheckTos(int64_t tos);
Result<uint32_t> CheckFwmark(int64_t fwmark);

// The outer header fields `settings` give every packet of the tunnel (the
// TOS unset when it is the family's default or inherited).
OuterFields OuterFieldsOf(const InterfaceSettings& settings);

}  // namespace etherip

// The settings of an interface and the options that change them (SPEC 6:
// "tunnel SRC DST", "-tunnel", "domain NAME", "-domain", "up", "down",
// "mtu N", "mtu auto", "lladdr MAC", "header MODE", "master BRIDGE",
// "-master", "eoip ID", "-eoip", "keepalive SECONDS", and the outer header
// options "ttl N", "df", "-df", "tos N|inherit", "-tos", "fwmark N",
// "-fwmark").
// A tunnel is configured as two endpoints (TunnelConfig: literals, zoned
// link-local literals or host names, kept as given); the addresses it then
// uses (Tunnel) are its literals, or what the daemon resolved its names and
// zone to.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"
#include "core/etherip_header.h"
#include "core/ip_address.h"
#include "core/mac_address.h"
#include "core/outer_header.h"
#include "core/tunnel_endpoint.h"

namespace etherip {

inline constexpr uint32_t kDefaultMtu = 1500;
inline constexpr uint32_t kMinMtu = 68;
// Frame (MTU + 18 with a VLAN tag) and headers fit a 64 KiB buffer.
inline constexpr uint32_t kMaxMtu = 65000;
// Seconds between the keepalives an EoIP tunnel sends: RouterOS's default
// (it expects one every 10 s); 0 sends none.
inline constexpr uint32_t kDefaultKeepalive = 10;
inline constexpr uint32_t kMaxKeepalive = 3600;

// The outer addresses of a tunnel, as the forwarding path uses them.
struct Tunnel {
  IpAddress source;       // local outer address
  IpAddress destination;  // remote outer address
  // The index, in the tunnel's domain, of the interface its link-local
  // addresses are on (the zone); 0: none. Packets go out there, and
  // packets that come in anywhere else are not the tunnel's.
  uint32_t scope = 0;
  std::string ToString() const;  // "192.0.2.1 -> 192.0.2.2"
  friend bool operator==(const Tunnel&, const Tunnel&) = default;
};

// A tunnel as configured: its two endpoints as given.
struct TunnelConfig {
  TunnelEndpoint source;
  TunnelEndpoint destination;

  TunnelConfig() = default;
  TunnelConfig(TunnelEndpoint source, TunnelEndpoint destination)
      : source(std::move(source)), destination(std::move(destination)) {}
  // The tunnel of these literal addresses (a non-zero scope becomes the
  // zone of its link-local ends).
  TunnelConfig(const Tunnel& addresses);  // NOLINT: implicit on purpose

  bool has_names() const { return source.is_name() || destination.is_name(); }
  // The family of its literal ends; kNone when both ends are names.
  Family family() const;
  // The zone of its link-local addresses: the destination's, else the
  // source's; "" for none.
  const std::string& zone() const;
  // Whether the daemon must look something up before the tunnel can be
  // used: a host name, or a zone that names an interface.
  bool needs_lookup() const;
  // The addresses of a tunnel of literals (scope: a zone given as an
  // index; 0 when there is none, or it names an interface, which only a
  // lookup turns into an index); nullopt when an end is a host name.
  std::optional<Tunnel> LiteralAddresses() const;
  std::string ToString() const;  // "192.0.2.1 -> peer.example"

  friend bool operator==(const TunnelConfig&, const TunnelConfig&) = default;
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
  std::optional<TunnelConfig> tunnel;
  std::string domain;  // network namespace name; "" = the daemon's own
  bool up = false;
  // The link's MTU, as applied. With mtu_auto (`mtu auto`) the daemon keeps
  // it at the route's MTU less the encapsulation (core/auto_mtu.h); `mtu N`
  // turns that off.
  uint32_t mtu = kDefaultMtu;
  bool mtu_auto = false;
  MacAddress lladdr;  // chosen at random on create unless given
  HeaderMode header = HeaderMode::kStandard;
  // The link's master (a bridge), joined on create, set, start and reload;
  // "" = not managed: whatever `ip link` did stays.
  std::string master;
  // Set: a MikroTik EoIPv6 tunnel with this tunnel ID (0..kMaxEoipId; IPv6
  // tunnels and the standard header mode only). Unset: standard EtherIP.
  std::optional<uint16_t> eoip;
  // Seconds between the keepalives an EoIP tunnel sends (0: none); always
  // kDefaultKeepalive when eoip is unset.
  uint32_t keepalive = kDefaultKeepalive;
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
  std::string mtu;  // a number, or "auto" (kAutoMtuWord)
};
inline constexpr std::string_view kAutoMtuWord = "auto";
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
struct SetEoip {
  std::string id;
};
struct ClearEoip {};  // back to a standard tunnel (keepalive to its default)
struct SetKeepalive {
  std::string seconds;
};
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
                 SetLladdr, SetHeader, SetMaster, ClearMaster, SetEoip,
                 ClearEoip, SetKeepalive, SetTtl, SetDf, SetTos, ClearTos,
                 SetFwmark, ClearFwmark>;

// Splits command words into options. Fails only on syntax: an unknown
// keyword or a missing argument (a usage error, exit status 2 in the CLI).
// Values are checked when the options are applied.
Result<std::vector<InterfaceOption>> ParseInterfaceOptions(
    std::span<const std::string> words);

// The words that ParseInterfaceOptions turns back into `options`.
std::vector<std::string> InterfaceOptionWords(
    std::span<const InterfaceOption> options);

// Applies options in order to `settings`, checking each value on its own
// (endpoints that are IP literals that can be endpoints (EndpointProblem),
// zoned link-local literals or host names; literals of one family; source
// and destination different; the same zone on both ends; MTU range, or
// "auto", which sets mtu_auto and leaves the value to the caller (a number
// clears mtu_auto); unicast non-zero MAC; EoIP ID and keepalive ranges),
// then the result as a whole (CheckEoip; `keepalive` given without `eoip`
// in the result). Whether the result clashes with other interfaces is
// the tunnel table's business. On failure `settings` may be half changed:
// apply to a copy.
Status ApplyInterfaceOptions(std::span<const InterfaceOption> options,
                             InterfaceSettings& settings);

// The value checks of ApplyInterfaceOptions, for settings built elsewhere
// (the configuration file).
Status CheckTunnel(const TunnelConfig& tunnel);
// Why these addresses (what names resolved to) cannot be a tunnel, ""
// when they can: EndpointProblem of either, different families, the same
// address twice.
std::string AddressProblem(const Tunnel& addresses);
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
Result<uint16_t> ParseEoipId(std::string_view text);     // 0..kMaxEoipId
Result<uint32_t> ParseKeepalive(std::string_view text);  // 0..kMaxKeepalive
// The EoIP rules of a whole interface (SPEC 8, "EoIP"), EINVAL naming the
// setting: an ID and keepalive in range; with eoip, no IPv4 tunnel (of
// literals; a name's answer is checked when it comes) and the standard
// header mode; without it, the default keepalive.
Status CheckEoip(const InterfaceSettings& settings);
// "tunnel SRC DST": each an IP literal, a link-local IPv6 literal with a
// zone or a host name (TunnelEndpoint::Parse); EINVAL, quoting both.
Result<TunnelConfig> ParseTunnel(std::string_view source,
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

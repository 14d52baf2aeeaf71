#include "core/interface_options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <optional>
#include <string>

#include "core/interface_name.h"

namespace etherip {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;  // clang 14 lacks aggregate CTAD

}  // namespace

std::string Tunnel::ToString() const {
  return fmt::format("{} -> {}", source.ToString(), destination.ToString());
}

Result<std::vector<InterfaceOption>> ParseInterfaceOptions(
    std::span<const std::string> words) {
  std::vector<InterfaceOption> options;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    auto argument = [&](size_t n) -> bool { return i + n < words.size(); };
    auto missing = [&] {
      return Fail(EINVAL, fmt::format("{}: missing argument", word));
    };
    if (word == "tunnel") {
      if (!argument(2)) return missing();
      options.push_back(SetTunnel{words[i + 1], words[i + 2]});
      i += 2;
    } else if (word == "-tunnel" || word == "deletetunnel") {
      options.push_back(ClearTunnel{});
    } else if (word == "domain" || word == "tunneldomain") {
      if (!argument(1)) return missing();
      options.push_back(SetDomain{words[++i]});
    } else if (word == "-domain" || word == "-tunneldomain") {
      options.push_back(ClearDomain{});
    } else if (word == "up") {
      options.push_back(SetUp{true});
    } else if (word == "down") {
      options.push_back(SetUp{false});
    } else if (word == "mtu") {
      if (!argument(1)) return missing();
      options.push_back(SetMtu{words[++i]});
    } else if (word == "lladdr") {
      if (!argument(1)) return missing();
      options.push_back(SetLladdr{words[++i]});
    } else if (word == "header") {
      if (!argument(1)) return missing();
      options.push_back(SetHeader{words[++i]});
    } else if (word == "master") {
      if (!argument(1)) return missing();
      options.push_back(SetMaster{words[++i]});
    } else if (word == "-master" || word == "nomaster") {
      options.push_back(ClearMaster{});
    } else if (word == "eoip") {
      if (!argument(1)) return missing();
      options.push_back(SetEoip{words[++i]});
    } else if (word == "-eoip") {
      options.push_back(ClearEoip{});
    } else if (word == "keepalive") {
      if (!argument(1)) return missing();
      options.push_back(SetKeepalive{words[++i]});
    } else if (word == "ttl" || word == "tunnelttl") {
      if (!argument(1)) return missing();
      options.push_back(SetTtl{words[++i]});
    } else if (word == "df" || word == "tunneldf") {
      options.push_back(SetDf{true});
    } else if (word == "-df" || word == "-tunneldf") {
      options.push_back(SetDf{false});
    } else if (word == "tos") {
      if (!argument(1)) return missing();
      options.push_back(SetTos{words[++i]});
    } else if (word == "-tos") {
      options.push_back(ClearTos{});
    } else if (word == "fwmark") {
      if (!argument(1)) return missing();
      options.push_back(SetFwmark{words[++i]});
    } else if (word == "-fwmark") {
      options.push_back(ClearFwmark{});
    } else {
      return Fail(EINVAL, fmt::format("{}: unknown option", word));
    }
  }
  return options;
}

std::vector<std::string> InterfaceOptionWords(
    std::span<const InterfaceOption> options) {
  std::vector<std::string> words;
  for (const auto& option : options) {
    std::visit(
        Overloaded{
            [&](const SetTunnel& o) {
              words.insert(words.end(), {"tunnel", o.source, o.destination});
            },
            [&](const ClearTunnel&) { words.push_back("-tunnel"); },
            [&](const SetDomain& o) {
              words.insert(words.end(), {"domain", o.name});
            },
            [&](const ClearDomain&) { words.push_back("-domain"); },
            [&](const SetUp& o) { words.push_back(o.up ? "up" : "down"); },
            [&](const SetMtu& o) {
              words.insert(words.end(), {"mtu", o.mtu});
            },
            [&](const SetLladdr& o) {
              words.insert(words.end(), {"lladdr", o.mac});
            },
            [&](const SetHeader& o) {
              words.insert(words.end(), {"header", o.mode});
            },
            [&](const SetMaster& o) {
              words.insert(words.end(), {"master", o.name});
            },
            [&](const ClearMaster&) { words.push_back("-master"); },
            [&](const SetEoip& o) {
              words.insert(words.end(), {"eoip", o.id});
            },
            [&](const ClearEoip&) { words.push_back("-eoip"); },
            [&](const SetKeepalive& o) {
              words.insert(words.end(), {"keepalive", o.seconds});
            },
            [&](const SetTtl& o) {
              words.insert(words.end(), {"ttl", o.ttl});
            },
            [&](const SetDf& o) { words.push_back(o.df ? "df" : "-df"); },
            [&](const SetTos& o) {
              words.insert(words.end(), {"tos", o.tos});
            },
            [&](const ClearTos&) { words.push_back("-tos"); },
            [&](const SetFwmark& o) {
              words.insert(words.end(), {"fwmark", o.fwmark});
            },
            [&](const ClearFwmark&) { words.push_back("-fwmark"); },
        },
        option);
  }
  return words;
}

std::string_view EndpointProblem(const IpAddress& address) {
  const auto b = address.bytes();
  const auto zero = [&](size_t from, size_t to) {
    return std::all_of(b.begin() + from, b.begin() + to,
                       [](uint8_t v) { return v == 0; });
  };
  switch (address.family()) {
    case Family::kNone:
      return "not an IP address";
    case Family::kIpv4:
      if (address.is_unspecified()) return "unspecified";
      if (b[0] == 0) return "in 0.0.0.0/8";
      if (b[0] == 127) return "loopback";
      if (address.is_multicast()) return "multicast";
      if (std::all_of(b.begin(), b.end(),
                      [](uint8_t v) { return v == 0xff; })) {
        return "broadcast";
      }
      return {};
    case Family::kIpv6:
      if (address.is_unspecified()) return "unspecified";
      if (zero(0, 15) && b[15] == 1) return "loopback";
      if (address.is_multicast()) return "multicast";
      if (zero(0, 10) && b[10] == 0xff && b[11] == 0xff) return "IPv4-mapped";
      if (zero(0, 12)) return "IPv4-compatible";
      return {};
  }
  return {};
}

std::string AddressProblem(const Tunnel& addresses) {
  const auto& source = addresses.source;
  const auto& destination = addresses.destination;
  for (const IpAddress* address : {&source, &destination}) {
    if (auto why = EndpointProblem(*address); !why.empty()) {
      return address->family() == Family::kNone
                 ? std::string(why)
                 : fmt::format("{} is {}", address->ToString(), why);
    }
  }
  if (source.family() != destination.family()) return "different families";
  if (source == destination) return "source and destination are the same";
  return {};
}

namespace {

bool SameName(std::string_view a, std::string_view b) {
  // Host names are compared without case (RFC 4343), and "x." is "x".
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string TunnelProblem(const TunnelConfig& tunnel) {
  for (const TunnelEndpoint* end : {&tunnel.source, &tunnel.destination}) {
    if (end->is_name()) continue;
    if (auto why = EndpointProblem(end->address); !why.empty()) {
      return end->address.family() == Family::kNone
                 ? std::string(why)
                 : fmt::format("{} is {}", end->address.ToString(), why);
    }
  }
  if (auto addresses = tunnel.LiteralAddresses()) {
    if (auto why = AddressProblem(*addresses); !why.empty()) return why;
  } else if (tunnel.source.is_name() && tunnel.destination.is_name() &&
             SameName(tunnel.source.host, tunnel.destination.host)) {
    return "source and destination are the same";
  }
  if (!tunnel.source.zone.empty() && !tunnel.destination.zone.empty() &&
      tunnel.source.zone != tunnel.destination.zone) {
    return "the zones differ";
  }
  return {};
}

}  // namespace

TunnelConfig::TunnelConfig(const Tunnel& addresses)
    : source(TunnelEndpoint::Literal(addresses.source)),
      destination(TunnelEndpoint::Literal(addresses.destination)) {
  if (addresses.scope == 0) return;
  for (TunnelEndpoint* end : {&source, &destination}) {
    if (IsLinkLocal(end->address)) end->zone = std::to_string(addresses.scope);
  }
}

Family TunnelConfig::family() const {
  if (!source.is_name()) return source.address.family();
  if (!destination.is_name()) return destination.address.family();
  return Family::kNone;
}

const std::string& TunnelConfig::zone() const {
  return destination.zone.empty() ? source.zone : destination.zone;
}

bool TunnelConfig::needs_lookup() const {
  return has_names() || source.has_named_zone() || destination.has_named_zone();
}

std::optional<Tunnel> TunnelConfig::LiteralAddresses() const {
  if (has_names()) return std::nullopt;
  const std::string& zone = this->zone();
  uint32_t scope = 0;
  if (!zone.empty()) {
    scope = (destination.zone.empty() ? source : destination).zone_index();
  }
  return Tunnel{source.address, destination.address, scope};
}

std::string TunnelConfig::ToString() const {
  return fmt::format("{} -> {}", source.ToString(), destination.ToString());
}

Status CheckTunnel(const TunnelConfig& tunnel) {
  if (auto why = TunnelProblem(tunnel); !why.empty()) {
    return Fail(EINVAL, fmt::format("tunnel {}: invalid argument ({})",
                                    tunnel.ToString(), why));
  }
  return {};
}

Result<TunnelConfig> ParseTunnel(std::string_view source,
                                 std::string_view destination) {
  // The endpoints as given, so that the refusal quotes the request.
  auto invalid = [&](std::string_view why) {
    return Fail(EINVAL, fmt::format("tunnel {} -> {}: invalid argument ({})",
                                    source, destination, why));
  };
  auto parsed_source = TunnelEndpoint::Parse(source);
  if (!parsed_source) return invalid(parsed_source.error().message);
  auto parsed_destination = TunnelEndpoint::Parse(destination);
  if (!parsed_destination) return invalid(parsed_destination.error().message);
  TunnelConfig tunnel{std::move(*parsed_source),
                      std::move(*parsed_destination)};
  if (auto why = TunnelProblem(tunnel); !why.empty()) return invalid(why);
  return tunnel;
}

namespace {

tl::unexpected<Error> BadMtu(std::string_view text) {
  return Fail(EINVAL, fmt::format("mtu {}: invalid argument (range {}-{})",
                                  text, kMinMtu, kMaxMtu));
}

}  // namespace

Status CheckMaster(std::string_view name) {
  if (auto valid = ValidateInterfaceName(name); !valid) {
    return Fail(EINVAL, fmt::format("master {}: invalid argument", name));
  }
  return {};
}

Status CheckMtu(uint32_t mtu) {
  if (mtu < kMinMtu || mtu > kMaxMtu) return BadMtu(std::to_string(mtu));
  return {};
}

Status CheckLladdr(const MacAddress& mac) {
  if (mac.is_multicast() || mac.is_zero()) {
    return Fail(EINVAL, fmt::format("lladdr {}: not a unicast address",
                                    mac.ToString()));
  }
  return {};
}

Result<uint32_t> ParseMtu(std::string_view text) {
  uint32_t mtu = 0;
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), mtu);
  if (error != std::errc() || end != text.data() + text.size() ||
      !CheckMtu(mtu)) {
    return BadMtu(text);
  }
  return mtu;
}

namespace {

// Decimal, or hexadecimal after "0x"/"0X"; no sign, no blanks, at most
// `max`.
std::optional<uint64_t> ParseNumber(std::string_view text, uint64_t max) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty() || text[0] == '+' || text[0] == '-') return std::nullopt;
  uint64_t value = 0;
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end != text.data() + text.size() || value > max) {
    return std::nullopt;
  }
  return value;
}

tl::unexpected<Error> BadEoipId(std::string_view text) {
  return Fail(EINVAL, fmt::format("eoip {}: invalid argument (range 0-{})",
                                  text, kMaxEoipId));
}

tl::unexpected<Error> BadKeepalive(std::string_view text) {
  return Fail(EINVAL,
              fmt::format("keepalive {}: invalid argument (seconds, 0-{})",
                          text, kMaxKeepalive));
}

tl::unexpected<Error> BadTtl(std::string_view text) {
  return Fail(EINVAL,
              fmt::format("ttl {}: invalid argument (range 1-255)", text));
}
tl::unexpected<Error> BadTos(std::string_view text) {
  return Fail(EINVAL,
              fmt::format("tos {}: invalid argument (0-255, 0x00-0xff or "
                          "inherit)",
                          text));
}
tl::unexpected<Error> BadFwmark(std::string_view text) {
  return Fail(
      EINVAL,
      fmt::format("fwmark {}: invalid argument (range 0-4294967295)", text));
}

}  // namespace

Result<uint16_t> ParseEoipId(std::string_view text) {
  auto id = ParseNumber(text, kMaxEoipId);
  if (!id) return BadEoipId(text);
  return static_cast<uint16_t>(*id);
}

Result<uint32_t> ParseKeepalive(std::string_view text) {
  auto seconds = ParseNumber(text, kMaxKeepalive);
  if (!seconds) return BadKeepalive(text);
  return *seconds;
}

Status CheckEoip(const InterfaceSettings& settings) {
  if (!settings.eoip) {
    if (settings.keepalive == kDefaultKeepalive) return {};
    return Fail(EINVAL, fmt::format("keepalive {}: invalid argument (only "
                                    "for EoIP tunnels: eoip ID)",
                                    settings.keepalive));
  }
  const uint16_t id = *settings.eoip;
  if (id > kMaxEoipId) return BadEoipId(std::to_string(id));
  if (settings.keepalive > kMaxKeepalive) {
    return BadKeepalive(std::to_string(settings.keepalive));
  }
  if (settings.header != HeaderMode::kStandard) {
    return Fail(EINVAL,
                fmt::format("eoip {}: invalid argument (EoIP has its own "
                            "header: not with header {})",
                            id, HeaderModeName(settings.header)));
  }
  if (settings.tunnel && settings.tunnel->family() == Family::kIpv4) {
    return Fail(EINVAL,
                fmt::format("eoip {}: invalid argument (EoIP tunnels are "
                            "IPv6: tunnel {} is IPv4)",
                            id, settings.tunnel->ToString()));
  }
  return {};
}

std::string OuterTos::ToString() const {
  switch (kind) {
    case Kind::kDefault:
      return "default";
    case Kind::kInherit:
      return "inherit";
    case Kind::kValue:
      break;
  }
  return fmt::format("{:#04x}", value);
}

Result<uint8_t> ParseTtl(std::string_view text) {
  const auto value = ParseNumber(text, 255);
  if (!value || *value == 0) return BadTtl(text);
  return static_cast<uint8_t>(*value);
}

Result<OuterTos> ParseTos(std::string_view text) {
  if (text == "inherit") return OuterTos::Inherit();
  if (text == "default") return OuterTos{};
  const auto value = ParseNumber(text, 255);
  if (!value) return BadTos(text);
  return OuterTos::Value(static_cast<uint8_t>(*value));
}

Result<uint32_t> ParseFwmark(std::string_view text) {
  const auto value = ParseNumber(text, UINT32_MAX);
  if (!value) return BadFwmark(text);
  return static_cast<uint32_t>(*value);
}

Result<uint8_t> CheckTtl(int64_t ttl) {
  if (ttl < 1 || ttl > 255) return BadTtl(std::to_string(ttl));
  return static_cast<uint8_t>(ttl);
}

Result<uint8_t> CheckTos(int64_t tos) {
  if (tos < 0 || tos > 255) return BadTos(std::to_string(tos));
  return static_cast<uint8_t>(tos);
}

Result<uint32_t> CheckFwmark(int64_t fwmark) {
  if (fwmark < 0 || fwmark > int64_t{UINT32_MAX}) {
    return BadFwmark(std::to_string(fwmark));
  }
  return static_cast<uint32_t>(fwmark);
}

OuterFields OuterFieldsOf(const InterfaceSettings& settings) {
  OuterFields fields;
  fields.ttl = settings.ttl;
  if (settings.tos.kind == OuterTos::Kind::kValue) {
    fields.tos = settings.tos.value;
  }
  fields.df = settings.df;
  fields.fwmark = settings.fwmark;
  return fields;
}

Result<MacAddress> ParseLladdr(std::string_view text) {
  auto mac = MacAddress::Parse(text);
  if (!mac) return tl::unexpected(mac.error());
  if (auto valid = CheckLladdr(*mac); !valid) {
    return tl::unexpected(valid.error());
  }
  return *mac;
}

Status ApplyInterfaceOptions(std::span<const InterfaceOption> options,
                             InterfaceSettings& settings) {
  std::optional<std::string> keepalive_given;  // as typed, for the message
  for (const auto& option : options) {
    Status status = std::visit(Overloaded{
                                   [&](const SetTunnel& o) -> Status {
                                     auto tunnel =
                                         ParseTunnel(o.source, o.destination);
                                     if (!tunnel)
                                       return tl::unexpected(tunnel.error());
                                     settings.tunnel = *tunnel;
                                     return {};
                                   },
                                   [&](const ClearTunnel&) -> Status {
                                     settings.tunnel.reset();
                                     return {};
                                   },
                                   [&](const SetDomain& o) -> Status {
                                     settings.domain = o.name;
                                     return {};
                                   },
                                   [&](const ClearDomain&) -> Status {
                                     settings.domain.clear();
                                     return {};
                                   },
                                   [&](const SetUp& o) -> Status {
                                     settings.up = o.up;
                                     return {};
                                   },
                                   [&](const SetMtu& o) -> Status {
                                     if (o.mtu == kAutoMtuWord) {
                                       settings.mtu_auto = true;
                                       return {};
                                     }
                                     auto mtu = ParseMtu(o.mtu);
                                     if (!mtu)
                                       return tl::unexpected(mtu.error());
                                     settings.mtu = *mtu;
                                     settings.mtu_auto = false;
                                     return {};
                                   },
                                   [&](const SetLladdr& o) -> Status {
                                     auto mac = ParseLladdr(o.mac);
                                     if (!mac)
                                       return tl::unexpected(mac.error());
                                     settings.lladdr = *mac;
                                     return {};
                                   },
                                   [&](const SetHeader& o) -> Status {
                                     auto mode = ParseHeaderMode(o.mode);
                                     if (!mode)
                                       return tl::unexpected(mode.error());
                                     settings.header = *mode;
                                     return {};
                                   },
                                   [&](const SetMaster& o) -> Status {
                                     if (auto ok = CheckMaster(o.name); !ok)
                                       return ok;
                                     settings.master = o.name;
                                     return {};
                                   },
                                   [&](const ClearMaster&) -> Status {
                                     settings.master.clear();
                                     return {};
                                   },
                                   [&](const SetEoip& o) -> Status {
                                     auto id = ParseEoipId(o.id);
                                     if (!id) return tl::unexpected(id.error());
                                     settings.eoip = *id;
                                     return {};
                                   },
                                   [&](const ClearEoip&) -> Status {
                                     settings.eoip.reset();
                                     settings.keepalive = kDefaultKeepalive;
                                     return {};
                                   },
                                   [&](const SetKeepalive& o) -> Status {
                                     auto seconds = ParseKeepalive(o.seconds);
                                     if (!seconds)
                                       return tl::unexpected(seconds.error());
                                     settings.keepalive = *seconds;
                                     keepalive_given = o.seconds;
                                     return {};
                                   },
                                   [&](const SetTtl& o) -> Status {
                                     auto ttl = ParseTtl(o.ttl);
                                     if (!ttl)
                                       return tl::unexpected(ttl.error());
                                     settings.ttl = *ttl;
                                     return {};
                                   },
                                   [&](const SetDf& o) -> Status {
                                     settings.df = o.df;
                                     return {};
                                   },
                                   [&](const SetTos& o) -> Status {
                                     auto tos = ParseTos(o.tos);
                                     if (!tos)
                                       return tl::unexpected(tos.error());
                                     settings.tos = *tos;
                                     return {};
                                   },
                                   [&](const ClearTos&) -> Status {
                                     settings.tos = OuterTos{};
                                     return {};
                                   },
                                   [&](const SetFwmark& o) -> Status {
                                     auto fwmark = ParseFwmark(o.fwmark);
                                     if (!fwmark)
                                       return tl::unexpected(fwmark.error());
                                     settings.fwmark = *fwmark;
                                     return {};
                                   },
                                   [&](const ClearFwmark&) -> Status {
                                     settings.fwmark = 0;
                                     return {};
                                   },
                               },
                               option);
    if (!status) return status;
  }
  // The whole, once every option is in: `eoip 5 tunnel A B` and `tunnel A B
  // eoip 5` are the same request.
  if (keepalive_given && !settings.eoip) {
    return Fail(EINVAL, fmt::format("keepalive {}: invalid argument (only "
                                    "for EoIP tunnels: eoip ID)",
                                    *keepalive_given));
  }
  return CheckEoip(settings);
}

}  // namespace etherip

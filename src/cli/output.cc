#include "cli/output.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <iterator>
#include <map>
#include <utility>

namespace etherip::cli {
namespace {

using Json = nlohmann::json;
using control::Op;

std::string FlagsOf(const control::InterfaceView& view) {
  if (view.settings.up && view.running) return "UP,RUNNING";
  if (view.settings.up) return "UP";
  if (view.running) return "RUNNING";  // not by SPEC 2; shown if reported
  return "";
}

// An endpoint as configured, followed by the address a host name resolved
// to: "peer.example (192.0.2.2)".
std::string EndpointText(const TunnelEndpoint& end, const IpAddress* used) {
  if (!end.is_name() || used == nullptr) return end.ToString();
  return fmt::format("{} ({})", end.host, used->ToString());
}

std::string TunnelLine(const control::InterfaceView& view) {
  const InterfaceSettings& settings = view.settings;
  std::string line;
  if (!settings.tunnel) {
    line = "tunnel: none";
  } else if (view.unresolved.empty()) {
    const Tunnel* used = view.addresses ? &*view.addresses : nullptr;
    const Family family =
        used != nullptr ? used->source.family() : settings.tunnel->family();
    line = fmt::format(
        "tunnel {} {} -> {}", family == Family::kIpv6 ? "inet6" : "inet",
        EndpointText(settings.tunnel->source, used ? &used->source : nullptr),
        EndpointText(settings.tunnel->destination,
                     used ? &used->destination : nullptr));
  } else {
    // Not in use: no family to give until its names resolve.
    line = fmt::format("tunnel: {}", settings.tunnel->ToString());
  }
  if (!settings.domain.empty())
    line += fmt::format(" domain {}", settings.domain);
  if (settings.header != HeaderMode::kStandard) {
    line += fmt::format(" header {}", HeaderModeName(settings.header));
  }
  if (settings.eoip) {
    line += fmt::format(" eoip {}", *settings.eoip);
    if (settings.keepalive != kDefaultKeepalive) {
      line += fmt::format(" keepalive {}", settings.keepalive);
    }
  }
  // Outer header options that are not the defaults.
  if (settings.ttl != kOuterTtl) line += fmt::format(" ttl {}", settings.ttl);
  if (settings.df) line += " df";
  if (!settings.tos.is_default()) {
    line += fmt::format(" tos {}", settings.tos.ToString());
  }
  if (settings.fwmark != 0) {
    line += fmt::format(" fwmark {:#x}", settings.fwmark);
  }
  if (settings.tunnel && !view.unresolved.empty()) {
    line += fmt::format(" (unresolved: {})", view.unresolved);
  }
  return line;
}

// "960 kbit/s", "1.23 Mbit/s": three significant digits, SI prefixes.
std::string BitRateText(double bits_per_second) {
  static constexpr std::string_view kUnits[] = {"bit/s", "kbit/s", "Mbit/s",
                                                "Gbit/s", "Tbit/s"};
  size_t unit = 0;
  while (bits_per_second >= 1000 && unit + 1 < std::size(kUnits)) {
    bits_per_second /= 1000;
    ++unit;
  }
  return fmt::format("{:.3g} {}", bits_per_second, kUnits[unit]);
}

tl::unexpected<Error> Missing(std::string_view field, Op op) {
  return Fail(EPROTO, fmt::format("bad response from etheripd: no \"{}\" in "
                                  "the answer to {}",
                                  field, control::OpName(op)));
}

}  // namespace

std::string DumpJson(const nlohmann::json& json) {
  // nlohmann writes SPEC 6's separators (", " and ": ") only when it indents;
  // with an indent of 0 every line break is structural (a break inside a
  // string is escaped), so folding the lines gives the one-line form.
  const std::string lines =
      json.dump(0, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(lines.size());
  for (const char c : lines) {
    if (c != '\n') {
      out += c;
    } else if (!out.empty() && out.back() == ',') {
      out += ' ';
    }
  }
  return out;
}

std::string FormatInterfacesText(
    std::span<const control::InterfaceView> interfaces) {
  std::string text;
  // Formatted in place: with thousands of interfaces, temporaries add up.
  auto out = std::back_inserter(text);
  for (const control::InterfaceView& view : interfaces) {
    const auto& counters = view.counters;
    fmt::format_to(out, "{}: flags=<{}> mtu {}", view.name, FlagsOf(view),
                   view.settings.mtu);
    if (view.settings.mtu_auto) fmt::format_to(out, " (auto)");
    if (!view.settings.master.empty()) {
      fmt::format_to(out, " master {}", view.settings.master);
    }
    *out++ = '\n';
    fmt::format_to(out, "\tlladdr {}\n", view.settings.lladdr.ToString());
    fmt::format_to(out, "\t{}\n", TunnelLine(view));
    fmt::format_to(out, "\tRX packets {} bytes {} drops {}", counters.ipackets,
                   counters.ibytes, counters.idrops);
    if (view.settings.eoip || counters.keepalives != 0) {
      fmt::format_to(out, " keepalives {}", counters.keepalives);
    }
    *out++ = '\n';
    fmt::format_to(out, "\tTX packets {} bytes {} errors {}", counters.opackets,
                   counters.obytes, counters.oerrors);
    if (counters.loopdrops != 0) {
      fmt::format_to(out, " loopdrops {}", counters.loopdrops);
    }
    *out++ = '\n';
  }
  return text;
}

std::string FormatRates(std::span<const control::InterfaceView> before,
                        std::span<const control::InterfaceView> after,
                        double seconds, bool json) {
  std::map<std::string_view, const InterfaceCounterValues*> earlier;
  for (const auto& view : before) earlier[view.name] = &view.counters;
  auto rate = [&](uint64_t from, uint64_t to) {
    return static_cast<double>(to >= from ? to - from : to) / seconds;
  };
  std::string text;
  Json array = Json::array();
  for (const auto& view : after) {
    auto found = earlier.find(view.name);
    if (found == earlier.end()) continue;
    const InterfaceCounterValues& from = *found->second;
    const InterfaceCounterValues& to = view.counters;
    const double rx_packets = rate(from.ipackets, to.ipackets);
    const double rx_bits = 8 * rate(from.ibytes, to.ibytes);
    const double tx_packets = rate(from.opackets, to.opackets);
    const double tx_bits = 8 * rate(from.obytes, to.obytes);
    if (json) {
      array.push_back({{"name", view.name},
                       {"rx_packets_per_second", std::llround(rx_packets)},
                       {"rx_bits_per_second", std::llround(rx_bits)},
                       {"tx_packets_per_second", std::llround(tx_packets)},
                       {"tx_bits_per_second", std::llround(tx_bits)}});
    } else {
      text += fmt::format("{}: RX {} pkt/s {} TX {} pkt/s {}\n", view.name,
                          std::llround(rx_packets), BitRateText(rx_bits),
                          std::llround(tx_packets), BitRateText(tx_bits));
    }
  }
  return json ? DumpJson(array) + "\n" : text;
}

std::string FormatStatsText(const GlobalCounterValues& stats) {
  std::string text;
  for (const auto& field : kGlobalCounterFields) {
    fmt::format_to(std::back_inserter(text), "{} {}\n", field.name,
                   stats.*field.value);
  }
  return text;
}

Result<std::string> FormatResponse(const control::Request& request,
                                   control::Response response, bool json) {
  switch (request.op) {
    case Op::kShow: {
      if (!json) return FormatInterfacesText(response.interfaces);
      Json array = Json::array();
      for (const auto& view : response.interfaces) {
        array.push_back(control::InterfaceJson(view));
      }
      return DumpJson(array) + "\n";
    }
    case Op::kStats:
      if (!response.stats) return Missing("stats", request.op);
      if (json) return DumpJson(control::StatsJson(*response.stats)) + "\n";
      return FormatStatsText(*response.stats);
    case Op::kAllow:
      if (request.allow) return std::string();  // a change prints nothing
      if (!response.allow) return Missing("allow", request.op);
      if (json) return DumpJson(Json{{"allow", *response.allow}}) + "\n";
      return std::string(*response.allow ? "1\n" : "0\n");
    case Op::kShowconf: {
      if (json) return DumpJson(Json{{"config", response.config}}) + "\n";
      std::string text = std::move(response.config);
      if (!text.empty() && text.back() != '\n') text += '\n';
      return text;
    }
    case Op::kCreate:
    case Op::kDestroy:
    case Op::kSet:
    case Op::kReload:
      break;
  }
  return std::string();
}

std::string FormatFailure(const Error& error, std::string_view subject) {
  if (subject.empty()) return fmt::format("etherip: {}\n", error.message);
  return fmt::format("etherip: {}: {}\n", subject, error.message);
}

}  // namespace etherip::cli

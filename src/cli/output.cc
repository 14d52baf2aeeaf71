#include "cli/output.h"

#include <fmt/format.h>

#include <cerrno>
#include <iterator>
#include <utility>

namespace etherip::cli {
namespace {

using Json = nlohmann::json;
using control::Op;

std::string DumpScalar(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AppendJson(const Json& json, std::string& out) {
  if (json.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, value] : json.items()) {
      if (!first) out += ", ";
      first = false;
      out += DumpScalar(Json(key));
      out += ": ";
      AppendJson(value, out);
    }
    out += '}';
  } else if (json.is_array()) {
    out += '[';
    bool first = true;
    for (const Json& value : json) {
      if (!first) out += ", ";
      first = false;
      AppendJson(value, out);
    }
    out += ']';
  } else {
    out += DumpScalar(json);
  }
}

std::string FlagsOf(const control::InterfaceView& view) {
  if (view.settings.up && view.running) return "UP,RUNNING";
  if (view.settings.up) return "UP";
  if (view.running) return "RUNNING";  // not by SPEC 2; shown if reported
  return "";
}

std::string TunnelLine(const InterfaceSettings& settings) {
  std::string line;
  if (settings.tunnel) {
    const bool ipv6 = settings.tunnel->source.family() == Family::kIpv6;
    line = fmt::format("tunnel {} {}", ipv6 ? "inet6" : "inet",
                       settings.tunnel->ToString());
  } else {
    line = "tunnel: none";
  }
  if (!settings.domain.empty())
    line += fmt::format(" domain {}", settings.domain);
  if (settings.header != HeaderMode::kStandard) {
    line += fmt::format(" header {}", HeaderModeName(settings.header));
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
  return line;
}

tl::unexpected<Error> Missing(std::string_view field, Op op) {
  return Fail(EPROTO, fmt::format("bad response from etheripd: no \"{}\" in "
                                  "the answer to {}",
                                  field, control::OpName(op)));
}

}  // namespace

std::string DumpJson(const nlohmann::json& json) {
  std::string out;
  AppendJson(json, out);
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
    if (!view.settings.master.empty()) {
      fmt::format_to(out, " master {}", view.settings.master);
    }
    *out++ = '\n';
    fmt::format_to(out, "\tlladdr {}\n", view.settings.lladdr.ToString());
    fmt::format_to(out, "\t{}\n", TunnelLine(view.settings));
    fmt::format_to(out, "\tRX packets {} bytes {} drops {}\n",
                   counters.ipackets, counters.ibytes, counters.idrops);
    fmt::format_to(out, "\tTX packets {} bytes {} errors {}", counters.opackets,
                   counters.obytes, counters.oerrors);
    if (counters.loopdrops != 0) {
      fmt::format_to(out, " loopdrops {}", counters.loopdrops);
    }
    *out++ = '\n';
  }
  return text;
}

std::string FormatStatsText(const GlobalCounterValues& stats) {
  return fmt::format(
      "ipackets {}\nibytes {}\nopackets {}\nobytes {}\nadrops {}\n"
      "pdrops {}\nnoifdrops {}\nidrops {}\nqdrops {}\nloopdrops {}\n",
      stats.ipackets, stats.ibytes, stats.opackets, stats.obytes, stats.adrops,
      stats.pdrops, stats.noifdrops, stats.idrops, stats.qdrops,
      stats.loopdrops);
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

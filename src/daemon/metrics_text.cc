#include "daemon/metrics_text.h"

#include <fmt/format.h>

#include <iterator>
#include <string_view>
#include <vector>

namespace etherip {
namespace {

// The HELP line of each counter, by its SPEC 5 name.
std::string_view HelpOf(std::string_view name) {
  struct Help {
    std::string_view name, text;
  };
  static constexpr Help kHelp[] = {
      {"ipackets", "EtherIP packets received and delivered to an interface."},
      {"ibytes", "Bytes of the frames received (after the EtherIP header)."},
      {"opackets", "Frames sent through a tunnel."},
      {"obytes", "Bytes of the frames sent through a tunnel."},
      {"adrops", "Received packets dropped: bad EtherIP header or frame."},
      {"pdrops", "Received packets dropped because allow is off."},
      {"noifdrops", "Received packets that match no tunnel."},
      {"idrops", "Received frames for an interface that is not up."},
      {"qdrops",
       "Packets the kernel dropped at the daemon's socket before it read "
       "them."},
      {"oerrors", "Frames not sent: no tunnel, or the send failed."},
      {"keepalives", "EoIP keepalives received."},
  };
  for (const Help& help : kHelp) {
    if (help.name == name) return help.text;
  }
  return "etherip counter (SPEC 5).";
}

void AppendFamily(std::string& out, std::string_view metric,
                  std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n",
                 metric, help, metric, type);
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string RenderMetrics(const GlobalCounterValues& global, bool allow,
                          std::span<const InterfaceCounterSource> interfaces) {
  std::string out;
  for (const auto& field : kGlobalCounterFields) {
    const std::string metric = fmt::format("etherip_{}_total", field.name);
    AppendFamily(out, metric, "counter", HelpOf(field.name));
    fmt::format_to(std::back_inserter(out), "{} {}\n", metric,
                   global.*field.value);
  }
  AppendFamily(out, "etherip_allow", "gauge",
               "1 while received EtherIP packets are accepted (allow).");
  fmt::format_to(std::back_inserter(out), "etherip_allow {}\n", allow ? 1 : 0);
  AppendFamily(out, "etherip_interfaces", "gauge",
               "Interfaces the daemon has.");
  fmt::format_to(std::back_inserter(out), "etherip_interfaces {}\n",
                 interfaces.size());

  std::vector<std::string> labels;
  std::vector<InterfaceCounterValues> values;
  labels.reserve(interfaces.size());
  values.reserve(interfaces.size());
  for (const InterfaceCounterSource& source : interfaces) {
    labels.push_back(
        fmt::format("{{interface=\"{}\"}}", EscapeLabelValue(source.name)));
    values.push_back(source.counters ? source.counters->Read()
                                     : InterfaceCounterValues{});
  }
  AppendFamily(out, "etherip_interface_running", "gauge",
               "1 while the interface is running (up, with a tunnel, in a "
               "domain that exists).");
  for (size_t i = 0; i < interfaces.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "etherip_interface_running{} {}\n",
                   labels[i], interfaces[i].running ? 1 : 0);
  }
  for (const auto& field : kInterfaceCounterFields) {
    const std::string metric =
        fmt::format("etherip_interface_{}_total", field.name);
    AppendFamily(out, metric, "counter", HelpOf(field.name));
    for (size_t i = 0; i < interfaces.size(); ++i) {
      fmt::format_to(std::back_inserter(out), "{}{} {}\n", metric, labels[i],
                     values[i].*field.value);
    }
  }
  return out;
}

}  // namespace etherip

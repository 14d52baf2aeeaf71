// The Prometheus text exposition format (version 0.0.4) of the daemon's
// counters: every global counter as etherip_NAME_total, every interface
// counter as etherip_interface_NAME_total{interface="..."} (NAME as in
// SPEC 5), and the gauges etherip_allow, etherip_interfaces and
// etherip_interface_running. SPEC 8 lists them.
#pragma once

#include <span>
#include <string>

#include "core/counters.h"
#include "daemon/counter_source.h"

namespace etherip {

std::string RenderMetrics(const GlobalCounterValues& global, bool allow,
                          std::span<const InterfaceCounterSource> interfaces);

// A label value as the format quotes it: backslash, double quote and
// newline escaped.
std::string EscapeLabelValue(std::string_view value);

}  // namespace etherip

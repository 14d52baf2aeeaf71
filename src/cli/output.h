// What `etherip` prints: the text and JSON forms of responses (SPEC 6), and
// its error messages.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "control/protocol.h"
#include "core/counters.h"
#include "core/error.h"

namespace etherip::cli {

// JSON on one line, with the separators SPEC 6 writes: {"allow": true}.
std::string DumpJson(const nlohmann::json& json);

// `show` as text, one block per interface, in the order given:
//   etherip0: flags=<UP,RUNNING> mtu 1500
//   \tlladdr fe:e1:ba:d0:00:01
//   \ttunnel inet 192.0.2.1 -> 192.0.2.2 domain underlay
//   \tRX packets 12 bytes 1400 drops 0
//   \tTX packets 10 bytes 1200 errors 0
// flags lists UP and RUNNING when they hold (flags=<> when neither); "drops"
// is idrops (received while the interface was not up);
// "inet6" for IPv6 tunnels; "tunnel: none" without a tunnel; " domain NAME"
// only when a domain is set.
std::string FormatInterfacesText(
    std::span<const control::InterfaceView> interfaces);
// `show -r`: each interface of `after` that `before` has too, with its
// packet and bit rates (bits of the frames, from ibytes and obytes) over
// `seconds`. Text, one line per interface:
//   etherip0: RX 120 pkt/s 1.23 Mbit/s TX 100 pkt/s 960 kbit/s
// or JSON: [{"name": "etherip0", "rx_packets_per_second": 120,
// "rx_bits_per_second": 1230000, "tx_packets_per_second": 100,
// "tx_bits_per_second": 960000}]. A counter that went back (the interface
// was made again) counts from 0.
std::string FormatRates(std::span<const control::InterfaceView> before,
                        std::span<const control::InterfaceView> after,
                        double seconds, bool json);
// `stats` as text: "NAME VALUE" per line, in SPEC 5 order.
std::string FormatStatsText(const GlobalCounterValues& stats);

// What a successful response to `request` prints on stdout, in text or JSON
// (`show -j`: an array, even for one interface; `stats -j`: one object;
// `allow -j`: {"allow": true|false}; `showconf -j`: {"config": "TEXT"}).
// create, destroy, set, reload and setting allow print nothing. EPROTO when
// the response lacks what the request asked for. Takes the response by
// value: the showconf text, megabytes with many interfaces, is moved into
// the output rather than copied.
Result<std::string> FormatResponse(const control::Request& request,
                                   control::Response response, bool json);

// What a refused or failed request prints on stderr:
// "etherip: SUBJECT: MESSAGE\n", or "etherip: MESSAGE\n" without a subject.
std::string FormatFailure(const Error& error, std::string_view subject = "");

}  // namespace etherip::cli

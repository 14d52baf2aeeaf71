#include "cli/output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

namespace etherip::cli {
namespace {

using control::InterfaceView;
using control::Op;
using control::Request;
using control::Response;
using Json = nlohmann::json;

InterfaceView Running() {
  InterfaceView view;
  view.name = "etherip0";
  view.settings.tunnel = *ParseTunnel("192.0.2.1", "192.0.2.2");
  view.settings.domain = "underlay";
  view.settings.up = true;
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:01");
  view.running = true;
  view.counters = {12, 1400, 10, 1200, 0, 2};
  view.addresses = view.settings.tunnel->LiteralAddresses();
  return view;
}

InterfaceView Ipv6Down() {
  InterfaceView view;
  view.name = "etherip1";
  view.settings.tunnel = *ParseTunnel("2001:db8::1", "2001:db8::2");
  view.settings.mtu = 9000;
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:02");
  view.counters = {0, 0, 0, 0, 7, 0};
  return view;
}

InterfaceView UpWithoutTunnel() {
  InterfaceView view;
  view.name = "etherip2";
  view.settings.up = true;
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:03");
  return view;
}

std::string Format(const Request& request, const Response& response,
                   bool json) {
  auto text = FormatResponse(request, response, json);
  EXPECT_TRUE(text) << text.error().message;
  return text ? *text : "";
}

TEST(DumpJson, UsesTheSeparatorsOfSpec6) {
  EXPECT_EQ(DumpJson(Json{{"allow", true}}), R"({"allow": true})");
  EXPECT_EQ(DumpJson(Json::array()), "[]");
  EXPECT_EQ(DumpJson(Json::object()), "{}");
  EXPECT_EQ(DumpJson(Json::parse(R"({"b": [1, {"c": "x\"y"}], "a": null})")),
            R"({"a": null, "b": [1, {"c": "x\"y"}]})");
  EXPECT_EQ(DumpJson(Json("bad \xff")), "\"bad \xef\xbf\xbd\"");
  EXPECT_EQ(
      DumpJson(Json{{"a,\nb", "c,\n"}, {"e", Json::array({Json::object()})}}),
      R"({"a,\nb": "c,\n", "e": [{}]})");
}

TEST(FormatInterfacesText, NamesAHeaderModeOtherThanStandard) {
  InterfaceView view = Ipv6Down();
  view.settings.header = HeaderMode::kReversed;
  EXPECT_NE(FormatInterfacesText({&view, 1})
                .find("\ttunnel inet6 2001:db8::1 -> 2001:db8::2 header "
                      "reversed\n"),
            std::string::npos);
}

TEST(FormatInterfacesText, ShowsAnEoipTunnelItsKeepaliveAndKeepalives) {
  InterfaceView view = Ipv6Down();
  view.settings.eoip = 0;
  view.counters.keepalives = 5;
  const std::string text = FormatInterfacesText({&view, 1});
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "\ttunnel inet6 2001:db8::1 -> 2001:db8::2 eoip 0\n"
                        "\tRX packets 0 bytes 0 drops 0 keepalives 5\n"));
  // The keepalive interval only when it is not the default.
  view.settings.eoip = 4095;
  view.settings.keepalive = 0;
  EXPECT_THAT(FormatInterfacesText({&view, 1}),
              ::testing::HasSubstr("-> 2001:db8::2 eoip 4095 keepalive 0\n"));
}

TEST(FormatInterfacesText, NamesOuterOptionsOtherThanTheDefaults) {
  InterfaceView view = Running();
  view.settings.ttl = 9;
  view.settings.df = true;
  view.settings.tos = OuterTos::Value(0xb8);
  view.settings.fwmark = 0x2a;
  EXPECT_THAT(FormatInterfacesText({&view, 1}),
              ::testing::HasSubstr("\ttunnel inet 192.0.2.1 -> 192.0.2.2 "
                                   "domain underlay ttl 9 df tos 0xb8 "
                                   "fwmark 0x2a\n"));
  view.settings.tos = OuterTos::Inherit();
  EXPECT_THAT(FormatInterfacesText({&view, 1}),
              ::testing::HasSubstr(" df tos inherit fwmark 0x2a\n"));
  // An explicit value equal to the family's default is still named: it
  // stays when the tunnel changes family.
  view = Running();
  view.settings.tos = OuterTos::Value(0x10);
  EXPECT_THAT(FormatInterfacesText({&view, 1}),
              ::testing::HasSubstr("domain underlay tos 0x10\n"));
}

TEST(FormatInterfacesText, NamesLoopdropsWhenThereAreAny) {
  InterfaceView view = Running();
  EXPECT_THAT(FormatInterfacesText({&view, 1}),
              ::testing::HasSubstr("\tTX packets 10 bytes 1200 errors 0\n"));
  view.counters.loopdrops = 5;
  EXPECT_THAT(FormatInterfacesText({&view, 1}),
              ::testing::HasSubstr(
                  "\tTX packets 10 bytes 1200 errors 0 loopdrops 5\n"));
}

TEST(FormatResponse, ShowsOuterOptionsAndLoopdropsInJson) {
  Response response;
  response.interfaces = {Running(), Running()};
  auto& options = response.interfaces[0].settings;
  options.ttl = 9;
  options.df = true;
  options.tos = OuterTos::Value(0xb8);
  options.fwmark = 4294967295u;
  response.interfaces[0].counters.loopdrops = 3;
  response.interfaces[1].settings.tos = OuterTos::Inherit();
  const Json json = Json::parse(Format({.op = Op::kShow}, response, true));
  EXPECT_EQ(json[0]["ttl"], 9);
  EXPECT_EQ(json[0]["df"], true);
  EXPECT_EQ(json[0]["tos"], 0xb8);
  EXPECT_EQ(json[0]["fwmark"], 4294967295u);
  EXPECT_EQ(json[0]["counters"]["loopdrops"], 3);
  EXPECT_EQ(json[1]["tos"], "inherit");
}

TEST(FormatInterfacesText, ReadsLikeIfconfig) {
  const std::vector<InterfaceView> views = {Running(), Ipv6Down(),
                                            UpWithoutTunnel()};
  EXPECT_EQ(FormatInterfacesText(views),
            "etherip0: flags=<UP,RUNNING> mtu 1500\n"
            "\tlladdr fe:e1:ba:d0:00:01\n"
            "\ttunnel inet 192.0.2.1 -> 192.0.2.2 domain underlay\n"
            "\tRX packets 12 bytes 1400 drops 2\n"
            "\tTX packets 10 bytes 1200 errors 0\n"
            "etherip1: flags=<> mtu 9000\n"
            "\tlladdr fe:e1:ba:d0:00:02\n"
            "\ttunnel inet6 2001:db8::1 -> 2001:db8::2\n"
            "\tRX packets 0 bytes 0 drops 0\n"
            "\tTX packets 0 bytes 0 errors 7\n"
            "etherip2: flags=<UP> mtu 1500\n"
            "\tlladdr fe:e1:ba:d0:00:03\n"
            "\ttunnel: none\n"
            "\tRX packets 0 bytes 0 drops 0\n"
            "\tTX packets 0 bytes 0 errors 0\n");
  EXPECT_EQ(FormatInterfacesText({}), "");
}

TEST(FormatRates, RatesOverTheIntervalForInterfacesInBothSamples) {
  InterfaceView before = Running();
  before.counters = {
      .ipackets = 100, .ibytes = 10'000, .opackets = 50, .obytes = 1'000'000};
  InterfaceView after = before;
  after.counters.ipackets += 240;
  after.counters.ibytes += 300'000;  // 1.2 Mbit over 2 s
  after.counters.opackets += 2;
  after.counters.obytes += 250;     // 1000 bit over 2 s
  InterfaceView gone = Ipv6Down();  // only in `before`
  gone.name = "etherip9";
  InterfaceView fresh = Ipv6Down();  // only in `after`
  fresh.name = "etherip7";
  const std::vector<InterfaceView> first = {before, gone};
  const std::vector<InterfaceView> second = {after, fresh};
  EXPECT_EQ(FormatRates(first, second, 2.0, false),
            "etherip0: RX 120 pkt/s 1.2 Mbit/s TX 1 pkt/s 1 kbit/s\n");
  const Json json = Json::parse(FormatRates(first, second, 2.0, true));
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0], Json::parse(R"({"name": "etherip0",
      "rx_packets_per_second": 120, "rx_bits_per_second": 1200000,
      "tx_packets_per_second": 1, "tx_bits_per_second": 1000})"));
  // Counters that went back (the interface was made again) count from 0.
  InterfaceView remade = Running();
  remade.counters = {.ipackets = 10, .ibytes = 1000};
  EXPECT_EQ(FormatRates(first, std::vector{remade}, 1.0, false),
            "etherip0: RX 10 pkt/s 8 kbit/s TX 0 pkt/s 0 bit/s\n");
  EXPECT_EQ(FormatRates({}, {}, 1.0, true), "[]\n");
}

TEST(FormatInterfacesText, MarksAnAutomaticMtu) {
  InterfaceView view = Running();
  view.settings.mtu = 1464;
  view.settings.mtu_auto = true;
  EXPECT_THAT(FormatInterfacesText(std::span(&view, 1)),
              ::testing::StartsWith("etherip0: flags=<UP,RUNNING> mtu 1464 "
                                    "(auto)\n\tlladdr "));
}

TEST(FormatInterfacesText, ShowsHostNamesWithWhatTheyResolvedTo) {
  InterfaceView view = Running();
  view.settings.tunnel = *ParseTunnel("192.0.2.1", "peer.example");
  view.addresses =
      Tunnel{*IpAddress::Parse("192.0.2.1"), *IpAddress::Parse("198.51.100.7")};
  EXPECT_THAT(FormatInterfacesText(std::span(&view, 1)),
              ::testing::HasSubstr("\ttunnel inet 192.0.2.1 -> peer.example "
                                   "(198.51.100.7) domain underlay\n"));
  view.settings.tunnel = *ParseTunnel("a.example", "b.example");
  view.addresses = Tunnel{*IpAddress::Parse("2001:db8::1"),
                          *IpAddress::Parse("2001:db8::2")};
  EXPECT_THAT(FormatInterfacesText(std::span(&view, 1)),
              ::testing::HasSubstr("\ttunnel inet6 a.example (2001:db8::1) -> "
                                   "b.example (2001:db8::2) domain"));
}

TEST(FormatInterfacesText, SaysWhyATunnelIsUnresolved) {
  InterfaceView view = Running();
  view.running = false;
  view.settings.tunnel = *ParseTunnel("192.0.2.1", "peer.example");
  view.addresses.reset();
  view.unresolved = "peer.example: Name or service not known";
  EXPECT_THAT(FormatInterfacesText(std::span(&view, 1)),
              ::testing::HasSubstr(
                  "etherip0: flags=<UP> mtu 1500\n"
                  "\tlladdr fe:e1:ba:d0:00:01\n"
                  "\ttunnel: 192.0.2.1 -> peer.example domain underlay "
                  "(unresolved: peer.example: Name or service not known)\n"));
}

TEST(FormatInterfacesText, ShowsZones) {
  InterfaceView view = Ipv6Down();
  view.settings.tunnel = *ParseTunnel("fe80::a%veth0", "fe80::b%veth0");
  EXPECT_THAT(
      FormatInterfacesText(std::span(&view, 1)),
      ::testing::HasSubstr("\ttunnel inet6 fe80::a%veth0 -> fe80::b%veth0\n"));
}

TEST(FormatInterfacesText, ShowsADomainWithoutATunnel) {
  InterfaceView view = UpWithoutTunnel();
  view.settings.domain = "blue";
  EXPECT_THAT(FormatInterfacesText(std::span(&view, 1)),
              ::testing::HasSubstr("\n\ttunnel: none domain blue\n"));
}

TEST(FormatResponse, ShowsInterfacesAsText) {
  Response response;
  response.interfaces = {Running()};
  EXPECT_EQ(Format({.op = Op::kShow}, response, false),
            FormatInterfacesText(response.interfaces));
  EXPECT_EQ(Format({.op = Op::kShow}, {}, false), "");
}

TEST(FormatResponse, ShowsInterfacesAsAJsonArray) {
  Response response;
  response.interfaces = {Running(), Ipv6Down()};
  const std::string text = Format({.op = Op::kShow}, response, true);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  const Json json = Json::parse(text);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0], Json::parse(R"({
    "name": "etherip0", "source": "192.0.2.1", "destination": "192.0.2.2",
    "source_address": "192.0.2.1", "destination_address": "192.0.2.2",
    "unresolved": "",
    "domain": "underlay", "up": true, "running": true, "mtu": 1500,
    "mtu_auto": false, "lladdr": "fe:e1:ba:d0:00:01", "header": "standard",
    "master": "", "eoip": null, "keepalive": null,
    "ttl": 64, "df": false, "tos": "default", "fwmark": 0,
    "counters": {"ipackets": 12, "ibytes": 1400, "opackets": 10,
                 "obytes": 1200, "oerrors": 0, "idrops": 2,
                 "keepalives": 0, "loopdrops": 0}})"));
  EXPECT_EQ(json[1]["source"], "2001:db8::1");
  EXPECT_EQ(json[1]["domain"], "");
  EXPECT_EQ(json[1]["up"], false);

  // One interface, or none, is still an array.
  Response one;
  one.interfaces = {UpWithoutTunnel()};
  const Json single =
      Json::parse(Format({.op = Op::kShow, .name = "etherip2"}, one, true));
  ASSERT_TRUE(single.is_array());
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0]["source"], "");
  EXPECT_EQ(single[0]["destination"], "");
  EXPECT_EQ(Format({.op = Op::kShow}, {}, true), "[]\n");
}

TEST(FormatResponse, ShowsStats) {
  Response response;
  response.stats = GlobalCounterValues{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  EXPECT_EQ(Format({.op = Op::kStats}, response, false),
            "ipackets 1\nibytes 2\nopackets 3\nobytes 4\nadrops 5\npdrops 6\n"
            "noifdrops 7\nidrops 8\nqdrops 9\nkeepalives 10\nloopdrops 11\n");
  EXPECT_EQ(Format({.op = Op::kStats}, response, true),
            R"({"adrops": 5, "ibytes": 2, "idrops": 8, "ipackets": 1, )"
            R"("keepalives": 10, "loopdrops": 11, "noifdrops": 7, )"
            R"("obytes": 4, "opackets": 3, "pdrops": 6, "qdrops": 9})"
            "\n");
}

TEST(FormatResponse, ShowsAllow) {
  Response on;
  on.allow = true;
  Response off;
  off.allow = false;
  EXPECT_EQ(Format({.op = Op::kAllow}, on, false), "1\n");
  EXPECT_EQ(Format({.op = Op::kAllow}, off, false), "0\n");
  EXPECT_EQ(Format({.op = Op::kAllow}, on, true), "{\"allow\": true}\n");
  EXPECT_EQ(Format({.op = Op::kAllow}, off, true), "{\"allow\": false}\n");
  // Setting it prints nothing, whatever the answer carries.
  EXPECT_EQ(Format({.op = Op::kAllow, .allow = true}, on, false), "");
  EXPECT_EQ(Format({.op = Op::kAllow, .allow = false}, {}, true), "");
}

TEST(FormatResponse, ShowsTheConfiguration) {
  Response response;
  response.config = "allow = true\n";
  EXPECT_EQ(Format({.op = Op::kShowconf}, response, false), "allow = true\n");
  response.config = "allow = true";
  EXPECT_EQ(Format({.op = Op::kShowconf}, response, false), "allow = true\n");
  EXPECT_EQ(Json::parse(Format({.op = Op::kShowconf}, response, true)),
            (Json{{"config", "allow = true"}}));
}

TEST(FormatResponse, PrintsNothingForChanges) {
  for (Op op : {Op::kCreate, Op::kDestroy, Op::kSet, Op::kReload}) {
    for (bool json : {false, true}) {
      EXPECT_EQ(Format({.op = op, .name = "e"}, {}, json), "");
    }
  }
}

TEST(FormatResponse, RefusesAnAnswerWithoutWhatWasAsked) {
  auto stats = FormatResponse({.op = Op::kStats}, {}, false);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, EPROTO);
  auto allow = FormatResponse({.op = Op::kAllow}, {}, true);
  ASSERT_FALSE(allow);
  EXPECT_EQ(allow.error().code, EPROTO);
}

TEST(FormatFailure, NamesTheInterfaceAndTheReason) {
  EXPECT_EQ(FormatFailure(Error{EADDRNOTAVAIL,
                                "tunnel 192.0.2.1 -> 192.0.2.2: address not "
                                "available"},
                          "etherip1"),
            "etherip: etherip1: tunnel 192.0.2.1 -> 192.0.2.2: address not "
            "available\n");
  EXPECT_EQ(FormatFailure(Error{ECONNREFUSED,
                                "/run/etherip/etheripd.sock: cannot reach "
                                "etheripd (is it running?)"}),
            "etherip: /run/etherip/etheripd.sock: cannot reach etheripd (is it "
            "running?)\n");
}

}  // namespace
}  // namespace etherip::cli

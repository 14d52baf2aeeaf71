#include "control/protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

namespace etherip::control {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr Op kAllOps[] = {Op::kCreate,   Op::kDestroy, Op::kSet,
                          Op::kShow,     Op::kStats,   Op::kAllow,
                          Op::kShowconf, Op::kReload};

InterfaceView Ipv4View() {
  InterfaceView view;
  view.name = "etherip0";
  view.settings.tunnel = *ParseTunnel("192.0.2.1", "192.0.2.2");
  view.settings.domain = "underlay";
  view.settings.up = true;
  view.settings.mtu = 1500;
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:01");
  view.running = true;
  view.counters = {12, 1400, 10, 1200, 3, 4};
  view.addresses = view.settings.tunnel->LiteralAddresses();
  return view;
}

// A tunnel to a host name, in use at what it resolved to.
InterfaceView NamedView() {
  InterfaceView view;
  view.name = "etherip3";
  view.settings.tunnel = *ParseTunnel("fe80::a%veth0", "peer.example");
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:04");
  view.addresses =
      Tunnel{*IpAddress::Parse("fe80::a"), *IpAddress::Parse("2001:db8::7")};
  return view;
}

// A tunnel whose name does not resolve.
InterfaceView UnresolvedView() {
  InterfaceView view;
  view.name = "etherip4";
  view.settings.tunnel = *ParseTunnel("a.example", "b.example");
  view.settings.up = true;
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:05");
  view.unresolved = "b.example: Name or service not known";
  return view;
}

InterfaceView Ipv6View() {
  InterfaceView view;
  view.name = "etherip1";
  view.settings.tunnel = *ParseTunnel("2001:db8::1", "2001:db8::2");
  view.settings.mtu = 9000;
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:02");
  view.settings.ttl = 9;
  view.settings.df = true;
  view.settings.tos = OuterTos::Value(0xb8);
  view.settings.fwmark = UINT32_MAX;
  view.counters.loopdrops = 77;
  return view;
}

InterfaceView EoipView() {
  InterfaceView view = Ipv6View();
  view.name = "eoip0";
  view.settings.eoip = 0;
  view.settings.keepalive = 0;
  view.counters.keepalives = 17;
  return view;
}

InterfaceView NoTunnelView() {
  InterfaceView view;
  view.name = "etherip2";
  view.settings.domain = "blue";
  view.settings.up = true;
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:03");
  view.settings.tos = OuterTos::Inherit();
  view.counters.oerrors = UINT64_MAX;
  return view;
}

void ExpectProtocolError(std::string_view line) {
  auto request = DecodeRequest(line);
  ASSERT_FALSE(request) << line;
  EXPECT_EQ(request.error().code, EPROTO) << line;
  EXPECT_FALSE(request.error().message.empty()) << line;
}

void ExpectBadResponse(std::string_view line, std::string_view why = "") {
  auto response = DecodeResponse(line);
  ASSERT_FALSE(response) << line;
  EXPECT_EQ(response.error().code, EPROTO) << line;
  EXPECT_THAT(response.error().message, HasSubstr(why)) << line;
}

TEST(OpName, RoundTripsEveryOp) {
  for (Op op : kAllOps) {
    EXPECT_EQ(OpFromName(OpName(op)), op) << OpName(op);
  }
  EXPECT_EQ(OpName(Op::kShowconf), "showconf");
  EXPECT_EQ(OpFromName("Create"), std::nullopt);
  EXPECT_EQ(OpFromName(""), std::nullopt);
}

TEST(Request, DecodesTheDocumentedExamples) {
  auto create = DecodeRequest(
      R"({"op":"create","name":"etherip0","options":["tunnel","192.0.2.1","192.0.2.2","up"]})");
  ASSERT_TRUE(create) << create.error().message;
  EXPECT_EQ(create->op, Op::kCreate);
  EXPECT_EQ(create->name, "etherip0");
  EXPECT_EQ(create->options, (std::vector<std::string>{"tunnel", "192.0.2.1",
                                                       "192.0.2.2", "up"}));

  auto allow = DecodeRequest(R"({"op":"allow","value":true})");
  ASSERT_TRUE(allow);
  EXPECT_EQ(allow->op, Op::kAllow);
  EXPECT_EQ(allow->allow, true);

  auto query = DecodeRequest(R"( {"op" : "allow"} )");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->allow, std::nullopt);
}

TEST(Request, EncodesOnlyTheFieldsOfItsOp) {
  EXPECT_EQ(EncodeRequest({.op = Op::kStats, .name = "ignored"}),
            R"({"op":"stats"})");
  EXPECT_EQ(EncodeRequest({.op = Op::kShow}), R"({"op":"show"})");
  EXPECT_EQ(EncodeRequest({.op = Op::kShow, .name = "etherip0"}),
            R"({"name":"etherip0","op":"show"})");
  EXPECT_EQ(EncodeRequest({.op = Op::kAllow, .allow = false}),
            R"({"op":"allow","value":false})");
  EXPECT_EQ(EncodeRequest({.op = Op::kDestroy, .name = "e"}),
            R"({"name":"e","op":"destroy"})");
  EXPECT_EQ(EncodeRequest({.op = Op::kCreate, .name = "e"}),
            R"({"name":"e","op":"create","options":[]})");
}

TEST(Request, RoundTripsEveryOp) {
  const std::vector<Request> requests = {
      {.op = Op::kCreate,
       .name = "etherip0",
       .options = {"tunnel", "192.0.2.1", "192.0.2.2", "domain", "x", "up"}},
      {.op = Op::kCreate, .name = "etherip1"},
      {.op = Op::kDestroy, .name = "etherip0"},
      {.op = Op::kSet, .name = "etherip0", .options = {"-tunnel", "down"}},
      {.op = Op::kShow},
      {.op = Op::kShow, .name = "etherip0"},
      {.op = Op::kStats},
      {.op = Op::kAllow},
      {.op = Op::kAllow, .allow = true},
      {.op = Op::kAllow, .allow = false},
      {.op = Op::kShowconf},
      {.op = Op::kReload},
      // Names and words are opaque strings here: the daemon judges them.
      {.op = Op::kCreate,
       .name = "\"quoted\" \\ n\xc3\xa9",
       .options = {"", "\n", "\t"}},
  };
  for (const Request& request : requests) {
    const std::string line = EncodeRequest(request);
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    auto decoded = DecodeRequest(line);
    ASSERT_TRUE(decoded) << line << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, request) << line;
  }
}

TEST(Request, RefusesWhatIsNotJson) {
  for (std::string_view line :
       {"", " ", "{", "op=show", R"({"op":"show",})", R"({"op":"show"} x)",
        R"({"op":"show"}{"op":"show"})", "{\"op\":\"sh\xffow\"}",
        "{\"op\":\"show\"}\n{", R"({'op':'show'})"}) {
    ExpectProtocolError(line);
  }
}

TEST(Request, RefusesWhatIsNotAnObject) {
  for (std::string_view line :
       {"[]", "1", "\"show\"", "null", "true", R"([{"op":"show"}])"}) {
    ExpectProtocolError(line);
  }
}

TEST(Request, RefusesAMissingOrUnknownOp) {
  ExpectProtocolError("{}");
  ExpectProtocolError(R"({"name":"etherip0"})");
  ExpectProtocolError(R"({"op":1})");
  ExpectProtocolError(R"({"op":null})");
  ExpectProtocolError(R"({"op":["show"]})");
  ExpectProtocolError(R"({"op":"frob"})");
  ExpectProtocolError(R"({"op":"SHOW"})");
  auto unknown = DecodeRequest(R"({"op":"frob"})");
  EXPECT_THAT(unknown.error().message, HasSubstr("unknown op \"frob\""));
}

TEST(Request, RefusesWrongTypes) {
  for (std::string_view line : {
           R"({"op":"create"})",  // name is required
           R"({"op":"destroy"})",
           R"({"op":"set","options":["up"]})",
           R"({"op":"create","name":1})",
           R"({"op":"create","name":null})",
           R"({"op":"create","name":["etherip0"]})",
           R"({"op":"show","name":false})",
           R"({"op":"create","name":"e","options":"up"})",
           R"({"op":"create","name":"e","options":{"up":true}})",
           R"({"op":"set","name":"e","options":["up",1]})",
           R"({"op":"set","name":"e","options":[null]})",
           R"({"op":"set","name":"e","options":[["up"]]})",
           R"({"op":"allow","value":1})",
           R"({"op":"allow","value":"1"})",
           R"({"op":"allow","value":null})",
       }) {
    ExpectProtocolError(line);
  }
}

TEST(Request, RefusesFieldsTheOpDoesNotTake) {
  for (std::string_view line : {
           R"({"op":"stats","name":"etherip0"})",
           R"({"op":"showconf","value":true})",
           R"({"op":"reload","options":[]})",
           R"({"op":"destroy","name":"e","options":["up"]})",
           R"({"op":"show","options":[]})",
           R"({"op":"allow","name":"e"})",
           R"({"op":"create","name":"e","value":true})",
           R"({"op":"show","extra":1})",
       }) {
    ExpectProtocolError(line);
  }
  auto extra = DecodeRequest(R"({"op":"show","extra":1})");
  EXPECT_THAT(extra.error().message, HasSubstr("unknown field \"extra\""));
}

TEST(Request, RefusesLinesOverTheLimit) {
  std::string padded = R"({"op":"show","name":")";
  padded += std::string(kMaxLineBytes, 'x');
  padded += "\"}";
  ExpectProtocolError(padded);
  auto error = DecodeRequest(padded).error();
  EXPECT_THAT(error.message, HasSubstr("longer than"));

  // At the limit exactly, a line is accepted.
  std::string exact = R"({"op":"show","name":")";
  exact += std::string(kMaxLineBytes - exact.size() - 2, 'x');
  exact += "\"}";
  ASSERT_EQ(exact.size(), kMaxLineBytes);
  EXPECT_TRUE(DecodeRequest(exact));
}

TEST(Response, AcceptsLinesFarOverTheRequestLimit) {
  // A response is capped at kMaxResponseBytes, not kMaxLineBytes: show and
  // showconf grow with the number of interfaces.
  Response config;
  config.config = std::string(4 * kMaxLineBytes, 'c');
  const std::string line = EncodeResponse(config);
  ASSERT_GT(line.size(), kMaxLineBytes);
  auto decoded = DecodeResponse(line);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->config, config.config);
  // The same length as a request is refused.
  ExpectProtocolError(R"({"op":"show","name":")" + config.config + "\"}");
}

TEST(Request, SurvivesDeepNesting) {
  std::string deep(100000, '[');
  ExpectProtocolError(deep);
  ExpectProtocolError(R"({"op":"show","name":)" + std::string(5000, '[') +
                      std::string(5000, ']') + "}");
}

TEST(InterfaceJson, HasTheFieldsOfSpec6) {
  const Json json = InterfaceJson(Ipv4View());
  EXPECT_EQ(json, Json::parse(R"({
    "name": "etherip0", "source": "192.0.2.1", "destination": "192.0.2.2",
    "source_address": "192.0.2.1", "destination_address": "192.0.2.2",
    "unresolved": "",
    "domain": "underlay", "up": true, "running": true, "mtu": 1500,
    "mtu_auto": false, "lladdr": "fe:e1:ba:d0:00:01", "header": "standard",
    "master": "", "eoip": null, "keepalive": null,
    "ttl": 64, "df": false, "tos": "default", "fwmark": 0,
    "counters": {"ipackets": 12, "ibytes": 1400, "opackets": 10,
                 "obytes": 1200, "oerrors": 3, "idrops": 4,
                 "keepalives": 0, "loopdrops": 0}})"));
}

TEST(InterfaceJson, HasTheEoipIdAndKeepaliveOfAnEoipTunnel) {
  const Json json = InterfaceJson(EoipView());
  EXPECT_EQ(json["eoip"], 0);
  EXPECT_EQ(json["keepalive"], 0);
  EXPECT_EQ(json["counters"]["keepalives"], 17);
}

TEST(Response, ReadsAnInterfaceWithoutEoipFieldsAsStandard) {
  // As a daemon that predates EoIP answers.
  auto response = DecodeResponse(
      R"({"ok":true,"interfaces":[{"name":"e","source":"","destination":"",)"
      R"("domain":"","up":false,"running":false,"mtu":1500,)"
      R"("lladdr":"fe:e1:ba:d0:00:01","counters":{"ipackets":0,"ibytes":0,)"
      R"("opackets":0,"obytes":0,"oerrors":0}}]})");
  ASSERT_TRUE(response) << response.error().message;
  ASSERT_EQ(response->interfaces.size(), 1u);
  EXPECT_EQ(response->interfaces[0].settings.eoip, std::nullopt);
  EXPECT_EQ(response->interfaces[0].settings.keepalive, kDefaultKeepalive);
  EXPECT_EQ(response->interfaces[0].counters.keepalives, 0u);
  ExpectBadResponse(
      R"({"ok":true,"interfaces":[{"name":"e","source":"","destination":"",)"
      R"("domain":"","up":false,"running":false,"mtu":1500,"eoip":4096,)"
      R"("lladdr":"fe:e1:ba:d0:00:01","counters":{"ipackets":0,"ibytes":0,)"
      R"("opackets":0,"obytes":0,"oerrors":0}}]})",
      "eoip");
}

TEST(InterfaceJson, SaysWhetherTheMtuIsAutomatic) {
  InterfaceView view = Ipv4View();
  view.settings.mtu = 1464;
  view.settings.mtu_auto = true;
  const Json json = InterfaceJson(view);
  EXPECT_EQ(json["mtu"], 1464);
  EXPECT_EQ(json["mtu_auto"], true);
  Response show;
  show.interfaces = {view};
  auto decoded = DecodeResponse(EncodeResponse(show));
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->interfaces.size(), 1u);
  EXPECT_EQ(decoded->interfaces[0], view);
}

TEST(InterfaceJson, WritesTheOuterOptions) {
  const Json json = InterfaceJson(Ipv6View());
  EXPECT_EQ(json["ttl"], 9);
  EXPECT_EQ(json["df"], true);
  EXPECT_EQ(json["tos"], 0xb8);
  EXPECT_EQ(json["fwmark"], UINT32_MAX);
  EXPECT_EQ(json["counters"]["loopdrops"], 77);
  EXPECT_EQ(InterfaceJson(NoTunnelView())["tos"], "inherit");
}

TEST(InterfaceJson, WritesEmptyAddressesWithoutATunnel) {
  const Json json = InterfaceJson(NoTunnelView());
  EXPECT_EQ(json["source"], "");
  EXPECT_EQ(json["destination"], "");
  EXPECT_EQ(json["domain"], "blue");
  EXPECT_EQ(json["running"], false);
  EXPECT_EQ(json["counters"]["oerrors"].get<uint64_t>(), UINT64_MAX);
}

TEST(StatsJson, HasTheCountersOfSpec5) {
  EXPECT_EQ(StatsJson({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), Json::parse(R"({
    "ipackets": 1, "ibytes": 2, "opackets": 3, "obytes": 4,
    "adrops": 5, "pdrops": 6, "noifdrops": 7, "idrops": 8, "qdrops": 9,
    "keepalives": 10, "loopdrops": 11})"));
}

TEST(Response, EncodesARefusalAsDocumented) {
  Response refusal = RefusalResponse(
      Error{EADDRNOTAVAIL,
            "tunnel 192.0.2.1 -> 192.0.2.2: address not available"},
      "etherip1");
  EXPECT_EQ(Json::parse(EncodeResponse(refusal)), Json::parse(R"({
    "ok": false,
    "error": {"errno": "EADDRNOTAVAIL", "code": 99,
              "message": "tunnel 192.0.2.1 -> 192.0.2.2: address not available"},
    "subject": "etherip1"})"));
}

TEST(Response, EncodesSuccessAsOkAlone) {
  EXPECT_EQ(EncodeResponse(Response{}), R"({"ok":true})");
}

TEST(Response, RoundTripsEveryField) {
  Response show;
  show.interfaces = {Ipv4View(),     Ipv6View(),  EoipView(),
                     NoTunnelView(), NamedView(), UnresolvedView()};
  Response stats;
  stats.stats = GlobalCounterValues{
      1, 2, 3, 4, 5, 6, 7, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 2, 9};
  Response allow_off;
  allow_off.allow = false;
  Response allow_on;
  allow_on.allow = true;
  Response config;
  config.config = "allow = true\n\n[[interface]]\nname = \"etherip0\"\n";
  Response refusal = RefusalResponse(Error{ENXIO, "no such interface"}, "x");
  Response subjectless = RefusalResponse(Error{EPERM, "not permitted"});
  Response unknown_errno = RefusalResponse(Error{1234, "odd"});

  for (const Response& response : {show, stats, allow_off, allow_on, config,
                                   refusal, subjectless, unknown_errno}) {
    const std::string line = EncodeResponse(response);
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    auto decoded = DecodeResponse(line);
    ASSERT_TRUE(decoded) << line << ": " << decoded.error().message;
    EXPECT_EQ(decoded->error.has_value(), response.error.has_value());
    if (response.error) {
      EXPECT_EQ(decoded->error->code, response.error->code);
      EXPECT_EQ(decoded->error->message, response.error->message);
    }
    EXPECT_EQ(decoded->subject, response.subject);
    EXPECT_EQ(decoded->interfaces, response.interfaces);
    EXPECT_EQ(decoded->stats, response.stats);
    EXPECT_EQ(decoded->allow, response.allow);
    EXPECT_EQ(decoded->config, response.config);
  }
}

TEST(Response, IgnoresFieldsItDoesNotKnow) {
  auto response = DecodeResponse(
      R"({"ok":true,"allow":true,"future":{"x":1},"version":2})");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->allow, true);
}

TEST(Response, NeverThrowsOnInvalidUtf8) {
  Response refusal = RefusalResponse(Error{EINVAL, "bad \xff byte"}, "e\xfe");
  std::string line;
  EXPECT_NO_THROW(line = EncodeResponse(refusal));
  auto decoded = DecodeResponse(line);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->error->message, "bad \xef\xbf\xbd byte");
  EXPECT_NO_THROW(EncodeRequest({.op = Op::kDestroy, .name = "\xc3"}));
}

TEST(Response, RefusesMalformedEnvelopes) {
  ExpectBadResponse("", "not JSON");
  ExpectBadResponse("[]", "not a JSON object");
  ExpectBadResponse("{}", "\"ok\" is missing");
  ExpectBadResponse(R"({"ok":1})", "\"ok\" is not");
  ExpectBadResponse(R"({"ok":false})", "\"error\" is missing");
  ExpectBadResponse(
      R"({"ok":true,"error":{"errno":"EINVAL","code":22,"message":"m"}})",
      "there is an \"error\"");
  ExpectBadResponse(R"({"ok":true,"subject":5})", "subject");
  ExpectBadResponse(R"({"ok":true,"allow":"yes"})", "allow");
  ExpectBadResponse(R"({"ok":true,"config":["a"]})", "config");
}

TEST(Response, RefusesMalformedErrors) {
  for (std::string_view error : {
           R"("EINVAL")",
           R"({"code":22,"message":"m"})",
           R"({"errno":"EINVAL","message":"m"})",
           R"({"errno":"EINVAL","code":22})",
           R"({"errno":22,"code":22,"message":"m"})",
           R"({"errno":"EINVAL","code":"22","message":"m"})",
           R"({"errno":"EINVAL","code":-22,"message":"m"})",
           R"({"errno":"EINVAL","code":0,"message":"m"})",
           R"({"errno":"EINVAL","code":22.5,"message":"m"})",
           R"({"errno":"EINVAL","code":99999,"message":"m"})",
           R"({"errno":"EINVAL","code":22,"message":null})",
       }) {
    ExpectBadResponse(R"({"ok":false,"error":)" + std::string(error) + "}");
  }
}

TEST(Response, RefusesMalformedInterfaces) {
  const Json good = InterfaceJson(Ipv4View());
  auto with = [&](const char* key, Json value) {
    Json object = good;
    object[key] = std::move(value);
    return Json{{"ok", true}, {"interfaces", Json::array({object})}}.dump();
  };
  auto without = [&](const char* key) {
    Json object = good;
    object.erase(key);
    return Json{{"ok", true}, {"interfaces", Json::array({object})}}.dump();
  };
  ExpectBadResponse(R"({"ok":true,"interfaces":{}})", "interfaces");
  ExpectBadResponse(R"({"ok":true,"interfaces":[1]})", "interfaces[0]");
  for (const char* key : {"name", "source", "destination", "domain", "up",
                          "running", "mtu", "lladdr", "counters"}) {
    ExpectBadResponse(without(key), key);
  }
  ExpectBadResponse(with("name", 1), "name");
  ExpectBadResponse(with("source", ""), "invalid argument");
  ExpectBadResponse(with("destination", ""), "invalid argument");
  ExpectBadResponse(with("destination", "2001:db8::2"), "invalid argument");
  ExpectBadResponse(with("source", "example..org"), "invalid argument");
  ExpectBadResponse(with("source_address", "peer.example"),
                    "not an IP address");
  ExpectBadResponse(with("destination_address", 7), "destination_address");
  ExpectBadResponse(with("unresolved", false), "unresolved");
  ExpectBadResponse(with("up", "true"), "up");
  ExpectBadResponse(with("running", 1), "running");
  ExpectBadResponse(with("mtu", -1), "mtu");
  ExpectBadResponse(with("mtu", 4294967296), "mtu");
  ExpectBadResponse(with("mtu", 1500.0), "mtu");
  ExpectBadResponse(with("mtu_auto", 1), "mtu_auto");
  ExpectBadResponse(with("lladdr", "fe:e1"), "lladdr");
  ExpectBadResponse(with("counters", Json::array()), "counters");
  for (const char* counter :
       {"ipackets", "ibytes", "opackets", "obytes", "oerrors"}) {
    Json counters = good["counters"];
    counters[counter] = -1;
    ExpectBadResponse(with("counters", counters), counter);
    counters.erase(counter);
    ExpectBadResponse(with("counters", counters), counter);
  }
  // idrops and loopdrops may be absent (an older daemon), but not of the
  // wrong type.
  for (const char* counter : {"idrops", "loopdrops"}) {
    for (Json bad : {Json(-1), Json("1"), Json(1.5), Json(nullptr)}) {
      Json counters = good["counters"];
      counters[counter] = bad;
      ExpectBadResponse(with("counters", counters), counter);
    }
  }
  // Likewise the outer header options.
  ExpectBadResponse(with("ttl", 0), "ttl");
  ExpectBadResponse(with("ttl", 256), "ttl");
  ExpectBadResponse(with("ttl", "64"), "ttl");
  ExpectBadResponse(with("df", 1), "df");
  ExpectBadResponse(with("tos", 256), "tos");
  ExpectBadResponse(with("tos", -1), "tos");
  ExpectBadResponse(with("tos", "0x10"), "tos");
  ExpectBadResponse(with("tos", nullptr), "tos");
  ExpectBadResponse(with("fwmark", 4294967296), "fwmark");
  ExpectBadResponse(with("fwmark", "1"), "fwmark");
}

TEST(Response, DecodesAnInterfaceWithoutOuterOptionsAsTheDefaults) {
  // What a daemon from before the outer header options sends.
  auto show = DecodeResponse(
      R"({"ok":true,"interfaces":[{"name":"etherip0","source":"192.0.2.1",)"
      R"("destination":"192.0.2.2","domain":"","up":true,"running":true,)"
      R"("mtu":1500,"lladdr":"fe:e1:ba:d0:00:01","counters":{"ipackets":12,)"
      R"("ibytes":1400,"opackets":10,"obytes":1200,"oerrors":3}}]})");
  ASSERT_TRUE(show) << show.error().message;
  ASSERT_EQ(show->interfaces.size(), 1u);
  const InterfaceSettings& settings = show->interfaces[0].settings;
  EXPECT_EQ(settings.ttl, 64);
  EXPECT_FALSE(settings.df);
  EXPECT_TRUE(settings.tos.is_default());
  EXPECT_EQ(settings.fwmark, 0u);
  EXPECT_EQ(show->interfaces[0].counters.loopdrops, 0u);
}

TEST(InterfaceJson, GivesEndpointsAsConfiguredAndTheAddressesInUse) {
  const Json named = InterfaceJson(NamedView());
  EXPECT_EQ(named["source"], "fe80::a%veth0");
  EXPECT_EQ(named["destination"], "peer.example");
  EXPECT_EQ(named["source_address"], "fe80::a");
  EXPECT_EQ(named["destination_address"], "2001:db8::7");
  EXPECT_EQ(named["unresolved"], "");
  const Json unresolved = InterfaceJson(UnresolvedView());
  EXPECT_EQ(unresolved["destination"], "b.example");
  EXPECT_EQ(unresolved["destination_address"], "");
  EXPECT_EQ(unresolved["unresolved"], "b.example: Name or service not known");
}

TEST(Response, ReadsTheAddressesOfADaemonThatPredatesNames) {
  Json object = InterfaceJson(Ipv4View());
  for (const char* key :
       {"source_address", "destination_address", "unresolved"}) {
    object.erase(key);
  }
  auto decoded = DecodeResponse(
      Json{{"ok", true}, {"interfaces", Json::array({object})}}.dump());
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->interfaces[0], Ipv4View());
}

TEST(Response, DecodesIdrops) {
  InterfaceView view = Ipv4View();
  view.counters.idrops = UINT64_MAX;
  Response show;
  show.interfaces = {view};
  auto decoded = DecodeResponse(EncodeResponse(show));
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->interfaces.size(), 1u);
  EXPECT_EQ(decoded->interfaces[0].counters.idrops, UINT64_MAX);

  Response stats;
  stats.stats = GlobalCounterValues{.idrops = 42, .qdrops = 43};
  decoded = DecodeResponse(EncodeResponse(stats));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->stats, stats.stats);
}

TEST(Response, DecodesCountersWithoutIdropsOrQdropsAsZero) {
  // What a daemon from before idrops (and qdrops) sends.
  auto show = DecodeResponse(
      R"({"ok":true,"interfaces":[{"name":"etherip0","source":"192.0.2.1",)"
      R"("destination":"192.0.2.2","domain":"","up":true,"running":true,)"
      R"("mtu":1500,"lladdr":"fe:e1:ba:d0:00:01","counters":{"ipackets":12,)"
      R"("ibytes":1400,"opackets":10,"obytes":1200,"oerrors":3}}]})");
  ASSERT_TRUE(show) << show.error().message;
  ASSERT_EQ(show->interfaces.size(), 1u);
  EXPECT_EQ(show->interfaces[0].counters,
            (InterfaceCounterValues{12, 1400, 10, 1200, 3, 0, 0, 0}));
  EXPECT_FALSE(show->interfaces[0].settings.mtu_auto);

  auto stats = DecodeResponse(
      R"({"ok":true,"stats":{"ipackets":1,"ibytes":2,"opackets":3,)"
      R"("obytes":4,"adrops":5,"pdrops":6,"noifdrops":7}})");
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->stats, (GlobalCounterValues{1, 2, 3, 4, 5, 6, 7, 0, 0, 0}));

  // What a daemon from before qdrops sends.
  stats = DecodeResponse(
      R"({"ok":true,"stats":{"ipackets":1,"ibytes":2,"opackets":3,)"
      R"("obytes":4,"adrops":5,"pdrops":6,"noifdrops":7,"idrops":8}})");
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->stats, (GlobalCounterValues{1, 2, 3, 4, 5, 6, 7, 8, 0, 0}));
}

TEST(Response, RefusesMalformedStats) {
  ExpectBadResponse(R"({"ok":true,"stats":[]})", "stats");
  const Json good = StatsJson({});
  for (const char* counter : {"ipackets", "ibytes", "opackets", "obytes",
                              "adrops", "pdrops", "noifdrops"}) {
    Json stats = good;
    stats[counter] = "1";
    ExpectBadResponse(Json{{"ok", true}, {"stats", stats}}.dump(), counter);
    stats.erase(counter);
    ExpectBadResponse(Json{{"ok", true}, {"stats", stats}}.dump(), counter);
  }
  for (const char* counter : {"idrops", "qdrops", "loopdrops"}) {
    Json stats = good;
    stats[counter] = "1";
    ExpectBadResponse(Json{{"ok", true}, {"stats", stats}}.dump(), counter);
  }
}

TEST(LineAssembler, SplitsAStreamIntoLines) {
  LineAssembler lines;
  lines.Feed("{\"op\":");
  EXPECT_EQ(*lines.Next(), std::nullopt);
  lines.Feed("\"show\"}\n{\"op\":\"stats\"}\n{\"op\"");
  EXPECT_EQ(*lines.Next(), R"({"op":"show"})");
  EXPECT_EQ(*lines.Next(), R"({"op":"stats"})");
  EXPECT_EQ(*lines.Next(), std::nullopt);
  EXPECT_EQ(lines.pending(), 5u);
  lines.Feed(":\"reload\"}\n\n");
  EXPECT_EQ(*lines.Next(), R"({"op":"reload"})");
  EXPECT_EQ(*lines.Next(), "");
  EXPECT_EQ(*lines.Next(), std::nullopt);
  EXPECT_EQ(lines.pending(), 0u);
}

TEST(LineAssembler, RefusesALineOverTheLimit) {
  LineAssembler lines(8);
  lines.Feed("12345678\n");
  EXPECT_EQ(*lines.Next(), "12345678");
  lines.Feed("1234");
  EXPECT_EQ(*lines.Next(), std::nullopt);
  lines.Feed("56789");
  auto too_long = lines.Next();
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code, EPROTO);

  LineAssembler complete(8);
  complete.Feed("123456789\nok\n");
  EXPECT_FALSE(complete.Next());
}

TEST(LineAssembler, HandsOverALineThatFillsTheBuffer) {
  LineAssembler lines(kMaxResponseBytes);
  const std::string big(3 * kMaxLineBytes, 'r');
  lines.Feed(big.substr(0, kMaxLineBytes));
  EXPECT_EQ(*lines.Next(), std::nullopt);
  lines.Feed(big.substr(kMaxLineBytes));
  lines.Feed("\n");
  auto line = lines.Next();
  ASSERT_TRUE(line && *line);
  EXPECT_EQ(**line, big);
  EXPECT_EQ(lines.pending(), 0u);
  // The assembler goes on working after it.
  lines.Feed("next\nthen");
  EXPECT_EQ(*lines.Next(), "next");
  EXPECT_EQ(*lines.Next(), std::nullopt);
  EXPECT_EQ(lines.pending(), 4u);
  lines.Feed("\n");
  EXPECT_EQ(*lines.Next(), "then");
}

TEST(LineAssembler, KeepsItsBufferSmallOverALongStream) {
  LineAssembler lines(64);
  for (int i = 0; i < 10000; ++i) {
    lines.Feed("line\nli");
    auto line = lines.Next();
    ASSERT_TRUE(line && *line);
    lines.Feed("ne\n");
    line = lines.Next();
    ASSERT_TRUE(line && *line);
    EXPECT_EQ(**line, "line");
  }
  EXPECT_EQ(lines.pending(), 0u);
}

}  // namespace
}  // namespace etherip::control

#include "core/interface_options.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/core_fixtures.h"

namespace etherip {
namespace {

using testing_support::Ip;
using testing_support::MakeTunnel;
using testing_support::Options;
using Words = std::vector<std::string>;

Result<std::vector<InterfaceOption>> Parse(const Words& words) {
  return ParseInterfaceOptions(words);
}

// Applies the words to default settings.
Result<InterfaceSettings> Apply(std::initializer_list<std::string> words,
                                InterfaceSettings settings = {}) {
  const auto options = Options(words);
  if (auto status = ApplyInterfaceOptions(options, settings); !status) {
    return tl::unexpected(status.error());
  }
  return settings;
}

void ExpectRefused(std::initializer_list<std::string> words,
                   std::string_view message_part) {
  auto settings = Apply(words);
  std::string joined;
  for (const auto& w : words) joined += w + " ";
  ASSERT_FALSE(settings) << joined;
  EXPECT_EQ(settings.error().code, EINVAL) << joined;
  EXPECT_NE(settings.error().message.find(message_part), std::string::npos)
      << joined << "-> " << settings.error().message;
}

// --- ParseInterfaceOptions: syntax only ---

TEST(ParseInterfaceOptions, RecognisesEveryKeyword) {
  auto options = Parse({"tunnel", "192.0.2.1", "192.0.2.2", "-tunnel", "domain",
                        "blue", "-domain", "up", "down", "mtu", "1400",
                        "lladdr", "fe:e1:ba:d0:00:01", "header", "any"});
  ASSERT_TRUE(options);
  ASSERT_EQ(options->size(), 9u);
  const auto& o = *options;
  ASSERT_TRUE(std::holds_alternative<SetTunnel>(o[0]));
  EXPECT_EQ(std::get<SetTunnel>(o[0]).source, "192.0.2.1");
  EXPECT_EQ(std::get<SetTunnel>(o[0]).destination, "192.0.2.2");
  EXPECT_TRUE(std::holds_alternative<ClearTunnel>(o[1]));
  ASSERT_TRUE(std::holds_alternative<SetDomain>(o[2]));
  EXPECT_EQ(std::get<SetDomain>(o[2]).name, "blue");
  EXPECT_TRUE(std::holds_alternative<ClearDomain>(o[3]));
  ASSERT_TRUE(std::holds_alternative<etherip::SetUp>(o[4]));
  EXPECT_TRUE(std::get<etherip::SetUp>(o[4]).up);
  ASSERT_TRUE(std::holds_alternative<etherip::SetUp>(o[5]));
  EXPECT_FALSE(std::get<etherip::SetUp>(o[5]).up);
  ASSERT_TRUE(std::holds_alternative<SetMtu>(o[6]));
  EXPECT_EQ(std::get<SetMtu>(o[6]).mtu, "1400");
  ASSERT_TRUE(std::holds_alternative<SetLladdr>(o[7]));
  EXPECT_EQ(std::get<SetLladdr>(o[7]).mac, "fe:e1:ba:d0:00:01");
  ASSERT_TRUE(std::holds_alternative<SetHeader>(o[8]));
  EXPECT_EQ(std::get<SetHeader>(o[8]).mode, "any");
}

TEST(ParseInterfaceOptions, AcceptsTheReferenceIfconfigSpellings) {
  auto options =
      Parse({"deletetunnel", "tunneldomain", "blue", "-tunneldomain"});
  ASSERT_TRUE(options);
  ASSERT_EQ(options->size(), 3u);
  EXPECT_TRUE(std::holds_alternative<ClearTunnel>((*options)[0]));
  ASSERT_TRUE(std::holds_alternative<SetDomain>((*options)[1]));
  EXPECT_EQ(std::get<SetDomain>((*options)[1]).name, "blue");
  EXPECT_TRUE(std::holds_alternative<ClearDomain>((*options)[2]));
}

TEST(ParseInterfaceOptions, RecognisesTheOuterHeaderOptions) {
  auto options =
      Parse({"ttl", "9", "df", "-df", "tos", "inherit", "-tos", "fwmark",
             "0x2a", "-fwmark", "tunnelttl", "3", "tunneldf", "-tunneldf"});
  ASSERT_TRUE(options);
  ASSERT_EQ(options->size(), 10u);
  const auto& o = *options;
  ASSERT_TRUE(std::holds_alternative<SetTtl>(o[0]));
  EXPECT_EQ(std::get<SetTtl>(o[0]).ttl, "9");
  ASSERT_TRUE(std::holds_alternative<SetDf>(o[1]));
  EXPECT_TRUE(std::get<SetDf>(o[1]).df);
  ASSERT_TRUE(std::holds_alternative<SetDf>(o[2]));
  EXPECT_FALSE(std::get<SetDf>(o[2]).df);
  ASSERT_TRUE(std::holds_alternative<SetTos>(o[3]));
  EXPECT_EQ(std::get<SetTos>(o[3]).tos, "inherit");
  EXPECT_TRUE(std::holds_alternative<ClearTos>(o[4]));
  ASSERT_TRUE(std::holds_alternative<SetFwmark>(o[5]));
  EXPECT_EQ(std::get<SetFwmark>(o[5]).fwmark, "0x2a");
  EXPECT_TRUE(std::holds_alternative<ClearFwmark>(o[6]));
  // OpenBSD's ifconfig spellings.
  ASSERT_TRUE(std::holds_alternative<SetTtl>(o[7]));
  EXPECT_EQ(std::get<SetTtl>(o[7]).ttl, "3");
  EXPECT_TRUE(std::get<SetDf>(o[8]).df);
  EXPECT_FALSE(std::get<SetDf>(o[9]).df);
  for (const Words& words :
       {Words{"ttl"}, Words{"tos"}, Words{"fwmark"}, Words{"tunnelttl"}}) {
    auto missing = Parse(words);
    ASSERT_FALSE(missing) << words.front();
    EXPECT_NE(missing.error().message.find("missing argument"),
              std::string::npos);
  }
}

TEST(ParseInterfaceOptions, NoWordsIsNoOptions) {
  auto options = Parse({});
  ASSERT_TRUE(options);
  EXPECT_TRUE(options->empty());
}

TEST(ParseInterfaceOptions, RefusesUnknownKeyword) {
  for (const Words& words : {Words{"frobnicate"}, Words{"up", "UP"},
                             Words{"tunnel", "192.0.2.1", "192.0.2.2", "x"},
                             Words{""}, Words{"--tunnel"}}) {
    auto options = Parse(words);
    ASSERT_FALSE(options) << words.back();
    EXPECT_EQ(options.error().code, EINVAL);
    EXPECT_NE(options.error().message.find("unknown option"), std::string::npos)
        << options.error().message;
  }
}

TEST(ParseInterfaceOptions, RefusesMissingArgument) {
  for (const Words& words :
       {Words{"tunnel"}, Words{"tunnel", "192.0.2.1"}, Words{"domain"},
        Words{"tunneldomain"}, Words{"mtu"}, Words{"lladdr"}, Words{"header"},
        Words{"up", "mtu"}}) {
    auto options = Parse(words);
    ASSERT_FALSE(options) << words.front();
    EXPECT_EQ(options.error().code, EINVAL);
    EXPECT_NE(options.error().message.find("missing argument"),
              std::string::npos)
        << options.error().message;
  }
}

TEST(ParseInterfaceOptions, LeavesValuesUnchecked) {
  // Bad values are not syntax errors: they fail when applied.
  auto options = Parse(
      {"tunnel", "x", "y", "mtu", "big", "lladdr", "zz", "domain", "no/such"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->size(), 4u);
  InterfaceSettings settings;
  EXPECT_FALSE(ApplyInterfaceOptions(*options, settings));
}

TEST(InterfaceOptionWords, RoundTripsThroughParse) {
  const Words words = {"tunnel",
                       "2001:db8::1",
                       "2001:db8::2",
                       "-tunnel",
                       "domain",
                       "blue",
                       "-domain",
                       "up",
                       "down",
                       "mtu",
                       "9000",
                       "lladdr",
                       "02:00:00:00:00:01",
                       "header",
                       "reversed",
                       "ttl",
                       "0x20",
                       "df",
                       "-df",
                       "tos",
                       "inherit",
                       "-tos",
                       "fwmark",
                       "7",
                       "-fwmark"};
  auto options = Parse(words);
  ASSERT_TRUE(options);
  EXPECT_EQ(InterfaceOptionWords(*options), words);
}

TEST(InterfaceOptionWords, WritesAliasesInTheirCanonicalForm) {
  auto options =
      Parse({"deletetunnel", "tunneldomain", "red", "-tunneldomain"});
  ASSERT_TRUE(options);
  EXPECT_EQ(InterfaceOptionWords(*options),
            (Words{"-tunnel", "domain", "red", "-domain"}));
}

TEST(InterfaceOptionWords, KeepsValuesVerbatim) {
  const Words words = {"tunnel", "not-an-address", "192.0.2.2", "mtu", "x"};
  EXPECT_EQ(InterfaceOptionWords(Parse(words).value()), words);
}

// --- ApplyInterfaceOptions: values ---

TEST(ApplyInterfaceOptions, SetsEverySetting) {
  auto settings =
      Apply({"tunnel", "192.0.2.1", "192.0.2.2", "domain", "blue", "up", "mtu",
             "9000", "lladdr", "fe:e1:ba:d0:00:01", "header", "reversed"});
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->header, HeaderMode::kReversed);
  EXPECT_EQ(settings->tunnel, MakeTunnel("192.0.2.1", "192.0.2.2"));
  EXPECT_EQ(settings->domain, "blue");
  EXPECT_TRUE(settings->up);
  EXPECT_EQ(settings->mtu, 9000u);
  EXPECT_EQ(settings->lladdr, MacAddress::Parse("fe:e1:ba:d0:00:01").value());
}

TEST(ApplyInterfaceOptions, DefaultsAreDownMtu1500NoTunnelOwnDomain) {
  InterfaceSettings settings;
  EXPECT_FALSE(settings.up);
  EXPECT_EQ(settings.mtu, 1500u);
  EXPECT_FALSE(settings.tunnel);
  EXPECT_EQ(settings.domain, "");
  EXPECT_EQ(settings.header, HeaderMode::kStandard);
  EXPECT_FALSE(Apply({"header", "netbsd"}));
}

// --- Outer header options ---

TEST(ApplyInterfaceOptions, OuterOptionsDefaultToSpec1) {
  InterfaceSettings settings;
  EXPECT_EQ(settings.ttl, 64);
  EXPECT_FALSE(settings.df);
  EXPECT_TRUE(settings.tos.is_default());
  EXPECT_EQ(settings.fwmark, 0u);
  EXPECT_EQ(OuterFieldsOf(settings), OuterFields{});
}

TEST(ApplyInterfaceOptions, SetsTheOuterOptions) {
  auto settings = Apply({"ttl", "9", "df", "tos", "0xB8", "fwmark", "42"});
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->ttl, 9);
  EXPECT_TRUE(settings->df);
  EXPECT_EQ(settings->tos, OuterTos::Value(0xb8));
  EXPECT_EQ(settings->fwmark, 42u);
  EXPECT_EQ(OuterFieldsOf(*settings),
            (OuterFields{.ttl = 9, .tos = 0xb8, .df = true, .fwmark = 42}));
  // And back.
  settings = Apply({"-df", "-tos", "-fwmark", "ttl", "64"}, *settings);
  ASSERT_TRUE(settings);
  EXPECT_EQ(*settings, InterfaceSettings{});
}

TEST(ApplyInterfaceOptions, TosInheritIsNoValue) {
  auto settings = Apply({"tos", "inherit"});
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->tos, OuterTos::Inherit());
  // The send decision takes the value from each frame.
  EXPECT_EQ(OuterFieldsOf(*settings).tos, std::nullopt);
  settings = Apply({"tos", "default"}, *settings);
  ASSERT_TRUE(settings);
  EXPECT_TRUE(settings->tos.is_default());
}

TEST(ApplyInterfaceOptions, AnExplicitTosIsNotTheDefault) {
  // 0x10 is the IPv4 default, but said explicitly it is 0x10 over IPv6
  // too.
  auto settings = Apply({"tos", "16"});
  ASSERT_TRUE(settings);
  EXPECT_FALSE(settings->tos.is_default());
  EXPECT_EQ(OuterFieldsOf(*settings).tos, std::optional<uint8_t>(0x10));
}

TEST(ApplyInterfaceOptions, AcceptsTheOuterOptionsBoundaries) {
  EXPECT_EQ(Apply({"ttl", "1"})->ttl, 1);
  EXPECT_EQ(Apply({"ttl", "255"})->ttl, 255);
  EXPECT_EQ(Apply({"ttl", "0xff"})->ttl, 255);
  EXPECT_EQ(Apply({"tos", "0"})->tos, OuterTos::Value(0));
  EXPECT_EQ(Apply({"tos", "255"})->tos, OuterTos::Value(255));
  EXPECT_EQ(Apply({"tos", "0x00"})->tos, OuterTos::Value(0));
  EXPECT_EQ(Apply({"fwmark", "0"})->fwmark, 0u);
  EXPECT_EQ(Apply({"fwmark", "4294967295"})->fwmark, UINT32_MAX);
  EXPECT_EQ(Apply({"fwmark", "0XFFFFFFFF"})->fwmark, UINT32_MAX);
}

TEST(ApplyInterfaceOptions, RefusesOuterOptionsOutOfRange) {
  for (const char* ttl : {"0", "256", "-1", "+5", "", "0x", "0x100", "64 ",
                          "1e2", "sixty", "0x-1"}) {
    ExpectRefused({"ttl", ttl}, "range 1-255");
  }
  for (const char* tos :
       {"256", "-1", "0x100", "", "Inherit", "copy", "0x1g"}) {
    ExpectRefused({"tos", tos}, "inherit");
  }
  for (const char* fwmark : {"4294967296", "-1", "0x100000000", "", "mark"}) {
    ExpectRefused({"fwmark", fwmark}, "range 0-4294967295");
  }
  auto refused = Apply({"ttl", "300"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "ttl 300: invalid argument (range 1-255)");
}

TEST(OuterTos, PrintsItself) {
  EXPECT_EQ(OuterTos{}.ToString(), "default");
  EXPECT_EQ(OuterTos::Inherit().ToString(), "inherit");
  EXPECT_EQ(OuterTos::Value(0).ToString(), "0x00");
  EXPECT_EQ(OuterTos::Value(0xb8).ToString(), "0xb8");
}

TEST(ApplyInterfaceOptions, LaterOptionsOverrideEarlierOnes) {
  auto settings =
      Apply({"mtu", "1400", "mtu", "9000", "up", "down", "domain", "blue",
             "-domain", "tunnel", "192.0.2.1", "192.0.2.2", "-tunnel"});
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->mtu, 9000u);
  EXPECT_FALSE(settings->up);
  EXPECT_EQ(settings->domain, "");
  EXPECT_FALSE(settings->tunnel);
}

TEST(ApplyInterfaceOptions, AcceptsIpv6Tunnels) {
  auto settings = Apply({"tunnel", "2001:db8::1", "2001:db8:1::2"});
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->tunnel, MakeTunnel("2001:db8::1", "2001:db8:1::2"));
}

TEST(ApplyInterfaceOptions, RefusesMixedFamilies) {
  ExpectRefused({"tunnel", "192.0.2.1", "2001:db8::2"}, "invalid argument");
  ExpectRefused({"tunnel", "2001:db8::1", "192.0.2.2"}, "invalid argument");
}

TEST(ApplyInterfaceOptions, RefusesEndpointsThatAreNeitherLiteralsNorNames) {
  ExpectRefused({"tunnel", "192.0.2.1/24", "192.0.2.2"},
                "invalid argument (192.0.2.1/24 is not an IP literal or host "
                "name)");
  ExpectRefused({"tunnel", "192.0.2.1", "192.0.2.300"}, "invalid argument");
  ExpectRefused({"tunnel", "", "192.0.2.2"}, "invalid argument");
  ExpectRefused({"tunnel", "peer .example", "192.0.2.2"}, "invalid argument");
  ExpectRefused({"tunnel", "192.0.2.1", "-peer.example"}, "invalid argument");
  ExpectRefused({"tunnel", "192.0.2.1", "peer..example"}, "invalid argument");
}

TEST(ApplyInterfaceOptions, AcceptsHostNamesAsGiven) {
  auto settings = Apply({"tunnel", "192.0.2.1", "Peer.Example"});
  ASSERT_TRUE(settings);
  ASSERT_TRUE(settings->tunnel);
  EXPECT_EQ(settings->tunnel->destination.host, "Peer.Example");
  EXPECT_EQ(settings->tunnel->ToString(), "192.0.2.1 -> Peer.Example");
  EXPECT_FALSE(settings->tunnel->LiteralAddresses());
  EXPECT_TRUE(settings->tunnel->needs_lookup());
  EXPECT_EQ(settings->tunnel->family(), Family::kIpv4);
  // Names at both ends, and a name for the source.
  EXPECT_TRUE(Apply({"tunnel", "a.example", "b.example"}));
  EXPECT_TRUE(Apply({"tunnel", "router.test.", "2001:db8::2"}));
  EXPECT_EQ(Apply({"tunnel", "a.example", "b.example"})->tunnel->family(),
            Family::kNone);
  // The same name at both ends cannot make a tunnel, whatever its case.
  ExpectRefused({"tunnel", "peer.example", "PEER.example."},
                "source and destination are the same");
}

TEST(ApplyInterfaceOptions, AcceptsZonesOnLinkLocalAddressesOnly) {
  auto settings = Apply({"tunnel", "fe80::a%eth0", "fe80::b%eth0"});
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->tunnel->ToString(), "fe80::a%eth0 -> fe80::b%eth0");
  EXPECT_EQ(settings->tunnel->zone(), "eth0");
  EXPECT_TRUE(settings->tunnel->needs_lookup());  // eth0's index
  // Only one end may carry it; an index needs no lookup.
  settings = Apply({"tunnel", "fe80::a", "fe80::b%7"});
  ASSERT_TRUE(settings);
  EXPECT_FALSE(settings->tunnel->needs_lookup());
  EXPECT_EQ(settings->tunnel->LiteralAddresses(),
            (Tunnel{Ip("fe80::a"), Ip("fe80::b"), 7}));
  // Without a zone a link-local address is still accepted, as before.
  EXPECT_TRUE(Apply({"tunnel", "fe80::a", "fe80::b"}));
  ExpectRefused({"tunnel", "2001:db8::1%eth0", "2001:db8::2"},
                "2001:db8::1%eth0: a zone is only for IPv6 link-local "
                "addresses");
  ExpectRefused({"tunnel", "192.0.2.1%eth0", "192.0.2.2"}, "invalid argument");
  ExpectRefused({"tunnel", "fe80::a%eth0", "fe80::b%eth1"},
                "(the zones differ)");
  for (const char* bad : {"fe80::b%", "fe80::b%0", "fe80::b%eth/0",
                          "fe80::b%0123456789abcdef", "fe80::b%99999999999"}) {
    ExpectRefused({"tunnel", "fe80::a", bad}, "not an interface name or index");
  }
}

TEST(ApplyInterfaceOptions, RefusalQuotesTheTunnelAsGiven) {
  ExpectRefused({"tunnel", "192.0.2.1", "2001:db8::2"},
                "tunnel 192.0.2.1 -> 2001:db8::2: invalid argument");
}

TEST(ApplyInterfaceOptions, RefusesUnspecifiedAddresses) {
  ExpectRefused({"tunnel", "0.0.0.0", "192.0.2.2"}, "invalid argument");
  ExpectRefused({"tunnel", "192.0.2.1", "0.0.0.0"}, "invalid argument");
  ExpectRefused({"tunnel", "::", "2001:db8::2"}, "invalid argument");
  ExpectRefused({"tunnel", "2001:db8::1", "::"}, "invalid argument");
}

TEST(ApplyInterfaceOptions, RefusesMulticastAddresses) {
  ExpectRefused({"tunnel", "224.0.0.1", "192.0.2.2"}, "invalid argument");
  ExpectRefused({"tunnel", "192.0.2.1", "239.1.2.3"}, "invalid argument");
  ExpectRefused({"tunnel", "ff02::1", "2001:db8::2"}, "invalid argument");
  ExpectRefused({"tunnel", "2001:db8::1", "ff0e::1"}, "invalid argument");
}

TEST(ApplyInterfaceOptions, AcceptsMtuBoundaries) {
  EXPECT_EQ(Apply({"mtu", "68"})->mtu, 68u);
  EXPECT_EQ(Apply({"mtu", "65000"})->mtu, 65000u);
  EXPECT_EQ(kMinMtu, 68u);
  EXPECT_EQ(kMaxMtu, 65000u);
}

TEST(ApplyInterfaceOptions, RefusesMtuOutOfRange) {
  ExpectRefused({"mtu", "67"}, "mtu 67: invalid argument");
  ExpectRefused({"mtu", "65001"}, "mtu 65001: invalid argument");
  ExpectRefused({"mtu", "0"}, "invalid argument");
  ExpectRefused({"mtu", "4294967296"}, "invalid argument");
  ExpectRefused({"mtu", "99999999999999999999"}, "invalid argument");
}

TEST(ApplyInterfaceOptions, RefusesNonNumericMtu) {
  for (const char* mtu : {"", "abc", "1500x", "x1500", "-1", "+1500", " 1500",
                          "1500 ", "1e3", "0x5dc", "1500.0"}) {
    ExpectRefused({"mtu", mtu}, "invalid argument");
  }
}

TEST(ApplyInterfaceOptions, MtuAutoLeavesTheValueAndMtuNTurnsItOff) {
  auto settings = Apply({"mtu", "1400", "mtu", "auto"});
  ASSERT_TRUE(settings);
  EXPECT_TRUE(settings->mtu_auto);
  EXPECT_EQ(settings->mtu, 1400u);  // the caller computes the value
  settings = Apply({"mtu", "auto", "mtu", "1280"});
  ASSERT_TRUE(settings);
  EXPECT_FALSE(settings->mtu_auto);
  EXPECT_EQ(settings->mtu, 1280u);
  EXPECT_FALSE(Apply({})->mtu_auto);
  ExpectRefused({"mtu", "Auto"}, "invalid argument");
  ExpectRefused({"mtu", "auto "}, "invalid argument");
}

TEST(ApplyInterfaceOptions, AcceptsUnicastLladdr) {
  EXPECT_EQ(Apply({"lladdr", "00:11:22:33:44:55"})->lladdr.ToString(),
            "00:11:22:33:44:55");
  EXPECT_EQ(Apply({"lladdr", "FE-E1-BA-D0-00-01"})->lladdr.ToString(),
            "fe:e1:ba:d0:00:01");
}

TEST(ApplyInterfaceOptions, RefusesMulticastLladdr) {
  ExpectRefused({"lladdr", "01:00:5e:00:00:01"}, "not a unicast address");
  ExpectRefused({"lladdr", "ff:ff:ff:ff:ff:ff"}, "not a unicast address");
  ExpectRefused({"lladdr", "03:00:00:00:00:01"}, "not a unicast address");
}

TEST(ApplyInterfaceOptions, RefusesZeroLladdr) {
  ExpectRefused({"lladdr", "00:00:00:00:00:00"}, "not a unicast address");
}

TEST(ApplyInterfaceOptions, RefusesGarbageLladdr) {
  ExpectRefused({"lladdr", "random"}, "not a MAC address");
  ExpectRefused({"lladdr", "fe:e1:ba:d0:00"}, "not a MAC address");
  ExpectRefused({"lladdr", "fe:e1:ba:d0:00:0x"}, "not a MAC address");
}

TEST(ApplyInterfaceOptions, DomainValuesAreLeftToTheTunnelTable) {
  // Whether a domain exists is not a value check.
  auto settings = Apply({"domain", "nonexistent"});
  ASSERT_TRUE(settings);
  EXPECT_EQ(settings->domain, "nonexistent");
}

// --- The separate checks, for settings built elsewhere ---

TEST(CheckTunnel, AcceptsValidTunnels) {
  EXPECT_TRUE(CheckTunnel(MakeTunnel("192.0.2.1", "198.51.100.1")));
  EXPECT_TRUE(CheckTunnel(MakeTunnel("2001:db8::1", "2001:db8::2")));
}

TEST(CheckTunnel, RefusesAddresslessTunnel) {
  auto status = CheckTunnel(Tunnel{});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, EINVAL);
  EXPECT_FALSE(CheckTunnel(Tunnel{Ip("192.0.2.1"), IpAddress()}));
  EXPECT_FALSE(CheckTunnel(Tunnel{IpAddress(), Ip("192.0.2.1")}));
}

TEST(CheckTunnel, RefusesWhatApplyRefuses) {
  EXPECT_FALSE(CheckTunnel(MakeTunnel("192.0.2.1", "2001:db8::2")));
  EXPECT_FALSE(CheckTunnel(MakeTunnel("0.0.0.0", "192.0.2.2")));
  EXPECT_FALSE(CheckTunnel(MakeTunnel("2001:db8::1", "ff02::1")));
}

TEST(EndpointProblem, RefusesEveryAddressThatCannotReachAPeer) {
  struct Case {
    const char* address;
    std::string_view why;
  };
  for (const Case& c : {
           Case{"0.0.0.0", "unspecified"},
           Case{"0.255.0.1", "in 0.0.0.0/8"},
           Case{"127.0.0.1", "loopback"},
           Case{"127.255.255.254", "loopback"},
           Case{"255.255.255.255", "broadcast"},
           Case{"239.1.2.3", "multicast"},
           Case{"::", "unspecified"},
           Case{"::1", "loopback"},
           Case{"ff02::1", "multicast"},
           Case{"::ffff:192.0.2.1", "IPv4-mapped"},
           Case{"::192.0.2.1", "IPv4-compatible"},
           Case{"::2", "IPv4-compatible"},
       }) {
    EXPECT_EQ(EndpointProblem(Ip(c.address)), c.why) << c.address;
  }
  // Their neighbours are fine, and so is link-local IPv6.
  for (const char* fine :
       {"1.0.0.0", "126.255.255.255", "128.0.0.1", "255.255.255.254",
        "192.0.2.1", "223.255.255.255", "2001:db8::1", "fe80::1",
        "::fffe:192.0.2.1", "0:0:0:0:1::1", "fec0::1"}) {
    EXPECT_EQ(EndpointProblem(Ip(fine)), "") << fine;
  }
}

TEST(CheckTunnel, RefusesASourceEqualToTheDestination) {
  auto status = CheckTunnel(MakeTunnel("192.0.2.1", "192.0.2.1"));
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, EINVAL);
  EXPECT_EQ(status.error().message,
            "tunnel 192.0.2.1 -> 192.0.2.1: invalid argument (source and "
            "destination are the same)");
  EXPECT_FALSE(ParseTunnel("2001:db8::1", "2001:DB8::1"));
}

TEST(ParseTunnel, ParsesBothAddresses) {
  auto tunnel = ParseTunnel("192.0.2.1", "192.0.2.2");
  ASSERT_TRUE(tunnel);
  EXPECT_EQ(*tunnel, MakeTunnel("192.0.2.1", "192.0.2.2"));
  EXPECT_FALSE(tunnel->needs_lookup());
  EXPECT_EQ(tunnel->LiteralAddresses(), MakeTunnel("192.0.2.1", "192.0.2.2"));
}

TEST(ParseTunnel, KeepsNamesAndZonesAsGivenAndLiteralsCanonical) {
  auto tunnel = ParseTunnel("FE80:0::A%veth0", "peer.example");
  ASSERT_TRUE(tunnel);
  EXPECT_EQ(tunnel->ToString(), "fe80::a%veth0 -> peer.example");
  EXPECT_EQ(tunnel->source.zone, "veth0");
  EXPECT_EQ(tunnel->family(), Family::kIpv6);
  // What ToString() prints parses back to the same tunnel.
  auto again =
      ParseTunnel(tunnel->source.ToString(), tunnel->destination.ToString());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *tunnel);
}

TEST(TunnelConfig, OfAddressesIsATunnelOfLiteralsWithTheScopeAsZone) {
  const TunnelConfig plain = MakeTunnel("192.0.2.1", "192.0.2.2");
  EXPECT_EQ(plain.ToString(), "192.0.2.1 -> 192.0.2.2");
  const TunnelConfig zoned = Tunnel{Ip("fe80::a"), Ip("2001:db8::2"), 3};
  EXPECT_EQ(zoned.ToString(), "fe80::a%3 -> 2001:db8::2");
  EXPECT_EQ(zoned.LiteralAddresses(),
            (Tunnel{Ip("fe80::a"), Ip("2001:db8::2"), 3}));
}

TEST(AddressProblem, ChecksResolvedAddressesAsLiteralsAreChecked) {
  EXPECT_EQ(AddressProblem(MakeTunnel("192.0.2.1", "192.0.2.2")), "");
  EXPECT_EQ(AddressProblem(MakeTunnel("192.0.2.1", "127.0.0.1")),
            "127.0.0.1 is loopback");
  EXPECT_EQ(AddressProblem(MakeTunnel("192.0.2.1", "2001:db8::1")),
            "different families");
  EXPECT_EQ(AddressProblem(MakeTunnel("192.0.2.1", "192.0.2.1")),
            "source and destination are the same");
}

TEST(Tunnel, PrintsSourceArrowDestination) {
  EXPECT_EQ(MakeTunnel("192.0.2.1", "192.0.2.2").ToString(),
            "192.0.2.1 -> 192.0.2.2");
  EXPECT_EQ(MakeTunnel("2001:DB8::1", "2001:db8:0::2").ToString(),
            "2001:db8::1 -> 2001:db8::2");
}

TEST(ParseMtu, ReturnsTheNumber) { EXPECT_EQ(ParseMtu("1500").value(), 1500u); }

TEST(ParseLladdr, ReturnsTheAddress) {
  EXPECT_EQ(ParseLladdr("02:00:00:00:00:01").value().ToString(),
            "02:00:00:00:00:01");
}

}  // namespace
}  // namespace etherip

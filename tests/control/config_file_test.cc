#include "control/config_file.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "control/fake_server.h"

namespace etherip::control {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kPath = "etheripd.conf";

// The example of SPEC 6, verbatim.
constexpr std::string_view kSpecExample = R"(allow = true

[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
# domain = "underlay"
# mtu = 1500            # or "auto" (section 8)
# lladdr = "fe:e1:ba:d0:00:01"
up = true
)";

Config ParseOk(std::string_view text) {
  auto config = ParseConfig(text, kPath);
  EXPECT_TRUE(config) << config.error().message;
  return config ? *config : Config{};
}

// The whole message of the error the text is refused with.
std::string ErrorOf(std::string_view text) {
  auto config = ParseConfig(text, kPath);
  EXPECT_FALSE(config) << text;
  return config ? "" : config.error().message;
}

int ErrorCodeOf(std::string_view text) {
  auto config = ParseConfig(text, kPath);
  return config ? 0 : config.error().code;
}

TEST(ParseConfig, ReadsTheSpecExample) {
  const Config config = ParseOk(kSpecExample);
  EXPECT_TRUE(config.allow);
  ASSERT_EQ(config.interfaces.size(), 1u);
  const InterfaceSpec& spec = config.interfaces[0];
  EXPECT_EQ(spec.name, "etherip0");
  EXPECT_EQ(spec.settings.tunnel,
            ParseTunnel("192.0.2.1", "192.0.2.2").value());
  EXPECT_EQ(spec.settings.domain, "");
  EXPECT_TRUE(spec.settings.up);
  EXPECT_EQ(spec.settings.mtu, kDefaultMtu);
  EXPECT_FALSE(spec.has_lladdr);
  EXPECT_EQ(config.lines, std::vector<int>{3});
}

TEST(ParseConfig, ReadsEverySetting) {
  const Config config = ParseOk(R"(
[[interface]]
name = "etherip0"
source = "2001:db8::1"
destination = "2001:db8::2"
domain = "underlay"
mtu = 9000
lladdr = "FE:E1:BA:D0:00:01"
up = false

[[interface]]
name = "etherip1"
)");
  EXPECT_FALSE(config.allow);
  ASSERT_EQ(config.interfaces.size(), 2u);
  const InterfaceSpec& first = config.interfaces[0];
  EXPECT_EQ(first.settings.tunnel,
            ParseTunnel("2001:db8::1", "2001:db8::2").value());
  EXPECT_EQ(first.settings.domain, "underlay");
  EXPECT_EQ(first.settings.mtu, 9000u);
  EXPECT_EQ(first.settings.lladdr, ParseLladdr("fe:e1:ba:d0:00:01").value());
  EXPECT_TRUE(first.has_lladdr);
  EXPECT_FALSE(first.settings.up);
  const InterfaceSpec& second = config.interfaces[1];
  EXPECT_EQ(second.name, "etherip1");
  EXPECT_EQ(second.settings, InterfaceSettings{});
  EXPECT_EQ(config.lines, (std::vector<int>{2, 11}));
}

TEST(ParseConfig, ReadsSavePersistAndDisableIpv6) {
  const Config both = ParseOk("save = true\npersist = true\n");
  EXPECT_TRUE(both.save);
  EXPECT_TRUE(both.persist);
  EXPECT_FALSE(both.allow);
  EXPECT_EQ(both.globals(), (GlobalSettings{.save = true, .persist = true}));

  const Config save = ParseOk("persist = false\nsave = true\nallow = true\n");
  EXPECT_EQ(save.globals(), (GlobalSettings{.allow = true, .save = true}));

  const Config persist = ParseOk(
      "persist = true\n\n[[interface]]\nname = \"etherip0\"\nup = true\n");
  EXPECT_EQ(persist.globals(), (GlobalSettings{.persist = true}));
  EXPECT_EQ(persist.interfaces.size(), 1u);

  const Config no_ipv6 = ParseOk("disable_ipv6 = true\n");
  EXPECT_EQ(no_ipv6.globals(), (GlobalSettings{.disable_ipv6 = true}));

  // Left out: off, as allow.
  EXPECT_EQ(ParseOk(kSpecExample).globals(), (GlobalSettings{.allow = true}));
}

TEST(ParseConfig, ReadsTheUserAsANameOrAUid) {
  const Config named = ParseOk("allow = true\nuser = \"nobody\"\n");
  EXPECT_EQ(named.user, "nobody");
  EXPECT_EQ(named.user_line, 2);
  EXPECT_EQ(named.globals(), (GlobalSettings{.allow = true, .user = "nobody"}));
  EXPECT_EQ(ParseOk("user = 65534\n").user, "65534");
  EXPECT_EQ(ParseOk("user = \"65534\"\n").user, "65534");
  // Left out: "", the starting user.
  EXPECT_EQ(ParseOk("allow = true\n").user, "");
  EXPECT_EQ(ParseOk("allow = true\n").user_line, 0);
}

TEST(ParseConfig, RefusesAUserThatIsNeitherNameNorUid) {
  for (std::string_view text :
       {"\nuser = \"\"\n", "\nuser = true\n", "\nuser = -1\n",
        "\nuser = 4294967295\n", "\nuser = [\"a\"]\n"}) {
    EXPECT_EQ(
        ErrorOf(text),
        std::string(kPath) + ":2: user: expected a user name or a numeric uid")
        << text;
  }
}

TEST(ParseConfig, ReadsControlGroupByNameOrNumber) {
  // Group 0 is "root" on every Linux system.
  const Config by_name = ParseOk("control_group = \"root\"\n");
  ASSERT_TRUE(by_name.control_group);
  EXPECT_EQ(*by_name.control_group, (ControlGroup{"root", 0}));
  EXPECT_EQ(by_name.globals(), (GlobalSettings{.control_group = "root"}));

  // A GID need not name a group.
  const Config by_number = ParseOk("control_group = \"4242\"\n");
  ASSERT_TRUE(by_number.control_group);
  EXPECT_EQ(*by_number.control_group, (ControlGroup{"4242", 4242}));
  EXPECT_EQ(ParseOk("control_group = \"4294967294\"\n").control_group->gid,
            4294967294u);

  EXPECT_FALSE(ParseOk("allow = true\n").control_group);
}

TEST(ParseConfig, RefusesABadControlGroupWithItsLine) {
  EXPECT_EQ(
      ErrorOf("allow = true\ncontrol_group = \"no-such-group-etherip\"\n"),
      "etheripd.conf:2: control_group: no such group "
      "\"no-such-group-etherip\"");
  EXPECT_EQ(ErrorCodeOf("control_group = \"no-such-group-etherip\"\n"), EINVAL);
  EXPECT_EQ(ErrorOf("control_group = 4242\n"),
            "etheripd.conf:1: control_group: expected a group name or a "
            "GID, as a string");
  EXPECT_EQ(ErrorOf("control_group = \"\"\n"),
            "etheripd.conf:1: control_group: empty group name");
  EXPECT_THAT(ErrorOf("control_group = \"4294967295\"\n"),
              HasSubstr("out of range"));
  EXPECT_THAT(ErrorOf("control_group = \"99999999999999999999999\"\n"),
              HasSubstr("out of range"));
}

TEST(RenderConfig, WritesControlGroupOnlyWhenSet) {
  EXPECT_THAT(RenderConfig({}, {}), ::testing::Not(HasSubstr("control")));
  const std::string text = RenderConfig({.control_group = "etherip"}, {});
  EXPECT_THAT(text, HasSubstr("\ncontrol_group = \"etherip\"\n"));
  const Config back = ParseOk(RenderConfig({.control_group = "0"}, {}));
  EXPECT_EQ(back.globals(), (GlobalSettings{.control_group = "0"}));
}

TEST(RenderConfig, QuotesStringsSoTheyReadBackAsWritten) {
  // `user` is checked for form only, so any string goes through.
  for (std::string_view user :
       {"etherip", "a\"b", "back\\slash", "tab\there", "new\nline", "bell\x07",
        "caf\xc3\xa9", "it's", "del\x7f", "'\"\"\"'"}) {
    const std::string text = RenderConfig({.user = std::string(user)}, {});
    EXPECT_EQ(ParseOk(text).user, user) << text;
  }
  EXPECT_THAT(RenderConfig({.user = "tab\there"}, {}),
              HasSubstr("\nuser = \"tab\\there\"\n"));
  EXPECT_THAT(RenderConfig({.user = "caf\xc3\xa9"}, {}),
              HasSubstr("\nuser = \"caf\xc3\xa9\"\n"));
}

TEST(ParseConfig, ReadsMetricsAndRendersItBack) {
  const Config config = ParseOk("allow = true\nmetrics = \"[::1]:9797\"\n");
  EXPECT_EQ(config.metrics, "[::1]:9797");
  EXPECT_EQ(config.metrics_line, 2);
  EXPECT_EQ(config.globals().metrics, "[::1]:9797");
  const std::string text = RenderConfig(config.globals(), {});
  EXPECT_THAT(text, HasSubstr("\nmetrics = \"[::1]:9797\"\n"));
  EXPECT_EQ(ParseOk(text).globals(), config.globals());
  EXPECT_THAT(RenderConfig({}, {}), ::testing::Not(HasSubstr("metrics")));
  EXPECT_EQ(ParseOk("allow = true\n").metrics, "");
}

TEST(ParseConfig, RefusesABadMetricsAddressWithItsLine) {
  EXPECT_THAT(ErrorOf("allow = true\nmetrics = \"localhost:9797\"\n"),
              ::testing::StartsWith("etheripd.conf:2: metrics: localhost:9797: "
                                    "not an IP literal"));
  EXPECT_THAT(ErrorOf("metrics = 9797\n"),
              HasSubstr("etheripd.conf:1: metrics: expected a string"));
  EXPECT_EQ(ErrorCodeOf("metrics = \"127.0.0.1:0\"\n"), EINVAL);
}

TEST(ParseConfig, ReadsAnEmptyFileAsNothing) {
  for (std::string_view text :
       {"", "\n", "# nothing\n", "allow = false\n", "interface = []\n"}) {
    const Config config = ParseOk(text);
    EXPECT_EQ(config.globals(), GlobalSettings{});
    EXPECT_FALSE(config.allow);
    EXPECT_TRUE(config.interfaces.empty());
    EXPECT_TRUE(config.lines.empty());
  }
}

TEST(ParseConfig, AcceptsInlineTables) {
  const Config config = ParseOk(
      "allow = true\ninterface = [\n  { name = \"a\", up = true },\n"
      "  { name = \"b\" },\n]\n");
  ASSERT_EQ(config.interfaces.size(), 2u);
  EXPECT_EQ(config.interfaces[1].name, "b");
  EXPECT_EQ(config.lines, (std::vector<int>{3, 4}));
}

TEST(ParseConfig, AcceptsAnEmptyDomainAsTheDefault) {
  const Config config = ParseOk("[[interface]]\nname = \"a\"\ndomain = \"\"\n");
  EXPECT_EQ(config.interfaces.at(0).settings.domain, "");
}

TEST(ParseConfig, AllowsOneTunnelInTwoDomains) {
  const Config config = ParseOk(R"(
[[interface]]
name = "a"
source = "192.0.2.1"
destination = "192.0.2.2"

[[interface]]
name = "b"
source = "192.0.2.1"
destination = "192.0.2.2"
domain = "other"
)");
  EXPECT_EQ(config.interfaces.size(), 2u);
}

TEST(ParseConfig, NamesTheLineOfASyntaxError) {
  EXPECT_THAT(ErrorOf("allow = true\n[[interface]\n"),
              StartsWith("etheripd.conf:2: "));
  EXPECT_THAT(ErrorOf("allow = true\nallow = false\n"),
              StartsWith("etheripd.conf:2: "));
  EXPECT_THAT(ErrorOf("\n\n[[interface]]\nname = \"a\nup = true\n"),
              StartsWith("etheripd.conf:4: "));
  EXPECT_THAT(ErrorOf("x = \"\xff\"\n"), StartsWith("etheripd.conf:1: "));
  EXPECT_EQ(ErrorCodeOf("="), EINVAL);
}

TEST(ParseConfig, RefusesUnknownKeys) {
  EXPECT_EQ(ErrorOf("allow = true\nalow = true\n"),
            "etheripd.conf:2: unknown key \"alow\"");
  EXPECT_EQ(ErrorOf("save = true\npersistent = true\n"),
            "etheripd.conf:2: unknown key \"persistent\"");
  // They are global: inside an interface they are unknown.
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nsave = true\n"),
            "etheripd.conf:3: interface a: unknown key \"save\"");
  EXPECT_EQ(ErrorOf(R"([[interface]]
name = "etherip0"
source = "192.0.2.1"
destinaton = "192.0.2.2"
)"),
            "etheripd.conf:4: interface etherip0: unknown key \"destinaton\"");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\n[interface.extra]\nx = 1\n"),
            "etheripd.conf:3: interface a: unknown key \"extra\"");
  EXPECT_EQ(ErrorOf("[interfaces]\n"),
            "etheripd.conf:1: unknown key \"interfaces\"");
}

TEST(ParseConfig, RefusesWrongTypes) {
  EXPECT_EQ(ErrorOf("\nallow = 1\n"),
            "etheripd.conf:2: allow: expected true or false");
  EXPECT_EQ(ErrorOf("allow = \"true\"\n"),
            "etheripd.conf:1: allow: expected true or false");
  EXPECT_EQ(ErrorOf("allow = true\n\nsave = 1\n"),
            "etheripd.conf:3: save: expected true or false");
  EXPECT_EQ(ErrorOf("persist = \"yes\"\n"),
            "etheripd.conf:1: persist: expected true or false");
  EXPECT_EQ(ErrorOf("save = true\npersist = [true]\n"),
            "etheripd.conf:2: persist: expected true or false");
  EXPECT_EQ(ErrorOf("save = {}\n"),
            "etheripd.conf:1: save: expected true or false");
  EXPECT_EQ(ErrorCodeOf("persist = 0\n"), EINVAL);
  EXPECT_EQ(ErrorOf("interface = 5\n"),
            "etheripd.conf:1: interface: expected [[interface]] tables");
  EXPECT_EQ(ErrorOf("\n[interface]\nname = \"a\"\n"),
            "etheripd.conf:2: interface: expected [[interface]] tables");
  EXPECT_EQ(ErrorOf("interface = [\"a\"]\n"),
            "etheripd.conf:1: interface: expected [[interface]] tables");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = 0\n"),
            "etheripd.conf:2: interface: name: expected a string");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nsource = 1\n"
                    "destination = \"192.0.2.2\"\n"),
            "etheripd.conf:3: interface a: source: expected a string");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\ndomain = []\n"),
            "etheripd.conf:3: interface a: domain: expected a string");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nmtu = \"1500\"\n"),
            "etheripd.conf:3: interface a: mtu: expected an integer or "
            "\"auto\"");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nmtu = 1500.0\n"),
            "etheripd.conf:3: interface a: mtu: expected an integer or "
            "\"auto\"");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nmtu = \"Auto\"\n"),
            "etheripd.conf:3: interface a: mtu: expected an integer or "
            "\"auto\"");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nlladdr = 1\n"),
            "etheripd.conf:3: interface a: lladdr: expected a string");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nup = \"yes\"\n"),
            "etheripd.conf:3: interface a: up: expected true or false");
}

TEST(ParseConfig, RefusesAnInterfaceWithoutAName) {
  EXPECT_EQ(ErrorOf("allow = true\n\n[[interface]]\nup = true\n"),
            "etheripd.conf:3: interface: missing name");
}

TEST(ParseConfig, RefusesInvalidInterfaceNames) {
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a/b\"\n"),
            "etheripd.conf:2: interface a/b: invalid interface name "
            "(forbidden character)");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"0123456789abcdef\"\n"),
            "etheripd.conf:2: interface 0123456789abcdef: invalid interface "
            "name (longer than 15 bytes)");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"\"\n"),
            "etheripd.conf:2: interface: invalid interface name (empty)");
  EXPECT_EQ(ErrorCodeOf("[[interface]]\nname = \"..\"\n"), EINVAL);
}

TEST(ParseConfig, RefusesHalfATunnel) {
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nsource = \"192.0.2.1\"\n"),
            "etheripd.conf:3: interface a: source without destination");
  EXPECT_EQ(
      ErrorOf("[[interface]]\nname = \"a\"\n\ndestination = \"192.0.2.1\"\n"),
      "etheripd.conf:4: interface a: destination without source");
}

TEST(ParseConfig, RefusesBadTunnelsOnTheLineOfTheBadAddress) {
  constexpr std::string_view kMixed = R"(allow = true

[[interface]]
name = "etherip1"
up = true
source = "192.0.2.1"
destination = "2001:db8::1"
)";
  EXPECT_EQ(ErrorOf(kMixed),
            "etheripd.conf:7: interface etherip1: tunnel 192.0.2.1 -> "
            "2001:db8::1: invalid argument (different families)");
  EXPECT_EQ(ErrorCodeOf(kMixed), EINVAL);

  constexpr std::string_view kTemplate =
      "[[interface]]\nname = \"a\"\nsource = \"{}\"\ndestination = \"{}\"\n";
  struct Case {
    const char* source;
    const char* destination;
    int line;
    const char* why;
  };
  for (const Case& c : {
           Case{"example..org", "192.0.2.2", 3,
                "example..org is not an IP literal or host name"},
           Case{"2001:db8::1%eth0", "2001:db8::2", 3,
                "2001:db8::1%eth0: a zone is only for IPv6 link-local "
                "addresses (fe80::/10)"},
           Case{"fe80::1%eth0", "fe80::2%eth1", 4, "the zones differ"},
           Case{"peer.example", "Peer.Example", 4,
                "source and destination are the same"},
           Case{"0.0.0.0", "192.0.2.2", 3, "0.0.0.0 is unspecified"},
           Case{"224.0.0.1", "192.0.2.2", 3, "224.0.0.1 is multicast"},
           Case{"127.0.0.1", "192.0.2.2", 3, "127.0.0.1 is loopback"},
           Case{"192.0.2.1", "198.51.100.300", 4,
                "198.51.100.300 is not an IP literal or host name"},
           Case{"192.0.2.1", "255.255.255.255", 4,
                "255.255.255.255 is broadcast"},
           Case{"192.0.2.1", "0.1.2.3", 4, "0.1.2.3 is in 0.0.0.0/8"},
           Case{"192.0.2.1", "192.0.2.1", 4,
                "source and destination are the same"},
           Case{"2001:db8::1", "::", 4, ":: is unspecified"},
           Case{"2001:db8::1", "ff02::1", 4, "ff02::1 is multicast"},
           Case{"2001:db8::1", "::1", 4, "::1 is loopback"},
           Case{"2001:db8::1", "::ffff:192.0.2.2", 4,
                "::ffff:192.0.2.2 is IPv4-mapped"},
           Case{"2001:db8::1", "::192.0.2.2", 4,
                "::192.0.2.2 is IPv4-compatible"},
           Case{"2001:db8::1", "192.0.2.2", 4, "different families"},
       }) {
    EXPECT_EQ(
        ErrorOf(fmt::format(fmt::runtime(kTemplate), c.source, c.destination)),
        fmt::format("etheripd.conf:{}: interface a: tunnel {} -> {}: "
                    "invalid argument ({})",
                    c.line, c.source, c.destination, c.why));
  }
}

TEST(ParseConfig, ReadsTheMaster) {
  const Config config =
      ParseOk("[[interface]]\nname = \"a\"\nmaster = \"br0\"\n");
  EXPECT_EQ(config.interfaces[0].settings.master, "br0");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nmaster = \"b/r\"\n"),
            "etheripd.conf:3: interface a: master b/r: invalid argument");
}

TEST(ParseConfig, ReadsAnAutomaticMtu) {
  const Config config = ParseOk(
      "[[interface]]\nname = \"a\"\nmtu = \"auto\"\n"
      "[[interface]]\nname = \"b\"\nmtu = 1400\n"
      "[[interface]]\nname = \"c\"\n");
  ASSERT_EQ(config.interfaces.size(), 3u);
  EXPECT_TRUE(config.interfaces[0].settings.mtu_auto);
  // The value is the daemon's to find; until then, the default.
  EXPECT_EQ(config.interfaces[0].settings.mtu, kDefaultMtu);
  EXPECT_FALSE(config.interfaces[1].settings.mtu_auto);
  EXPECT_EQ(config.interfaces[1].settings.mtu, 1400u);
  EXPECT_FALSE(config.interfaces[2].settings.mtu_auto);
  EXPECT_EQ(config.interfaces[2].settings.mtu, kDefaultMtu);
}

TEST(RenderConfig, WritesAnAutomaticMtuAsAuto) {
  InterfaceView view;
  view.name = "etherip0";
  view.settings.tunnel = *ParseTunnel("192.0.2.1", "192.0.2.2");
  view.settings.mtu = 1464;  // the value followed, not configuration
  view.settings.mtu_auto = true;
  view.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:01");
  const std::string text = RenderConfig({}, std::span(&view, 1));
  EXPECT_THAT(text, HasSubstr("\nmtu = \"auto\"\n"));
  EXPECT_EQ(text.find("1464"), std::string::npos);
  auto config = ParseConfig(text, "showconf");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->interfaces.size(), 1u);
  EXPECT_TRUE(config->interfaces[0].settings.mtu_auto);
}

TEST(ParseConfig, ReadsTheHeaderMode) {
  const Config config = ParseOk(
      "[[interface]]\nname = \"a\"\nheader = \"reversed\"\n"
      "[[interface]]\nname = \"b\"\n");
  ASSERT_EQ(config.interfaces.size(), 2u);
  EXPECT_EQ(config.interfaces[0].settings.header, HeaderMode::kReversed);
  EXPECT_EQ(config.interfaces[1].settings.header, HeaderMode::kStandard);
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nheader = \"netbsd\"\n"),
            "etheripd.conf:3: interface a: header netbsd: invalid argument "
            "(standard, reversed or any)");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nheader = 3\n"),
            "etheripd.conf:3: interface a: header: expected a string");
}

TEST(ParseConfig, ReadsEoipAndKeepalive) {
  const Config config = ParseOk(R"([[interface]]
name = "a"
source = "2001:db8::1"
destination = "2001:db8::2"
eoip = 0
[[interface]]
name = "b"
source = "2001:db8::1"
destination = "2001:db8::2"
keepalive = 0
eoip = 4095
[[interface]]
name = "c"
)");
  ASSERT_EQ(config.interfaces.size(), 3u);
  EXPECT_EQ(config.interfaces[0].settings.eoip, 0);
  EXPECT_EQ(config.interfaces[0].settings.keepalive, kDefaultKeepalive);
  EXPECT_EQ(config.interfaces[1].settings.eoip, 4095);
  EXPECT_EQ(config.interfaces[1].settings.keepalive, 0u);
  EXPECT_EQ(config.interfaces[2].settings.eoip, std::nullopt);
}

TEST(ParseConfig, RefusesEoipWhereItCannotBe) {
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\neoip = 4096\n"),
            "etheripd.conf:3: interface a: eoip 4096: invalid argument "
            "(range 0-4095)");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\neoip = \"1\"\n"),
            "etheripd.conf:3: interface a: eoip: expected an integer");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\neoip = 1\n"
                    "keepalive = 3601\n"),
            "etheripd.conf:4: interface a: keepalive 3601: invalid argument "
            "(seconds, 0-3600)");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nkeepalive = 10\n"),
            "etheripd.conf:3: interface a: keepalive 10: invalid argument "
            "(only for EoIP tunnels: eoip ID)");
  EXPECT_EQ(ErrorOf(R"([[interface]]
name = "a"
source = "192.0.2.1"
destination = "192.0.2.2"
eoip = 7
)"),
            "etheripd.conf:5: interface a: eoip 7: invalid argument (EoIP "
            "tunnels are IPv6: tunnel 192.0.2.1 -> 192.0.2.2 is IPv4)");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\neoip = 7\n"
                    "header = \"reversed\"\n"),
            "etheripd.conf:3: interface a: eoip 7: invalid argument (EoIP "
            "has its own header: not with header reversed)");
}

TEST(ParseConfig, RefusesAnEoipIdTwiceAndMixedKindsOnOnePair) {
  constexpr std::string_view kTwice = R"([[interface]]
name = "a"
source = "2001:db8::1"
destination = "2001:db8::2"
eoip = 5
[[interface]]
name = "b"
source = "2001:db8::1"
destination = "2001:db8::2"
eoip = 6
[[interface]]
name = "c"
source = "2001:db8::1"
destination = "2001:db8::2"
eoip = 5
)";
  EXPECT_EQ(ErrorOf(kTwice),
            "etheripd.conf:13: interface c: tunnel 2001:db8::1 -> "
            "2001:db8::2 eoip 5: address not available (used by interface a "
            "on line 3)");
  constexpr std::string_view kMixed = R"([[interface]]
name = "a"
source = "2001:db8::1"
destination = "2001:db8::2"
eoip = 5
[[interface]]
name = "b"
source = "2001:db8::1"
destination = "2001:db8::2"
)";
  EXPECT_EQ(ErrorCodeOf(kMixed), EEXIST);
  EXPECT_EQ(ErrorOf(kMixed),
            "etheripd.conf:8: interface b: tunnel 2001:db8::1 -> 2001:db8::2: "
            "file exists (interface a on line 3 has an EoIP tunnel between "
            "these addresses; EoIP and standard tunnels cannot share them)");
}

TEST(ParseConfig, ReadsTheOuterHeaderOptions) {
  const Config config = ParseOk(R"([[interface]]
name = "a"
ttl = 9
df = true
tos = 0xb8
fwmark = 42

[[interface]]
name = "b"
tos = "inherit"
fwmark = "0x2a"
ttl = "0x10"
df = false

[[interface]]
name = "c"
tos = 16
)");
  ASSERT_EQ(config.interfaces.size(), 3u);
  const InterfaceSettings& a = config.interfaces[0].settings;
  EXPECT_EQ(a.ttl, 9);
  EXPECT_TRUE(a.df);
  EXPECT_EQ(a.tos, OuterTos::Value(0xb8));
  EXPECT_EQ(a.fwmark, 42u);
  const InterfaceSettings& b = config.interfaces[1].settings;
  EXPECT_EQ(b.tos, OuterTos::Inherit());
  EXPECT_EQ(b.fwmark, 42u);
  EXPECT_EQ(b.ttl, 16);
  EXPECT_FALSE(b.df);
  EXPECT_EQ(config.interfaces[2].settings.tos, OuterTos::Value(16));
  // Left out: the defaults.
  const InterfaceSettings none =
      ParseOk("[[interface]]\nname = \"d\"\n").interfaces[0].settings;
  EXPECT_EQ(none.ttl, 64);
  EXPECT_FALSE(none.df);
  EXPECT_TRUE(none.tos.is_default());
  EXPECT_EQ(none.fwmark, 0u);
}

TEST(ParseConfig, RefusesBadOuterHeaderOptions) {
  const auto error = [](std::string_view line) {
    return ErrorOf(fmt::format("[[interface]]\nname = \"a\"\n{}\n", line));
  };
  EXPECT_EQ(error("ttl = 0"),
            "etheripd.conf:3: interface a: ttl 0: invalid argument "
            "(range 1-255)");
  EXPECT_EQ(error("ttl = 256"),
            "etheripd.conf:3: interface a: ttl 256: invalid argument "
            "(range 1-255)");
  EXPECT_EQ(error("ttl = true"),
            "etheripd.conf:3: interface a: ttl: expected an integer");
  EXPECT_EQ(error("tos = 256"),
            "etheripd.conf:3: interface a: tos 256: invalid argument "
            "(0-255, 0x00-0xff or inherit)");
  EXPECT_EQ(error("tos = -1"),
            "etheripd.conf:3: interface a: tos -1: invalid argument "
            "(0-255, 0x00-0xff or inherit)");
  EXPECT_EQ(error("tos = \"copy\""),
            "etheripd.conf:3: interface a: tos copy: invalid argument "
            "(0-255, 0x00-0xff or inherit)");
  EXPECT_EQ(error("tos = 1.5"),
            "etheripd.conf:3: interface a: tos: expected an integer or "
            "\"inherit\"");
  EXPECT_EQ(error("fwmark = 4294967296"),
            "etheripd.conf:3: interface a: fwmark 4294967296: invalid "
            "argument (range 0-4294967295)");
  EXPECT_EQ(error("fwmark = -1"),
            "etheripd.conf:3: interface a: fwmark -1: invalid argument "
            "(range 0-4294967295)");
  EXPECT_EQ(error("df = 1"),
            "etheripd.conf:3: interface a: df: expected true or false");
}

TEST(RenderConfig, WritesOuterHeaderOptionsOnlyWhenNotTheDefaults) {
  InterfaceView view;
  view.name = "a";
  view.settings.lladdr = *ParseLladdr("02:00:00:00:00:01");
  const std::string plain = RenderConfig({}, {&view, 1});
  for (const char* key : {"ttl", "df", "tos", "fwmark"}) {
    EXPECT_EQ(plain.find(std::string("\n") + key + " ="), std::string::npos)
        << key;
  }
  view.settings.ttl = 9;
  view.settings.df = true;
  view.settings.tos = OuterTos::Value(0x10);
  view.settings.fwmark = 42;
  EXPECT_THAT(RenderConfig({}, {&view, 1}),
              HasSubstr("\nttl = 9\ndf = true\ntos = 16\nfwmark = 42\nup = "
                        "false\n"));
  view.settings.tos = OuterTos::Inherit();
  EXPECT_THAT(RenderConfig({}, {&view, 1}), HasSubstr("\ntos = \"inherit\"\n"));
}

TEST(ParseConfig, RefusesBadValues) {
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nmtu = 67\n"),
            "etheripd.conf:3: interface a: mtu 67: invalid argument "
            "(range 68-65000)");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nmtu = -1500\n"),
            "etheripd.conf:3: interface a: mtu -1500: invalid argument "
            "(range 68-65000)");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nmtu = 65001\n"),
            "etheripd.conf:3: interface a: mtu 65001: invalid argument "
            "(range 68-65000)");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\nlladdr = \"fe:e1\"\n"),
            "etheripd.conf:3: interface a: lladdr fe:e1: not a MAC address");
  EXPECT_EQ(
      ErrorOf("[[interface]]\nname = \"a\"\nlladdr = \"ff:ff:ff:ff:ff:ff\"\n"),
      "etheripd.conf:3: interface a: lladdr ff:ff:ff:ff:ff:ff: not a unicast "
      "address");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\ndomain = \"a/b\"\n"),
            "etheripd.conf:3: interface a: domain a/b: no such domain");
  EXPECT_EQ(ErrorOf("[[interface]]\nname = \"a\"\ndomain = \"..\"\n"),
            "etheripd.conf:3: interface a: domain ..: no such domain");
}

TEST(ParseConfig, RefusesANameGivenTwice) {
  constexpr std::string_view kTwice = R"([[interface]]
name = "etherip0"

[[interface]]
up = true
name = "etherip0"
)";
  EXPECT_EQ(ErrorOf(kTwice),
            "etheripd.conf:6: interface etherip0: named twice (first on line "
            "2)");
  EXPECT_EQ(ErrorCodeOf(kTwice), EEXIST);
}

TEST(ParseConfig, RefusesATunnelGivenTwice) {
  constexpr std::string_view kTwice = R"([[interface]]
name = "a"
source = "192.0.2.1"
destination = "192.0.2.2"

[[interface]]
name = "b"
destination = "192.0.2.2"
source = "192.0.2.1"
)";
  EXPECT_EQ(ErrorOf(kTwice),
            "etheripd.conf:9: interface b: tunnel 192.0.2.1 -> 192.0.2.2: "
            "address not available (used by interface a on line 3)");
  EXPECT_EQ(ErrorCodeOf(kTwice), EADDRNOTAVAIL);
}

TEST(ParseConfig, ReportsTheFirstErrorInTheFile) {
  // toml++ iterates keys by name; the report must follow the file instead.
  EXPECT_EQ(ErrorOf(R"([[interface]]
name = "a"
zzz = 1
mtu = 1
aaa = 2
)"),
            "etheripd.conf:3: interface a: unknown key \"zzz\"");
  EXPECT_EQ(ErrorOf("zeta = 1\nallow = 2\nalpha = 3\n"),
            "etheripd.conf:1: unknown key \"zeta\"");
}

TEST(ParseConfig, UsesThePathItIsGiven) {
  auto config = ParseConfig("allow = 1\n", "/etc/etherip/etheripd.conf");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "/etc/etherip/etheripd.conf:1: allow: expected true or false");
}

std::vector<InterfaceView> SampleViews() {
  InterfaceView ipv4;
  ipv4.name = "etherip0";
  ipv4.settings.tunnel = *ParseTunnel("192.0.2.1", "192.0.2.2");
  ipv4.settings.up = true;
  ipv4.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:01");
  ipv4.running = true;
  ipv4.counters.ipackets = 5;  // counters are not configuration

  InterfaceView ipv6;
  ipv6.name = "etherip1";
  ipv6.settings.tunnel = *ParseTunnel("2001:db8::1", "2001:db8::2");
  ipv6.settings.domain = "underlay";
  ipv6.settings.mtu = 9000;
  ipv6.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:02");

  InterfaceView bare;
  bare.name = "\"odd\\name\xc3\xa9";
  bare.settings.domain = "ns \"quoted\"\t\x01\x7f";
  bare.settings.mtu = kMinMtu;
  bare.settings.lladdr = *ParseLladdr("02:00:00:00:00:01");
  bare.settings.header = HeaderMode::kAny;
  bare.settings.master = "br0";
  bare.settings.ttl = 1;
  bare.settings.df = true;
  bare.settings.tos = OuterTos::Inherit();
  bare.settings.fwmark = UINT32_MAX;
  return {ipv4, ipv6, bare};
}

TEST(RenderConfig, WritesTheSpecForm) {
  const auto views = SampleViews();
  EXPECT_EQ(RenderConfig({.allow = true}, std::span(views).first(2)),
            R"(# etheripd configuration, generated by `etherip showconf`:
# the state of the daemon when it was written.
allow = true

[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
mtu = 1500
lladdr = "fe:e1:ba:d0:00:01"
up = true

[[interface]]
name = "etherip1"
source = "2001:db8::1"
destination = "2001:db8::2"
domain = "underlay"
mtu = 9000
lladdr = "fe:e1:ba:d0:00:02"
up = false
)");
}

TEST(RenderConfig, WritesEoipAndAKeepaliveOtherThanTheDefault) {
  InterfaceView eoip;
  eoip.name = "eoip0";
  eoip.settings.tunnel = *ParseTunnel("2001:db8::1", "2001:db8::2");
  eoip.settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:01");
  eoip.settings.eoip = 0;
  InterfaceView quiet = eoip;
  quiet.name = "eoip1";
  quiet.settings.eoip = 1;
  quiet.settings.keepalive = 0;
  const std::vector<InterfaceView> views = {eoip, quiet};
  const std::string text = RenderConfig({}, views);
  EXPECT_THAT(text, HasSubstr("lladdr = \"fe:e1:ba:d0:00:01\"\neoip = 0\n"
                              "up = false\n"));
  EXPECT_THAT(text, HasSubstr("eoip = 1\nkeepalive = 0\nup = false\n"));
  auto config = ParseConfig(text, "showconf");
  ASSERT_TRUE(config) << config.error().message << "\n" << text;
  ASSERT_EQ(config->interfaces.size(), 2u);
  EXPECT_EQ(config->interfaces[0].settings, eoip.settings);
  EXPECT_EQ(config->interfaces[1].settings, quiet.settings);
  // A standard tunnel writes neither.
  EXPECT_EQ(RenderConfig({}, SampleViews()).find("eoip"), std::string::npos);
  EXPECT_EQ(RenderConfig({}, SampleViews()).find("keepalive"),
            std::string::npos);
}

TEST(RenderConfig, WritesNoInterfaces) {
  const std::string text = RenderConfig({}, {});
  EXPECT_THAT(text, HasSubstr("\nallow = false\n"));
  EXPECT_THAT(text, StartsWith("# "));
  EXPECT_EQ(text.find("[[interface]]"), std::string::npos);
}

TEST(RenderConfig, WritesSaveAndPersistOnlyWhenOn) {
  constexpr std::string_view kHeader =
      "# etheripd configuration, generated by `etherip showconf`:\n"
      "# the state of the daemon when it was written.\n";
  EXPECT_EQ(RenderConfig({}, {}), std::string(kHeader) + "allow = false\n");
  EXPECT_EQ(RenderConfig({.save = true}, {}),
            std::string(kHeader) + "allow = false\nsave = true\n");
  EXPECT_EQ(RenderConfig({.persist = true}, {}),
            std::string(kHeader) + "allow = false\npersist = true\n");
  EXPECT_EQ(
      RenderConfig({.allow = true, .save = true, .persist = true}, {}),
      std::string(kHeader) + "allow = true\nsave = true\npersist = true\n");
  // Before the interfaces: a top-level key after [[interface]] would be
  // the interface's.
  const auto views = SampleViews();
  const std::string text =
      RenderConfig({.save = true, .persist = true}, std::span(views).first(1));
  EXPECT_LT(text.find("persist = true\n"), text.find("[[interface]]"));
}

TEST(RenderConfig, WritesTheUserOnlyWhenSet) {
  const auto views = SampleViews();
  EXPECT_EQ(RenderConfig({}, views).find("user"), std::string::npos);
  const std::string text = RenderConfig({.user = "nobody"}, views);
  EXPECT_LT(text.find("user = \"nobody\"\n"), text.find("[[interface]]"));
  auto config = ParseConfig(text, "showconf");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->globals(), (GlobalSettings{.user = "nobody"}));
}

TEST(RenderConfig, ParsesBackToTheSameState) {
  // Includes a name with a quote, a backslash and UTF-8, and a domain with
  // white space and control characters: all must survive byte for byte.
  const auto views = SampleViews();
  for (int bits = 0; bits < 16; ++bits) {
    const GlobalSettings globals{.allow = (bits & 1) != 0,
                                 .save = (bits & 2) != 0,
                                 .persist = (bits & 4) != 0,
                                 .disable_ipv6 = (bits & 8) != 0};
    const std::string text = RenderConfig(globals, views);
    auto config = ParseConfig(text, "showconf");
    ASSERT_TRUE(config) << config.error().message << "\n" << text;
    EXPECT_EQ(config->globals(), globals);
    ASSERT_EQ(config->interfaces.size(), views.size());
    for (size_t i = 0; i < views.size(); ++i) {
      EXPECT_EQ(config->interfaces[i].name, views[i].name);
      EXPECT_EQ(config->interfaces[i].settings, views[i].settings);
      EXPECT_TRUE(config->interfaces[i].has_lladdr);
    }
    const int shift = (globals.save ? 1 : 0) + (globals.persist ? 1 : 0) +
                      (globals.disable_ipv6 ? 1 : 0);
    EXPECT_EQ(config->lines,
              (std::vector<int>{5 + shift, 13 + shift, 22 + shift}));
  }
}

TEST(ParseConfig, ReadsHostNamesAndZonesAsGiven) {
  const Config config = ParseOk(R"(
[[interface]]
name = "named"
source = "192.0.2.1"
destination = "Peer.Example"

[[interface]]
name = "zoned"
source = "fe80::a%veth0"
destination = "FE80::B%veth0"

[[interface]]
name = "same-name"
source = "192.0.2.1"
destination = "Peer.Example"
)");
  ASSERT_EQ(config.interfaces.size(), 3u);
  EXPECT_EQ(config.interfaces[0].settings.tunnel->destination.host,
            "Peer.Example");
  EXPECT_EQ(config.interfaces[1].settings.tunnel->ToString(),
            "fe80::a%veth0 -> fe80::b%veth0");
  // Names are not looked up here: two interfaces may name the same peer
  // (the daemon lets the first to resolve have it).
  EXPECT_EQ(config.interfaces[2].settings.tunnel,
            config.interfaces[0].settings.tunnel);
}

TEST(ParseConfig, RefusesLiteralsThatDifferOnlyInTheirZones) {
  EXPECT_EQ(ErrorOf(R"([[interface]]
name = "a"
source = "fe80::a%veth0"
destination = "fe80::b"

[[interface]]
name = "b"
source = "fe80::a%veth1"
destination = "fe80::b"
)"),
            "etheripd.conf:8: interface b: tunnel fe80::a%veth1 -> fe80::b: "
            "address not available (used by interface a on line 3)");
}

TEST(ParseConfig, ReadsTheResolveInterval) {
  EXPECT_EQ(ParseOk("").resolve_interval, 60u);
  EXPECT_EQ(ParseOk("resolve_interval = 0\n").resolve_interval, 0u);
  EXPECT_EQ(ParseOk("resolve_interval = 86400\n").globals().resolve_interval,
            86400u);
  for (const char* bad :
       {"resolve_interval = -1\n", "resolve_interval = 86401\n",
        "resolve_interval = \"60\"\n", "resolve_interval = 1.5\n"}) {
    EXPECT_EQ(ErrorOf(bad),
              "etheripd.conf:1: resolve_interval: expected seconds, 0 to "
              "86400")
        << bad;
  }
}

TEST(RenderConfig, WritesNamesZonesAndTheIntervalSoTheyParseBack) {
  std::vector<InterfaceView> views(2);
  views[0].name = "named";
  views[0].settings.tunnel = *ParseTunnel("peer.test", "Other.Example.");
  views[0].settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:01");
  // What the name resolved to is state, not configuration.
  views[0].addresses =
      Tunnel{*IpAddress::Parse("192.0.2.1"), *IpAddress::Parse("192.0.2.2")};
  views[0].unresolved = "";
  views[1].name = "zoned";
  views[1].settings.tunnel = *ParseTunnel("fe80::a%veth0", "fe80::b");
  views[1].settings.lladdr = *ParseLladdr("fe:e1:ba:d0:00:02");
  const GlobalSettings globals{.resolve_interval = 5};
  const std::string text = RenderConfig(globals, views);
  EXPECT_THAT(text, HasSubstr("resolve_interval = 5\n"));
  EXPECT_THAT(text, HasSubstr("source = \"peer.test\"\n"
                              "destination = \"Other.Example.\"\n"));
  EXPECT_THAT(text, HasSubstr("source = \"fe80::a%veth0\"\n"
                              "destination = \"fe80::b\"\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("192.0.2")));
  auto config = ParseConfig(text, "showconf");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->globals(), globals);
  ASSERT_EQ(config->interfaces.size(), 2u);
  EXPECT_EQ(config->interfaces[0].settings, views[0].settings);
  EXPECT_EQ(config->interfaces[1].settings, views[1].settings);
  // The default interval is not written.
  EXPECT_THAT(RenderConfig({}, views),
              ::testing::Not(HasSubstr("resolve_interval")));
}

TEST(LoadConfig, ReadsAFile) {
  testing::TempDir dir;
  const std::string path = dir.File("etheripd.conf");
  std::ofstream(path) << kSpecExample;
  auto config = LoadConfig(path);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->interfaces.size(), 1u);

  std::ofstream(path) << "allow = yes\n";
  config = LoadConfig(path);
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message, StartsWith(path + ":1: "));
}

TEST(LoadConfig, ReportsAMissingFileAsEnoent) {
  testing::TempDir dir;
  const std::string path = dir.File("missing.conf");
  auto config = LoadConfig(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ENOENT);
  EXPECT_EQ(config.error().message, path + ": no such file or directory");
}

TEST(LoadConfig, RefusesADirectory) {
  testing::TempDir dir;
  auto config = LoadConfig(dir.path());
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, EISDIR);
  EXPECT_THAT(config.error().message, StartsWith(dir.path() + ": "));
}

TEST(LoadConfig, RefusesAnythingButARegularFileWithoutBlocking) {
  testing::TempDir dir;
  const std::string fifo = dir.File("fifo.conf");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // A FIFO nobody writes to: reading it would block forever.
  auto config = LoadConfig(fifo);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, EINVAL);
  EXPECT_EQ(config.error().message, fifo + ": not a regular file (a FIFO)");

  config = LoadConfig("/dev/null");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "/dev/null: not a regular file (a character device)");

  // Through a symbolic link: what it points to decides.
  const std::string to_fifo = dir.File("to-fifo.conf");
  ASSERT_EQ(symlink(fifo.c_str(), to_fifo.c_str()), 0);
  config = LoadConfig(to_fifo);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, EINVAL);
  const std::string file = dir.File("etheripd.conf");
  std::ofstream(file) << kSpecExample;
  const std::string to_file = dir.File("link.conf");
  ASSERT_EQ(symlink(file.c_str(), to_file.c_str()), 0);
  config = LoadConfig(to_file);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->interfaces.size(), 1u);
}

}  // namespace
}  // namespace etherip::control

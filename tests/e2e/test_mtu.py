"""End to end: `mtu auto` (SPEC 8): the route's MTU less the encapsulation,
followed as routes and links change; and jumbo frames over a 1500-byte
underlay, whose outer packets the kernel fragments and the peer's kernel
reassembles."""

import os
import unittest

from netlab import Capture, Lab, TwoSites, is_root, run, stop_process, \
    wait_until

# Outer IPv4 20 (IPv6 40) + EtherIP 2 + inner Ethernet 14.
OVERHEAD_V4 = 36
OVERHEAD_V6 = 56

AUTO = """allow = true

[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
mtu = "auto"
up = true

[[interface]]
name = "etherip1"
source = "2001:db8::1"
destination = "2001:db8::2"
mtu = "auto"
up = true
"""

# Generous: the daemon follows a change within ~0.1 s; timing never
# decides the verdict.
FOLLOW_TIMEOUT = 10


def link_mtu(ns, name):
    return int(run("cat", f"/sys/class/net/{name}/mtu", ns=ns).stdout)


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class AutoMtuTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def _underlay(self):
        """Namespace a (the daemon's) and b, joined by a veth pair with
        192.0.2.1/24 and 2001:db8::1/64 on a's end (self.ua)."""
        lab = self.lab
        self.a, self.b = lab.netns("a"), lab.netns("b")
        self.ua, self.ub = lab.name("ua"), lab.name("ub")
        lab.veth(self.a, self.ua, self.b, self.ub)
        lab.addr(self.a, self.ua, "192.0.2.1/24")
        lab.addr(self.a, self.ua, "2001:db8::1/64")
        lab.addr(self.b, self.ub, "192.0.2.2/24")
        lab.addr(self.b, self.ub, "2001:db8::2/64")

    def _mtus(self, daemon):
        return {i["name"]: (i["mtu"], i["mtu_auto"]) for i in daemon.show()}

    def _follows(self, daemon, expected):
        """Waits until show says `expected` ({name: mtu}, all automatic)
        and the kernel's links agree."""
        want = {name: (mtu, True) for name, mtu in expected.items()}

        def done():
            shown = self._mtus(daemon)
            return all(shown.get(n) == w for n, w in want.items()) and all(
                link_mtu(daemon.ns, n) == m for n, m in expected.items())
        self.assertTrue(wait_until(done, FOLLOW_TIMEOUT),
                        f"want {want}, have {self._mtus(daemon)}\n"
                        + daemon.read_log()[-3000:])

    def test_auto_is_the_route_mtu_less_the_headers_and_follows_it(self):
        self._underlay()
        daemon = self.lab.daemon(self.a, AUTO)
        daemon.start()
        self._follows(daemon, {"etherip0": 1500 - OVERHEAD_V4,
                               "etherip1": 1500 - OVERHEAD_V6})
        self.assertEqual(1464, 1500 - OVERHEAD_V4)
        shown = daemon.cli("show", "etherip0").stdout
        self.assertIn(" mtu 1464 (auto)\n", shown)
        conf = daemon.cli("showconf").stdout
        self.assertEqual(conf.count('mtu = "auto"'), 2, conf)
        self.assertNotIn("1464", conf)

        # The underlay link's MTU.
        run("ip", "link", "set", self.ua, "mtu", 1400, ns=self.a)
        self._follows(daemon, {"etherip0": 1400 - OVERHEAD_V4,
                               "etherip1": 1400 - OVERHEAD_V6})
        # A route of its own MTU, for one family.
        run("ip", "route", "add", "192.0.2.2/32", "dev", self.ua, "mtu",
            "lock", 1300, ns=self.a)
        self._follows(daemon, {"etherip0": 1300 - OVERHEAD_V4,
                               "etherip1": 1400 - OVERHEAD_V6})
        run("ip", "-6", "route", "add", "2001:db8::2/128", "dev", self.ua,
            "mtu", 1280, ns=self.a)
        self._follows(daemon, {"etherip0": 1300 - OVERHEAD_V4,
                               "etherip1": 1280 - OVERHEAD_V6})
        run("ip", "route", "del", "192.0.2.2/32", ns=self.a)
        self._follows(daemon, {"etherip0": 1400 - OVERHEAD_V4,
                               "etherip1": 1280 - OVERHEAD_V6})

        # An MTU set with `ip link` on an automatic one is set back.
        run("ip", "link", "set", "etherip0", "mtu", 1000, ns=self.a)
        self._follows(daemon, {"etherip0": 1400 - OVERHEAD_V4})

        # `mtu N` turns it off: no longer followed.
        daemon.cli("set", "etherip0", "mtu", 1200)
        self.assertEqual(self._mtus(daemon)["etherip0"], (1200, False))
        run("ip", "link", "set", self.ua, "mtu", 1500, ns=self.a)
        self._follows(daemon, {"etherip1": 1280 - OVERHEAD_V6})
        run("ip", "-6", "route", "del", "2001:db8::2/128", ns=self.a)
        self._follows(daemon, {"etherip1": 1500 - OVERHEAD_V6})
        self.assertEqual(self._mtus(daemon)["etherip0"], (1200, False))
        self.assertEqual(link_mtu(self.a, "etherip0"), 1200)
        # `mtu auto` turns it on again.
        daemon.cli("set", "etherip0", "mtu", "auto")
        self._follows(daemon, {"etherip0": 1500 - OVERHEAD_V4})

        # A reload of the unchanged file leaves the followed values.
        run("ip", "link", "set", self.ua, "mtu", 1450, ns=self.a)
        self._follows(daemon, {"etherip0": 1450 - OVERHEAD_V4,
                               "etherip1": 1450 - OVERHEAD_V6})
        daemon.cli("reload")
        self.assertEqual(self._mtus(daemon),
                         {"etherip0": (1450 - OVERHEAD_V4, True),
                          "etherip1": (1450 - OVERHEAD_V6, True)})
        reloads = [line for line in daemon.read_log().splitlines()
                   if " reloaded " in line]
        self.assertIn("0 created, 0 changed, 0 destroyed", reloads[-1])

    def test_auto_follows_the_routes_of_the_tunnels_domain(self):
        lab = self.lab
        d, u, p = lab.netns("d"), lab.netns("u"), lab.netns("p")
        uu, pu = lab.name("uu"), lab.name("pu")
        lab.veth(u, uu, p, pu)
        lab.addr(u, uu, "192.0.2.1/24")
        lab.addr(p, pu, "192.0.2.2/24")
        run("ip", "link", "set", uu, "mtu", 9000, ns=u)
        daemon = lab.daemon(d, "allow = true\n")
        daemon.start()
        daemon.cli("create", "etherip0", "domain", u, "tunnel", "192.0.2.1",
                   "192.0.2.2", "mtu", "auto", "up")
        self._follows(daemon, {"etherip0": 9000 - OVERHEAD_V4})
        # The daemon's own namespace has no route there: only the
        # domain's counts.
        run("ip", "link", "set", uu, "mtu", 4000, ns=u)
        self._follows(daemon, {"etherip0": 4000 - OVERHEAD_V4})

    def test_no_route_keeps_the_default(self):
        self._underlay()
        daemon = self.lab.daemon(self.a, "allow = true\n")
        daemon.start()
        daemon.cli("create", "etherip0", "tunnel", "192.0.2.1",
                   "203.0.113.9", "mtu", "auto")
        self.assertEqual(self._mtus(daemon)["etherip0"], (1500, True))
        # A route appears: followed.
        run("ip", "route", "add", "203.0.113.0/24", "dev", self.ua, "mtu",
            1400, ns=self.a)
        self._follows(daemon, {"etherip0": 1400 - OVERHEAD_V4})
        # And goes: the last value stays.
        run("ip", "route", "del", "203.0.113.0/24", ns=self.a)
        daemon.cli("set", "etherip0", "up")
        self.assertEqual(self._mtus(daemon)["etherip0"],
                         (1400 - OVERHEAD_V4, True))


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class JumboTest(unittest.TestCase):
    """Tunnel MTU 9000 over a 1500 underlay with DF clear: an 8000-byte
    ping is not fragmented inside (-M do), its outer packet is."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def _jumbo_ping(self, ipv6):
        sites = TwoSites(self.lab, ipv6=ipv6, mtu=9000)
        for daemon in (sites.daemon_a, sites.daemon_b):
            self.assertEqual(daemon.show("etherip0")[0]["mtu"], 9000)
        self.assertEqual(link_mtu(sites.router_a, sites.underlay_a), 1500)
        self.assertTrue(sites.wait_for_ping())
        pcap = os.path.join(self.lab.tmp, "underlay.pcap")
        capture = Capture(sites.router_b, sites.underlay_b,
                          "ip6" if ipv6 else "ip proto 97", pcap,
                          snaplen=128)
        self.addCleanup(stop_process, capture.process)
        received = sites.daemon_b.show("etherip0")[0]["counters"]["ipackets"]
        run("ping", "-c", 3, "-i", "0.2", "-W", 2, "-s", 8000, "-M", "do",
            "198.51.100.2", ns=sites.host_a)
        capture.stop()
        # Each 8042-byte inner frame crossed as one outer packet, in
        # fragments the peer's kernel put together again.
        after = sites.daemon_b.show("etherip0")[0]["counters"]
        self.assertGreaterEqual(after["ipackets"] - received, 3)
        if ipv6:
            query = "ipv6.fraghdr && ipv6.fraghdr.nxt == 97"
            fields = ["-e", "ipv6.fraghdr.offset"]
        else:
            query = "ip.proto == 97 && (ip.flags.mf == 1 || ip.frag_offset > 0)"
            fields = ["-e", "ip.frag_offset"]
        fragments = run("tshark", "-n", "-r", pcap, "-o",
                        "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
                        "-Y", query, "-T", "fields", *fields,
                        # The outer header's: a first fragment holds the
                        # inner packet's header too.
                        "-E", "occurrence=f", timeout=120).stdout.split()
        # 8000 + 8 ICMP + 20 IP + 14 Ethernet + 2 EtherIP: 6 fragments of
        # 1500 each way, at least.
        self.assertGreaterEqual(len(fragments), 2 * 3 * 6, fragments)
        self.assertIn("0", fragments)  # first fragments...
        self.assertTrue(any(f != "0" for f in fragments))  # ...and the rest
        counter = ("Ip6", "ReasmOKs") if ipv6 else ("Ip", "ReasmOKs")
        self.assertGreaterEqual(snmp(sites.router_b, *counter), 3)

    def test_8000_byte_ping_over_mtu_9000_with_ipv4_fragments(self):
        self._jumbo_ping(ipv6=False)

    def test_8000_byte_ping_over_mtu_9000_with_ipv6_fragments(self):
        self._jumbo_ping(ipv6=True)


def snmp(ns, section, counter):
    """A counter of /proc/net/snmp (Ip) or /proc/net/snmp6 (Ip6) in `ns`."""
    if section == "Ip6":
        for line in run("cat", "/proc/net/snmp6", ns=ns).stdout.splitlines():
            name, value = line.split()
            if name == section + counter:
                return int(value)
        raise AssertionError(f"no {section}{counter}")
    lines = [line.split() for line in
             run("cat", "/proc/net/snmp", ns=ns).stdout.splitlines()
             if line.startswith(section + ":")]
    names, values = lines[0], lines[1]
    return int(values[names.index(counter)])


if __name__ == "__main__":
    unittest.main()

"""End to end: outer header options and loop protection (SPEC 8, "Outer
header options"; SPEC 4 and 5, loopdrops).

Captures on the underlay show the TTL (hop limit), DF and TOS (traffic
class) that `ttl`, `df` and `tos` ask for, over IPv4 and IPv6 underlays,
with `tos inherit` copying the DSCP of inner IPv4 and IPv6 packets, VLAN-
tagged ones included; an nftables rule in the router's namespace counts the
outer packets that carry the `fwmark`. A tunnel whose underlay route points
into itself (directly, or through a second etherip interface whose own
underlay points back) counts loopdrops instead of melting down, and the
daemon keeps answering."""

import json
import os
import time
import unittest

from netlab import Capture, Lab, TwoSites, is_root, run, wait_until

SCAPY = "/usr/bin/python3"

# One JSON object per EtherIP packet (or fragment) in a capture: the outer
# header's fields and, when the packet holds the start of an EtherIP
# payload, what the inner frame carries.
DESCRIBE = r"""
import json, sys
from scapy.all import (ARP, IP, IPv6, Dot1Q, Ether, IPv6ExtHdrFragment,
                       rdpcap)

def inner(payload):
    if len(payload) < 16:
        return {}
    frame = Ether(payload[2:])
    info = {"vlan": Dot1Q in frame}
    if IP in frame:
        info.update(inner="ipv4", inner_tos=frame[IP].tos,
                    inner_proto=frame[IP].proto)
    elif IPv6 in frame:
        info.update(inner="ipv6", inner_tos=frame[IPv6].tc,
                    inner_proto=frame[IPv6].nh)
    elif ARP in frame:
        info.update(inner="arp")
    return info

for packet in rdpcap(sys.argv[1]):
    if IP in packet and packet[IP].proto == 97:
        ip = packet[IP]
        record = {"family": 4, "src": ip.src, "dst": ip.dst, "ttl": ip.ttl,
                  "tos": ip.tos, "df": bool(ip.flags.DF),
                  "fragment": bool(ip.flags.MF) or ip.frag != 0}
        if ip.frag == 0:
            record.update(inner(bytes(ip.payload)))
    elif IPv6 in packet and (packet[IPv6].nh == 97 or
                             IPv6ExtHdrFragment in packet):
        ip = packet[IPv6]
        fragment = IPv6ExtHdrFragment in packet
        if fragment and packet[IPv6ExtHdrFragment].nh != 97:
            continue
        record = {"family": 6, "src": ip.src, "dst": ip.dst, "ttl": ip.hlim,
                  "tos": ip.tc, "df": False, "fragment": fragment}
        if not fragment:
            record.update(inner(bytes(ip.payload)))
        elif packet[IPv6ExtHdrFragment].offset == 0:
            record.update(inner(bytes(packet[IPv6ExtHdrFragment].payload)))
    else:
        continue
    print(json.dumps(record))
"""


# Frames host A puts on its link (argv[1]): IPv6 with traffic class 0x48
# and, tagged with 802.1Q (VLAN 5) and with 802.1ad + 802.1Q (5, 6), IPv4
# with TOS 0x29 and IPv6 with traffic class 0x89.
TAGGED = r"""
import sys
from scapy.all import (Dot1AD, Dot1Q, Ether, ICMP, ICMPv6EchoRequest, IP,
                       IPv6, conf, sendp)
conf.verb = 0
to_b = Ether(src="02:00:00:00:0a:01", dst="02:00:00:00:0b:01")
ipv4 = IP(src="203.0.113.1", dst="203.0.113.2", tos=0x29) / ICMP()
ipv6 = IPv6(src="2001:db8:6::1", dst="2001:db8:6::2", tc=0x89) / \
    ICMPv6EchoRequest()
frames = [
    to_b / IPv6(src="2001:db8:5::1", dst="2001:db8:5::2", tc=0x48) /
    ICMPv6EchoRequest(),
    to_b / Dot1Q(vlan=5) / ipv4,
    to_b / Dot1AD(vlan=6) / Dot1Q(vlan=5) / ipv4,
    to_b / Dot1Q(vlan=5) / ipv6,
    to_b / Dot1AD(vlan=6) / Dot1Q(vlan=5) / ipv6,
]
sendp(frames, iface=sys.argv[1])
"""


def describe(pcap):
    out = run(SCAPY, "-c", DESCRIBE, pcap).stdout
    return [json.loads(line) for line in out.splitlines() if line]


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class OuterOptionsTest(unittest.TestCase):
    """Host A pings host B across the tunnel; router A's outer packets are
    captured on router B's end of the underlay."""

    def sites(self, ipv6):
        lab = Lab()
        self.addCleanup(lab.close)
        self.lab = lab
        sites = TwoSites(lab, ipv6=ipv6)
        self.assertTrue(sites.wait_for_ping(), sites.daemon_a.read_log())
        self.peer_address = "2001:db8::2" if ipv6 else "192.0.2.2"
        self.local_address = "2001:db8::1" if ipv6 else "192.0.2.1"
        return sites

    def capture(self, sites, action, name):
        """Runs action() while capturing EtherIP on router B's underlay
        link; returns router A's packets, described."""
        pcap = os.path.join(self.lab.tmp, f"{name}.pcap")
        family = "ip6" if sites.ipv6 else "ip"
        capture = Capture(sites.router_b, sites.underlay_b,
                          f"{family} src {self.local_address}", pcap)
        try:
            action()
        finally:
            capture.stop()
            capture.process.stderr.close()
        packets = describe(pcap)
        self.assertTrue(packets, f"{name}: nothing captured")
        return packets

    def ping(self, sites, *args, target="198.51.100.2", count=3):
        run("ping", "-c", count, "-i", "0.2", "-W", "2", *args, target,
            ns=sites.host_a)

    def check_ttl_df_tos(self, ipv6):
        sites = self.sites(ipv6)
        a = sites.daemon_a
        # The defaults first: SPEC 1.
        default_tos = 0 if ipv6 else 0x10
        packets = self.capture(sites, lambda: self.ping(sites), "defaults")
        for packet in packets:
            self.assertEqual(
                (packet["ttl"], packet["tos"], packet["df"]),
                (64, default_tos, False), packet)

        a.cli("set", "etherip0", "ttl", "9", "df", "tos", "0xb8")
        shown = a.show("etherip0")[0]
        self.assertEqual((shown["ttl"], shown["df"], shown["tos"]),
                         (9, True, 0xb8))
        self.assertIn(" ttl 9 df tos 0xb8\n", a.cli("show").stdout)
        conf = a.cli("showconf").stdout
        self.assertIn("\nttl = 9\ndf = true\ntos = 184\n", conf)
        packets = self.capture(sites, lambda: self.ping(sites), "options")
        for packet in packets:
            self.assertEqual((packet["ttl"], packet["tos"]), (9, 0xb8),
                             packet)
            if not ipv6:
                self.assertTrue(packet["df"], packet)
            self.assertFalse(packet["fragment"], packet)
        # Back to the defaults: nothing left in show or showconf.
        a.cli("set", "etherip0", "ttl", "64", "-df", "-tos")
        self.assertNotIn(" ttl ", a.cli("show").stdout)
        conf = a.cli("showconf").stdout
        for key in ("ttl", "df", "tos", "fwmark"):
            self.assertNotIn(f"\n{key} =", conf)

    def test_ttl_df_tos_over_ipv4(self):
        self.check_ttl_df_tos(ipv6=False)

    def test_ttl_df_tos_over_ipv6(self):
        self.check_ttl_df_tos(ipv6=True)

    def check_df_never_fragments(self, ipv6):
        # A full-size inner frame makes an outer packet larger than the
        # underlay's MTU (1500): fragmented without df, refused with it
        # (oerrors), while the frames that fit still go.
        sites = self.sites(ipv6)
        a = sites.daemon_a
        big = ("-s", "1472", "-M", "dont")
        packets = self.capture(sites, lambda: self.ping(sites, *big),
                               "fragmented")
        self.assertTrue(any(p["fragment"] for p in packets), packets)
        a.cli("set", "etherip0", "df")
        before = a.show("etherip0")[0]["counters"]
        result = {}

        def pings():
            result["big"] = run("ping", "-c", 3, "-i", "0.2", "-W", "1", *big,
                                "198.51.100.2", ns=sites.host_a, check=False)
            self.ping(sites)  # small ones still pass

        packets = self.capture(sites, pings, "df")
        self.assertNotEqual(result["big"].returncode, 0)
        self.assertFalse(any(p["fragment"] for p in packets), packets)
        after = a.show("etherip0")[0]["counters"]
        self.assertGreaterEqual(after["oerrors"] - before["oerrors"], 3)

    def test_df_never_fragments_over_ipv4(self):
        self.check_df_never_fragments(ipv6=False)

    def test_df_never_fragments_over_ipv6(self):
        self.check_df_never_fragments(ipv6=True)

    def check_tos_inherit(self, ipv6):
        sites = self.sites(ipv6)
        a = sites.daemon_a
        a.cli("set", "etherip0", "tos", "inherit")
        self.assertEqual(a.show("etherip0")[0]["tos"], "inherit")
        self.assertIn(" tos inherit\n", a.cli("show").stdout)
        self.assertIn('\ntos = "inherit"\n', a.cli("showconf").stdout)
        host_link = self.lab.name("ha")

        def send():
            # ping -Q sets the TOS of the echo requests; the low two bits
            # are ECN, which the outer header does not take (RFC 6040
            # compatibility mode).
            self.ping(sites, "-Q", "0xb9")
            # IPv6, and both families behind 802.1Q and 802.1ad tags:
            # frames host A sends onto its link, which its router's bridge
            # carries into the tunnel (there is no 8021q module to make
            # VLAN links with on every kernel).
            run(SCAPY, "-c", TAGGED, host_link, ns=sites.host_a)

        packets = self.capture(sites, send, "inherit")
        # (tagged, inner family) -> the outer TOS expected.
        expected = {(False, "ipv4"): 0xb8, (True, "ipv4"): 0x28,
                    (False, "ipv6"): 0x48, (True, "ipv6"): 0x88}
        seen = {}
        default_tos = 0 if ipv6 else 0x10
        for packet in packets:
            kind = packet.get("inner")
            if kind == "arp":
                self.assertEqual(packet["tos"], default_tos, packet)
            elif kind:
                # Every IP frame, whatever the host's stack sent besides.
                self.assertEqual(packet["tos"], packet["inner_tos"] & 0xfc,
                                 packet)
                key = (packet["vlan"], kind)
                if packet["tos"] == expected.get(key):
                    seen[key] = seen.get(key, 0) + 1
        self.assertEqual(set(seen), set(expected), packets)
        # The tagged ones: one 802.1Q and one 802.1ad+802.1Q frame each.
        self.assertEqual(seen[(True, "ipv4")], 2)
        self.assertEqual(seen[(True, "ipv6")], 2)

    def test_tos_inherit_over_ipv4(self):
        self.check_tos_inherit(ipv6=False)

    def test_tos_inherit_over_ipv6(self):
        self.check_tos_inherit(ipv6=True)

    def check_fwmark(self, ipv6):
        sites = self.sites(ipv6)
        a = sites.daemon_a
        family = "ip6" if ipv6 else "ip"
        protocol = "nexthdr" if ipv6 else "protocol"
        run("nft", "add", "table", "inet", "eiptest", ns=sites.router_a)
        run("nft", "add", "chain", "inet", "eiptest", "out",
            "{ type filter hook output priority 0; }", ns=sites.router_a)
        for mark in ("0x2a", "0x0"):
            run("nft", "add", "rule", "inet", "eiptest", "out", family,
                protocol, "97", "meta", "mark", mark, "counter",
                ns=sites.router_a)

        def counted():
            ruleset = json.loads(run("nft", "-j", "list", "table", "inet",
                                     "eiptest", ns=sites.router_a).stdout)
            counts = {}
            for item in ruleset["nftables"]:
                rule = item.get("rule")
                if not rule:
                    continue
                mark = next(e["match"]["right"] for e in rule["expr"]
                            if "match" in e and
                            e["match"]["left"] == {"meta": {"key": "mark"}})
                counter = next(e["counter"] for e in rule["expr"]
                               if "counter" in e)
                counts[mark] = counter["packets"]
            return counts

        self.ping(sites)
        self.assertGreaterEqual(counted()[0], 3)
        self.assertEqual(counted()[42], 0)
        a.cli("set", "etherip0", "fwmark", "42")
        self.assertEqual(a.show("etherip0")[0]["fwmark"], 42)
        self.assertIn(" fwmark 0x2a\n", a.cli("show").stdout)
        self.assertIn("\nfwmark = 42\n", a.cli("showconf").stdout)
        unmarked = counted()[0]
        self.ping(sites)
        self.assertGreaterEqual(counted()[42], 3)
        self.assertEqual(counted()[0], unmarked)
        # Policy routing sees it: a rule that prohibits mark 42 stops the
        # tunnel (oerrors), and clearing the mark lets it through again.
        run("ip", "-6" if ipv6 else "-4", "rule", "add", "fwmark", "42",
            "prohibit", ns=sites.router_a)
        before = a.show("etherip0")[0]["counters"]["oerrors"]
        result = run("ping", "-c", 2, "-i", "0.2", "-W", "1", "198.51.100.2",
                     ns=sites.host_a, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertGreater(a.show("etherip0")[0]["counters"]["oerrors"],
                           before)
        a.cli("set", "etherip0", "-fwmark")
        self.assertEqual(a.show("etherip0")[0]["fwmark"], 0)
        self.ping(sites)

    def test_fwmark_over_ipv4(self):
        self.check_fwmark(ipv6=False)

    def test_fwmark_over_ipv6(self):
        self.check_fwmark(ipv6=True)


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class LoopTest(unittest.TestCase):
    """A router whose etherip interfaces' underlay is routed through
    etherip interfaces: without protection every outer packet would come
    back to the daemon as a frame to send, for ever, growing (and, once too
    large, fragmenting into more) at every turn."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.router = self.lab.netns("r")
        self.peer = self.lab.netns("p")
        self.link = self.lab.name("vr")
        self.peer_link = self.lab.name("vp")
        self.lab.veth(self.router, self.link, self.peer, self.peer_link)
        for address in ("192.0.2.1/24", "198.51.100.1/24",
                        "2001:db8::1/64"):
            self.lab.addr(self.router, self.link, address)
        for address in ("192.0.2.2/24", "198.51.100.2/24",
                        "2001:db8::2/64"):
            self.lab.addr(self.peer, self.peer_link, address)
        # No IPv6 on the etherip interfaces: only the test's frames cross
        # them (no router solicitations or MLD reports at odd moments).
        self.daemon = self.lab.daemon(self.router,
                                      "allow = true\ndisable_ipv6 = true\n")
        self.daemon.start()

    def tunnel(self, name, source, destination, inner):
        self.daemon.cli("create", name, "tunnel", source, destination, "up")
        run("ip", "addr", "add", inner, "dev", name, ns=self.router)

    def route_into(self, destination, interface):
        """Routes `destination` (an underlay address) through etherip
        interface `interface`, with a neighbour entry so that no ARP or ND
        stands in the way."""
        if ":" in destination:
            # IPv6 on the interface, but without addresses: nothing of its
            # own (DAD, router solicitations, MLD) crosses it.
            for setting in ("addr_gen_mode=1", "disable_ipv6=0"):
                run("sysctl", "-qw", f"net.ipv6.conf.{interface}.{setting}",
                    ns=self.router)
        run("ip", "route", "replace", destination, "dev", interface,
            ns=self.router)
        run("ip", "neigh", "replace", destination, "lladdr",
            "02:00:00:00:00:99", "dev", interface, "nud", "permanent",
            ns=self.router)

    def traffic(self, target, interface):
        """20 pings to `target` through `interface`, which never get an
        answer: with a neighbour entry for the target, each echo request
        is one frame the interface sends (no ARP before it)."""
        run("ip", "neigh", "replace", target, "lladdr", "02:00:00:00:00:98",
            "dev", interface, "nud", "permanent", ns=self.router)
        run("ping", "-c", 20, "-i", "0.05", "-W", "1", target,
            ns=self.router, check=False)

    def assert_calm(self, interface):
        """The daemon answers, and nothing keeps circulating: the counters
        stand still once the traffic stopped. (The time limit is generous,
        as in the soak test: only a daemon that is stuck fails it, not a
        busy machine.)"""
        start = time.monotonic()
        self.daemon.cli("show")
        self.assertLess(time.monotonic() - start, 10.0, "show was stuck")
        first = self.daemon.show(interface)[0]["counters"]
        time.sleep(1.0)
        again = self.daemon.show(interface)[0]["counters"]
        self.assertEqual(first, again)

    def underlay_packets(self, action, name):
        pcap = os.path.join(self.lab.tmp, f"{name}.pcap")
        capture = Capture(self.peer, self.peer_link, "ip proto 97 or "
                          "ip6 proto 97", pcap)
        try:
            action()
        finally:
            capture.stop()
            capture.process.stderr.close()
        return describe(pcap)

    def check_direct(self, source, destination, inner, target):
        self.tunnel("etherip0", source, destination, inner)
        self.route_into(destination, "etherip0")
        packets = self.underlay_packets(
            lambda: self.traffic(target, "etherip0"), "direct")
        self.assertTrue(wait_until(
            lambda: self.daemon.stats()["loopdrops"] >= 20),
            self.daemon.stats())
        shown = self.daemon.show("etherip0")[0]["counters"]
        self.assertEqual(shown["loopdrops"], 20)
        self.assertEqual(shown["loopdrops"], self.daemon.stats()["loopdrops"])
        # Each frame went once into the tunnel and died there.
        self.assertEqual(shown["opackets"], shown["loopdrops"])
        self.assertEqual(packets, [])  # nothing leaked to the underlay
        self.assertIn(f"loopdrops {shown['loopdrops']}\n",
                      self.daemon.cli("show", "etherip0").stdout)
        self.assertIn(f"\nloopdrops {shown['loopdrops']}\n",
                      self.daemon.cli("stats").stdout)
        self.assert_calm("etherip0")

    def test_underlay_routed_into_the_tunnel_itself(self):
        self.check_direct("192.0.2.1", "192.0.2.2", "203.0.113.1/24",
                          "203.0.113.2")

    def test_ipv6_underlay_routed_into_the_tunnel_itself(self):
        self.check_direct("2001:db8::1", "2001:db8::2", "203.0.113.1/24",
                          "203.0.113.2")

    def test_two_tunnels_routed_through_each_other(self):
        # etherip0's underlay goes through etherip1, and etherip1's through
        # etherip0: etherip0 reads etherip1's packets, which carry its own.
        self.tunnel("etherip0", "192.0.2.1", "192.0.2.2", "203.0.113.1/28")
        self.tunnel("etherip1", "198.51.100.1", "198.51.100.2",
                    "203.0.113.17/28")
        self.route_into("192.0.2.2", "etherip1")
        self.route_into("198.51.100.2", "etherip0")
        packets = self.underlay_packets(
            lambda: self.traffic("203.0.113.2", "etherip0"), "indirect")
        self.assertTrue(wait_until(
            lambda: self.daemon.stats()["loopdrops"] >= 20),
            self.daemon.stats())
        x = self.daemon.show("etherip0")[0]["counters"]
        y = self.daemon.show("etherip1")[0]["counters"]
        # etherip1 carried etherip0's packets once each; they came back to
        # etherip0 inside etherip1's and stopped there.
        self.assertEqual(x["loopdrops"], 20)
        self.assertEqual(y["loopdrops"], 0)
        self.assertEqual(y["opackets"], x["opackets"])
        self.assertEqual(x["loopdrops"], x["opackets"])
        self.assertEqual(packets, [])
        self.assert_calm("etherip0")
        self.assert_calm("etherip1")

    def test_other_tunnels_inside_are_carried(self):
        # etherip1's underlay goes through etherip0 (a tunnel inside a
        # tunnel, as it should be); etherip0's goes to the peer.
        self.tunnel("etherip0", "192.0.2.1", "192.0.2.2", "203.0.113.1/28")
        self.tunnel("etherip1", "198.51.100.1", "198.51.100.2",
                    "203.0.113.17/28")
        self.route_into("198.51.100.2", "etherip0")
        packets = self.underlay_packets(
            lambda: self.traffic("203.0.113.18", "etherip1"), "nested")
        self.assertEqual(self.daemon.stats()["loopdrops"], 0)
        # On the wire: etherip0's packets, each carrying one of etherip1's.
        self.assertTrue(packets)
        for packet in packets:
            self.assertEqual((packet["src"], packet["dst"]),
                             ("192.0.2.1", "192.0.2.2"))
            self.assertEqual(packet.get("inner"), "ipv4")
            self.assertEqual(packet["inner_proto"], 97)
        self.assertEqual(len(packets), 20)
        self.assertEqual(self.daemon.show("etherip1")[0]["counters"]
                         ["opackets"], 20)


if __name__ == "__main__":
    unittest.main()

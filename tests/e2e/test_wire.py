"""The wire: packets crafted by scapy (not by us) arrive at etheripd and are
counted exactly; Wireshark's dissector (tshark) decodes what etheripd sends."""

import unittest

from netlab import (Capture, Lab, TwoSites, is_root, run, stop_process,
                    wait_until)

SCAPY = "/usr/bin/python3"

# Sends the packets named on the command line from router A to router B.
CRAFT = r"""
import sys
from scapy.all import IP, IPv6, Ether, ARP, Raw, IPOption_NOP, IPOption_EOL, send, conf, bind_layers
from scapy.contrib.etherip import EtherIP
bind_layers(IPv6, EtherIP, nh=97)
conf.verb = 0
v6 = sys.argv[1] == "6"
src, dst = ("2001:db8::1", "2001:db8::2") if v6 else ("192.0.2.1", "192.0.2.2")
def outer(s=src, **kw):
    return IPv6(src=s, dst=dst, nh=97) if v6 else IP(src=s, dst=dst, proto=97, **kw)
def arp(ip, mac):
    return (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
            ARP(op=1, hwsrc=mac, psrc=ip, pdst="198.51.100.2"))
packets = {
    "bad_version": lambda: outer() / EtherIP(version=4) / arp("198.51.100.20", "02:00:00:00:00:20"),
    "low_nibble_version": lambda: outer() / Raw(b"\x03\x00") / arp("198.51.100.21", "02:00:00:00:00:21"),
    "reserved_set": lambda: outer() / EtherIP(reserved=1) / arp("198.51.100.22", "02:00:00:00:00:22"),
    "short_frame": lambda: outer() / EtherIP() / Raw(b"\x00" * 13),
    "one_byte": lambda: outer() / Raw(b"\x30"),
    "empty": lambda: outer(),
    "unknown_peer": lambda: outer(s="2001:db8::3" if v6 else "192.0.2.3") / EtherIP() / arp("198.51.100.23", "02:00:00:00:00:23"),
    "valid": lambda: outer() / EtherIP() / arp("198.51.100.9", "02:00:00:00:00:09"),
    "low_nibble_ignored": lambda: outer() / EtherIP(reserved=0x100) / arp("198.51.100.10", "02:00:00:00:00:10"),
    "ipv4_options": lambda: outer(options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]) / EtherIP() / arp("198.51.100.11", "02:00:00:00:00:11"),
}
for name in sys.argv[2:]:
    send(packets[name]())
"""


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class CraftedPacketsTest(unittest.TestCase):
    """Bad packets crafted with scapy: exactly the right counter moves, and
    forwarding goes on."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def _send(self, sites, version, *names):
        run(SCAPY, "-c", CRAFT, version, *names, ns=sites.router_a)

    def _neighbour_known(self, sites, ip):
        out = run("ip", "neigh", "show", ip, ns=sites.host_b).stdout
        return ip in out

    def _check(self, version):
        sites = TwoSites(self.lab, ipv6=(version == "6"))
        sites.ping(count=1)
        if version == "4":
            self.lab.addr(sites.router_a, sites.underlay_a, "192.0.2.3/24")
        else:
            self.lab.addr(sites.router_a, sites.underlay_a, "2001:db8::3/64")
        cases = [("bad_version", "adrops"), ("low_nibble_version", "adrops"),
                 ("reserved_set", "adrops"), ("short_frame", "adrops"),
                 ("one_byte", "adrops"), ("empty", "adrops"),
                 ("unknown_peer", "noifdrops")]
        for name, counter in cases:
            with self.subTest(packet=name):
                before = sites.daemon_b.stats()
                self._send(sites, version, name)
                self.assertTrue(wait_until(
                    lambda: sites.daemon_b.stats()[counter] > before[counter]),
                    f"{name}: {counter} did not move")
                after = sites.daemon_b.stats()
                for other in ("adrops", "noifdrops", "pdrops"):
                    expected = before[other] + (1 if other == counter else 0)
                    self.assertEqual(after[other], expected, f"{name}: {other}")
        # None of the bad frames reached host B.
        for ip in ("198.51.100.20", "198.51.100.21", "198.51.100.22",
                   "198.51.100.23"):
            self.assertFalse(self._neighbour_known(sites, ip), ip)
        # Frames encapsulated by scapy's encoder are delivered.
        delivered = ["valid", "low_nibble_ignored"]
        if version == "4":
            delivered.append("ipv4_options")
        before = sites.daemon_b.stats()
        self._send(sites, version, *delivered)
        for name, ip in (("valid", "198.51.100.9"),
                         ("low_nibble_ignored", "198.51.100.10"),
                         ("ipv4_options", "198.51.100.11")):
            if name in delivered:
                self.assertTrue(
                    wait_until(lambda: self._neighbour_known(sites, ip)),
                    f"{name}: ARP request from {ip} not delivered to host B")
        after = sites.daemon_b.stats()
        self.assertGreaterEqual(after["ipackets"] - before["ipackets"],
                                len(delivered))
        self.assertEqual(after["adrops"], before["adrops"])
        # Forwarding goes on.
        sites.ping(count=2)

    def test_crafted_ipv4_packets(self):
        self._check("4")

    def test_crafted_ipv6_packets(self):
        self._check("6")


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class TsharkInteropTest(unittest.TestCase):
    """Wireshark's own dissector decodes our packets as EtherIP version 3,
    reserved 0, with the inner Ethernet/ARP/ICMP intact."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def _capture_and_decode(self, ipv6):
        sites = TwoSites(self.lab, ipv6=ipv6)
        pcap = f"{self.lab.tmp}/underlay.pcap"
        capture_filter = "ip6 proto 97" if ipv6 else "ip proto 97"
        capture = Capture(sites.router_b, sites.underlay_b, capture_filter,
                          pcap)
        self.addCleanup(stop_process, capture.process)
        sites.ping(count=3)
        capture.stop()
        fields = run("tshark", "-n", "-r", pcap, "-Y", "etherip", "-T",
                     "fields", "-E", "separator=,", "-E", "aggregator=;", "-e", "etherip.ver",
                     "-e", "etherip.reserved", "-e", "eth.type", "-e",
                     "arp.opcode", "-e", "icmp.type", "-e", "ip.src").stdout
        rows = [line.split(",") for line in fields.splitlines() if line]
        self.assertTrue(rows, "no EtherIP packets decoded")
        for row in rows:
            self.assertEqual(row[0], "3", row)
            self.assertEqual(int(row[1], 16), 0, row)
        # ARP request and reply, ICMP echo request and reply crossed.
        arp_ops = {row[3] for row in rows if row[3]}
        self.assertTrue({"1", "2"} <= arp_ops, rows)
        icmp_types = {t for row in rows for t in row[4].split(";") if t}
        self.assertTrue({"0", "8"} <= icmp_types, rows)
        if not ipv6:
            inner_sources = {s for row in rows for s in row[5].split(";")}
            self.assertIn("198.51.100.1", inner_sources)
            self.assertIn("192.0.2.1", inner_sources)

    def test_tshark_decodes_ipv4_underlay(self):
        self._capture_and_decode(ipv6=False)

    def test_tshark_decodes_ipv6_underlay(self):
        self._capture_and_decode(ipv6=True)


if __name__ == "__main__":
    unittest.main()

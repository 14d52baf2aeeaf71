"""End to end: MikroTik EoIPv6 (SPEC 8, "EoIP"). Packets with EoIP tunnel
IDs, crafted by scapy, are delivered to the interface with that ID or
counted (noifdrops, keepalives, adrops) exactly; a capture shows the ID
bytes and the keepalives sent; two EoIP tunnels between the same two
addresses carry separate traffic; EoIP on an IPv4 tunnel is refused."""

import os
import time
import unittest

from netlab import Capture, Lab, is_root, run, wait_until

SCAPY = "/usr/bin/python3"

# Sends one IPv6 protocol-97 packet per argument SRC,DST,HEADER,FRAME:
# HEADER the two header bytes in hex, FRAME 1 for a 60-byte frame after
# them, 0 for none (a keepalive).
CRAFT = r"""
import sys
from scapy.all import IPv6, Ether, Raw, send, conf
conf.verb = 0
frame = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02",
                    type=0x88b5) / Raw(b"\x00" * 46))
for argument in sys.argv[1:]:
    source, destination, header, with_frame = argument.split(",")
    payload = bytes.fromhex(header) + (frame if with_frame == "1" else b"")
    send(IPv6(src=source, dst=destination, nh=97, hlim=64) / Raw(payload))
"""

# Per protocol-97 packet of a capture: its first two payload bytes in hex
# and the payload's length.
HEADERS = r"""
import sys
from scapy.all import IPv6, rdpcap
for packet in rdpcap(sys.argv[1]):
    if IPv6 in packet and packet[IPv6].nh == 97:
        payload = bytes(packet[IPv6].payload)
        print(payload[:2].hex(), len(payload))
"""

# The router (2001:db8::2) has two EoIP tunnels with the peer's ::1 (IDs 5
# and 0) and a standard tunnel with the peer's ::3. Keepalives off, so the
# only protocol-97 packets are the test's.
ROUTER_CONFIG = """allow = true
disable_ipv6 = true

[[interface]]
name = "eoip5"
source = "2001:db8::2"
destination = "2001:db8::1"
eoip = 5
keepalive = 0
up = true

[[interface]]
name = "eoip0"
source = "2001:db8::2"
destination = "2001:db8::1"
eoip = 0
keepalive = 0
up = true

[[interface]]
name = "standard"
source = "2001:db8::2"
destination = "2001:db8::3"
up = true
"""

COUNTERS = ("ipackets", "adrops", "pdrops", "noifdrops", "idrops", "qdrops",
            "keepalives")


def delta(before, after):
    return {name: after.get(name, 0) - before.get(name, 0)
            for name in COUNTERS}


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class EoipReceiveAndSendTest(unittest.TestCase):
    """One daemon; scapy plays the MikroTik peer."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.peer = self.lab.netns("p")
        self.router = self.lab.netns("r")
        self.peer_link = self.lab.name("vp")
        self.lab.veth(self.peer, self.peer_link, self.router,
                      self.lab.name("vr"))
        self.lab.addr(self.peer, self.peer_link, "2001:db8::1/64")
        self.lab.addr(self.peer, self.peer_link, "2001:db8::3/64")
        self.lab.addr(self.router, self.lab.name("vr"), "2001:db8::2/64")
        self.daemon = self.lab.daemon(self.router, ROUTER_CONFIG)
        self.daemon.start()

    def interface(self, name):
        return self.daemon.show(name)[0]

    def test_ids_are_delivered_or_counted_exactly(self):
        before = self.daemon.stats()
        before5 = self.interface("eoip5")["counters"]
        before0 = self.interface("eoip0")["counters"]
        packets = [
            # To eoip5 and eoip0 (ID 0 is 03 00): delivered.
            "2001:db8::1,2001:db8::2,0305,1",
            "2001:db8::1,2001:db8::2,0300,1",
            # IDs nobody has (6, 0x105), and a standard header between
            # EoIP addresses: noifdrops.
            "2001:db8::1,2001:db8::2,0306,1",
            "2001:db8::1,2001:db8::2,1305,1",
            "2001:db8::1,2001:db8::2,3000,1",
            # Keepalives (a header, nothing after it) on eoip5 and eoip0.
            "2001:db8::1,2001:db8::2,0305,0",
            "2001:db8::1,2001:db8::2,0300,0",
            # The same empty payload on the standard tunnel: adrops.
            "2001:db8::3,2001:db8::2,3000,0",
            # And a frame there: delivered.
            "2001:db8::3,2001:db8::2,3000,1",
        ]
        run(SCAPY, "-c", CRAFT, *packets, ns=self.peer)

        def arrived():
            return sum(delta(before, self.daemon.stats()).values()) \
                >= len(packets)
        self.assertTrue(wait_until(arrived), self.daemon.stats())
        time.sleep(0.2)  # nothing more may come
        self.assertEqual(delta(before, self.daemon.stats()), {
            "ipackets": 3, "adrops": 1, "pdrops": 0, "noifdrops": 3,
            "idrops": 0, "qdrops": 0, "keepalives": 2})
        for name, counters_before in (("eoip5", before5), ("eoip0", before0)):
            after = self.interface(name)["counters"]
            self.assertEqual(after["ipackets"] - counters_before["ipackets"],
                             1, name)
            self.assertEqual(after["ibytes"] - counters_before["ibytes"], 60,
                             name)
            self.assertEqual(
                after["keepalives"] - counters_before["keepalives"], 1, name)
        self.assertEqual(self.interface("standard")["counters"]["keepalives"],
                         0)
        # A frame for an interface that is down: idrops; its keepalive
        # still counts as one.
        self.daemon.cli("set", "eoip5", "down")
        before = self.daemon.stats()
        run(SCAPY, "-c", CRAFT, "2001:db8::1,2001:db8::2,0305,1",
            "2001:db8::1,2001:db8::2,0305,0", ns=self.peer)
        self.assertTrue(wait_until(
            lambda: sum(delta(before, self.daemon.stats()).values()) >= 2))
        changed = {k: v for k, v in delta(before, self.daemon.stats()).items()
                   if v}
        self.assertEqual(changed, {"idrops": 1, "keepalives": 1})

    def test_show_showconf_and_json_name_the_id(self):
        eoip5 = self.interface("eoip5")
        self.assertEqual(eoip5["eoip"], 5)
        self.assertEqual(eoip5["keepalive"], 0)
        self.assertIn("keepalives", eoip5["counters"])
        standard = self.interface("standard")
        self.assertIsNone(standard["eoip"])
        self.assertIsNone(standard["keepalive"])
        self.assertIn("keepalives", self.daemon.stats())
        text = self.daemon.cli("show", "eoip5").stdout
        self.assertIn("\ttunnel inet6 2001:db8::2 -> 2001:db8::1 eoip 5 "
                      "keepalive 0\n", text)
        self.assertRegex(text, r"\tRX packets \d+ bytes \d+ drops \d+ "
                         r"keepalives \d+\n")
        self.assertIn("\nkeepalives ", self.daemon.cli("stats").stdout)
        conf = self.daemon.cli("showconf").stdout
        self.assertIn('name = "eoip0"', conf)
        self.assertIn("eoip = 5\nkeepalive = 0\n", conf)
        # The default interval is not written.
        self.daemon.cli("set", "eoip0", "keepalive", "10")
        self.assertEqual(self.interface("eoip0")["keepalive"], 10)
        conf = self.daemon.cli("showconf").stdout
        self.assertIn("eoip = 0\nup = true\n", conf)
        self.assertNotIn("keepalive 10", self.daemon.cli("show").stdout)

    def test_capture_shows_the_id_bytes_and_the_keepalives_sent(self):
        # Addresses on the TAPs make the kernel send ARP requests through
        # each tunnel when they are pinged through.
        run("ip", "addr", "add", "203.0.113.1/24", "dev", "eoip5",
            ns=self.router)
        run("ip", "addr", "add", "198.51.100.1/24", "dev", "eoip0",
            ns=self.router)
        pcap = os.path.join(self.lab.tmp, "eoip.pcap")
        capture = Capture(self.peer, self.peer_link, "ip6 proto 97", pcap)
        for target in ("203.0.113.2", "198.51.100.2"):
            run("ping", "-c", "2", "-i", "0.2", "-W", "1", target,
                ns=self.router, check=False)
        # One keepalive a second on eoip5 (the first at once).
        self.daemon.cli("set", "eoip5", "keepalive", "1")
        time.sleep(2.5)
        capture.stop()
        packets = [line.split() for line in
                   run(SCAPY, "-c", HEADERS, pcap).stdout.splitlines()]
        frames = {header for header, size in packets if int(size) > 2}
        keepalives = [header for header, size in packets if int(size) == 2]
        # ARP requests in tunnels 5 (03 05) and 0 (03 00), nothing else.
        self.assertEqual(frames, {"0305", "0300"}, packets)
        # Keepalives: eoip5's only (eoip0's are off), two or three of them.
        self.assertEqual(set(keepalives), {"0305"}, packets)
        self.assertGreaterEqual(len(keepalives), 2, packets)
        self.assertLessEqual(len(keepalives), 4, packets)
        # Sent keepalives are not frames: opackets counts the ARP requests.
        self.assertEqual(self.daemon.stats()["opackets"],
                         len(packets) - len(keepalives))

    def test_eoip_is_refused_where_it_cannot_be(self):
        def refused(*words, status=1):
            result = self.daemon.cli(*words, check=False)
            self.assertEqual(result.returncode, status, result)
            return result.stderr

        self.assertEqual(
            refused("create", "v4", "tunnel", "192.0.2.1", "192.0.2.2",
                    "eoip", "5"),
            "etherip: v4: eoip 5: invalid argument (EoIP tunnels are IPv6: "
            "tunnel 192.0.2.1 -> 192.0.2.2 is IPv4)\n")
        self.assertEqual(
            self.daemon.cli("show", "v4", check=False).returncode, 1)
        self.assertIn("EoIP tunnels are IPv6",
                      refused("set", "eoip5", "tunnel", "192.0.2.1",
                              "192.0.2.2"))
        self.assertIn("eoip 4096: invalid argument (range 0-4095)",
                      refused("set", "eoip5", "eoip", "4096"))
        self.assertIn("eoip 5: invalid argument (EoIP has its own header",
                      refused("set", "eoip5", "header", "reversed"))
        self.assertIn("keepalive 5: invalid argument (only for EoIP tunnels",
                      refused("set", "standard", "keepalive", "5"))
        # Same pair, same ID: address not available; a standard tunnel on
        # an EoIP pair (and the other way round): file exists.
        self.assertIn("tunnel 2001:db8::2 -> 2001:db8::1 eoip 0: address "
                      "not available",
                      refused("create", "again", "tunnel", "2001:db8::2",
                              "2001:db8::1", "eoip", "0"))
        self.assertIn("file exists (eoip0 has an EoIP tunnel",
                      refused("create", "plain", "tunnel", "2001:db8::2",
                              "2001:db8::1"))
        self.assertIn("file exists (standard has a standard tunnel",
                      refused("create", "mixed", "tunnel", "2001:db8::2",
                              "2001:db8::3", "eoip", "1"))
        refused("set", "eoip5", "eoip", status=2)  # missing argument
        # Nothing changed.
        self.assertEqual(self.interface("eoip5")["eoip"], 5)
        self.assertEqual(len(self.daemon.show()), 3)
        # A third ID on the pair is fine.
        self.daemon.cli("create", "eoip7", "tunnel", "2001:db8::2",
                        "2001:db8::1", "eoip", "7", "keepalive", "0")
        self.assertEqual(self.interface("eoip7")["eoip"], 7)


PEER_CONFIG = """allow = true
disable_ipv6 = true

[[interface]]
name = "eoip1"
source = "{local}"
destination = "{remote}"
eoip = 1
keepalive = 1
up = true

[[interface]]
name = "eoip2"
source = "{local}"
destination = "{remote}"
eoip = 2
keepalive = 1
up = true
"""


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class TwoEoipTunnelsOnOnePairTest(unittest.TestCase):
    """Two daemons with two EoIP tunnels between the same two addresses."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.a = self.lab.netns("a")
        self.b = self.lab.netns("b")
        self.lab.veth(self.a, self.lab.name("va"), self.b, self.lab.name("vb"))
        self.lab.addr(self.a, self.lab.name("va"), "2001:db8::1/64")
        self.lab.addr(self.b, self.lab.name("vb"), "2001:db8::2/64")
        self.daemon_a = self.lab.daemon(self.a, PEER_CONFIG.format(
            local="2001:db8::1", remote="2001:db8::2"))
        self.daemon_b = self.lab.daemon(self.b, PEER_CONFIG.format(
            local="2001:db8::2", remote="2001:db8::1"))
        self.daemon_a.start()
        self.daemon_b.start()
        # Tunnel 1 carries 198.51.100.0/24, tunnel 2 203.0.113.0/24.
        for ns, host in ((self.a, "1"), (self.b, "2")):
            run("ip", "addr", "add", f"198.51.100.{host}/24", "dev", "eoip1",
                ns=ns)
            run("ip", "addr", "add", f"203.0.113.{host}/24", "dev", "eoip2",
                ns=ns)

    def received(self, name):
        return self.daemon_b.show(name)[0]["counters"]["ipackets"]

    def test_each_tunnel_carries_its_own_pings(self):
        for target, own, other in (("198.51.100.2", "eoip1", "eoip2"),
                                   ("203.0.113.2", "eoip2", "eoip1")):
            with self.subTest(target=target):
                own_before = self.received(own)
                other_before = self.received(other)
                result = run("ping", "-c", "3", "-i", "0.2", "-W", "2", target,
                             ns=self.a, check=False)
                if result.returncode != 0:  # the first may wait for ARP
                    result = run("ping", "-c", "3", "-i", "0.2", "-W", "2",
                                 target, ns=self.a, check=False)
                self.assertEqual(result.returncode, 0, result.stdout)
                # Each echo request (and the ARP exchange) reached only the
                # interface of its own tunnel.
                self.assertGreaterEqual(self.received(own) - own_before, 3)
                self.assertEqual(self.received(other), other_before)

    def test_keepalives_cross_and_are_counted_per_tunnel(self):
        def counted():
            return all(self.daemon_b.show(name)[0]["counters"]["keepalives"]
                       >= 2 for name in ("eoip1", "eoip2"))
        self.assertTrue(wait_until(counted, timeout=10),
                        self.daemon_b.show())
        stats = self.daemon_b.stats()
        self.assertGreaterEqual(stats["keepalives"], 4)
        self.assertEqual(stats["noifdrops"], 0)
        self.assertEqual(stats["adrops"], 0)
        # Not frames: nothing is delivered for them.
        for name in ("eoip1", "eoip2"):
            self.assertEqual(
                self.daemon_b.show(name)[0]["counters"]["ipackets"], 0, name)


if __name__ == "__main__":
    unittest.main()

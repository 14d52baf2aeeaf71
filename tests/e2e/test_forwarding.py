"""End to end: two sites bridged by etheripd across IPv4 and IPv6 underlays."""

import hashlib
import os
import subprocess
import unittest

from netlab import Lab, TwoSites, is_root, run, stop_process

TCP_SERVER = r"""
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.2", 5001)); s.listen(1)
print("listening", flush=True)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
c.sendall(h.hexdigest().encode()); c.close()
print(n, h.hexdigest(), flush=True)
"""

TCP_CLIENT = r"""
import socket, sys
data = sys.stdin.buffer.read()
for attempt in range(50):
    try:
        s = socket.create_connection(("198.51.100.2", 5001), timeout=20); break
    except OSError:
        import time; time.sleep(0.1)
s.sendall(data); s.shutdown(socket.SHUT_WR)
print(s.recv(100).decode())
"""


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class ForwardingTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def test_ping_across_ipv4_underlay(self):
        sites = TwoSites(self.lab)
        sites.ping(count=3)
        a = sites.daemon_a.show("etherip0")[0]
        b = sites.daemon_b.show("etherip0")[0]
        self.assertTrue(a["running"])
        self.assertEqual(a["source"], "192.0.2.1")
        self.assertEqual(a["destination"], "192.0.2.2")
        self.assertGreaterEqual(a["counters"]["opackets"], 3)
        self.assertGreaterEqual(b["counters"]["ipackets"], 3)
        stats = sites.daemon_b.stats()
        self.assertEqual(stats["pdrops"], 0)
        self.assertEqual(stats["adrops"], 0)
        self.assertGreaterEqual(stats["ipackets"], 3)

    def test_ping_across_ipv6_underlay(self):
        sites = TwoSites(self.lab, ipv6=True)
        sites.ping(count=3)
        a = sites.daemon_a.show("etherip0")[0]
        self.assertEqual(a["source"], "2001:db8::1")
        self.assertGreaterEqual(a["counters"]["opackets"], 3)
        self.assertGreaterEqual(
            sites.daemon_b.show("etherip0")[0]["counters"]["ipackets"], 3)

    def _tcp_transfer(self, sites, size):
        server = subprocess.Popen(
            ["ip", "netns", "exec", sites.host_b, "/usr/bin/python3", "-c",
             TCP_SERVER], stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, server)
        self.assertEqual(server.stdout.readline().strip(), "listening")
        data = os.urandom(size)
        client = subprocess.run(
            ["ip", "netns", "exec", sites.host_a, "/usr/bin/python3", "-c",
             TCP_CLIENT], input=data, capture_output=True, timeout=120)
        self.assertEqual(client.returncode, 0, client.stderr)
        expected = hashlib.sha256(data).hexdigest()
        self.assertEqual(client.stdout.decode().strip(), expected)
        count, digest = server.stdout.readline().split()
        self.assertEqual(int(count), size)
        self.assertEqual(digest, expected)

    def test_tcp_transfer_is_intact_over_ipv4(self):
        sites = TwoSites(self.lab)
        sites.ping(count=1)
        self._tcp_transfer(sites, 4 * 1024 * 1024)

    def test_tcp_transfer_is_intact_over_ipv6(self):
        sites = TwoSites(self.lab, ipv6=True)
        sites.ping(count=1)
        self._tcp_transfer(sites, 2 * 1024 * 1024)

    def test_large_frames_are_fragmented_by_the_underlay(self):
        # 1500-byte inner packets make outer packets over the underlay's
        # 1500 MTU: DF is clear, so the kernel fragments them.
        sites = TwoSites(self.lab)
        run("ping", "-c", "2", "-s", "1472", "-M", "do", "198.51.100.2",
            ns=sites.host_a)

    def test_hub_with_two_peers_shares_one_socket(self):
        """Three namespaces: a hub with a tunnel to each of two peers."""
        lab = self.lab
        hub, b, c = lab.netns("hub"), lab.netns("b"), lab.netns("c")
        lab.veth(hub, lab.name("hb"), b, lab.name("bh"))
        lab.veth(hub, lab.name("hc"), c, lab.name("ch"))
        lab.addr(hub, lab.name("hb"), "192.0.2.1/24")
        lab.addr(b, lab.name("bh"), "192.0.2.2/24")
        lab.addr(hub, lab.name("hc"), "198.51.100.1/24")
        lab.addr(c, lab.name("ch"), "198.51.100.2/24")
        tunnel = ('[[interface]]\nname = "{name}"\nsource = "{src}"\n'
                  'destination = "{dst}"\nup = true\n')
        daemons = {
            hub: "allow = true\n"
                 + tunnel.format(name="etherip0", src="192.0.2.1",
                                 dst="192.0.2.2")
                 + tunnel.format(name="etherip1", src="198.51.100.1",
                                 dst="198.51.100.2"),
            b: "allow = true\n" + tunnel.format(
                name="etherip0", src="192.0.2.2", dst="192.0.2.1"),
            c: "allow = true\n" + tunnel.format(
                name="etherip0", src="198.51.100.2", dst="198.51.100.1"),
        }
        started = {}
        for ns, conf in daemons.items():
            started[ns] = lab.daemon(ns, conf)
            started[ns].start()
        lab.addr(hub, "etherip0", "203.0.113.1/28")
        lab.addr(b, "etherip0", "203.0.113.2/28")
        lab.addr(hub, "etherip1", "203.0.113.17/28")
        lab.addr(c, "etherip0", "203.0.113.18/28")
        for target in ("203.0.113.2", "203.0.113.18"):
            run("ping", "-c", "2", "-i", "0.2", "-W", "2", target, ns=hub)
        shown = {i["name"]: i for i in started[hub].show()}
        for name in ("etherip0", "etherip1"):
            self.assertGreaterEqual(shown[name]["counters"]["ipackets"], 2)
            self.assertGreaterEqual(shown[name]["counters"]["opackets"], 2)
        # Both tunnels are IPv4 in the same domain: one raw socket serves
        # them (the daemon logs each socket it opens).
        log = started[hub].read_log()
        self.assertEqual(log.count("opened IPv4 socket"), 1, log)
        self.assertEqual(started[hub].stats()["noifdrops"], 0)

    def test_allow_off_drops_and_counts_pdrops(self):
        sites = TwoSites(self.lab, allow=False)
        result = sites.ping(count=2, check=False)
        self.assertNotEqual(result.returncode, 0)
        stats = sites.daemon_b.stats()
        self.assertGreater(stats["pdrops"], 0)
        self.assertEqual(stats["ipackets"], 0)
        self.assertEqual(
            sites.daemon_b.show("etherip0")[0]["counters"]["ipackets"], 0)
        self.assertIn("allow", sites.daemon_b.read_log())
        # Turning it on makes the tunnel work (once host A forgets that
        # host B did not answer ARP).
        for daemon in (sites.daemon_a, sites.daemon_b):
            daemon.cli("allow", "1")
            self.assertEqual(daemon.cli("allow", json_output=True),
                             {"allow": True})
        run("ip", "neigh", "flush", "all", ns=sites.host_a)
        sites.ping(count=2)


if __name__ == "__main__":
    unittest.main()

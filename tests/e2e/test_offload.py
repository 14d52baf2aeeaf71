"""End to end through the offloads: the sites' TCP stacks hand etherip0
super-frames (TSO through the bridge), etheripd cuts them into standard
frames, and merges them again on the other side. Large transfers arrive
intact over both underlays, and no outer packet carries more than one
standard frame (MTU + 14 bytes)."""

import subprocess
import time
import unittest

from netlab import Capture, Lab, TwoSites, is_root, run, stop_process

# Deterministic data from a seed, so neither side has to hold it whole.
DATA = r"""
import random
def chunks(total, seed):
    rng = random.Random(seed)
    left = total
    while left:
        n = min(left, 1 << 20)
        yield rng.randbytes(n)
        left -= n
"""

SERVER = DATA + r"""
import hashlib, socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001)); s.listen(1)
print("listening", flush=True)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
c.sendall(h.hexdigest().encode()); c.close()
print(n, h.hexdigest(), flush=True)
"""

CLIENT = DATA + r"""
import hashlib, socket, sys, time
target, total, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for attempt in range(50):
    try:
        s = socket.create_connection((target, 5001), timeout=60); break
    except OSError:
        time.sleep(0.1)
h = hashlib.sha256()
for chunk in chunks(total, seed):
    h.update(chunk); s.sendall(chunk)
s.shutdown(socket.SHUT_WR)
print(h.hexdigest(), s.recv(100).decode())
"""

MIB = 1024 * 1024

# Counts and checks numbered datagrams until none came for a second.
UDP_SERVER = r"""
import socket
patterns = [bytes((n + i) % 256 for i in range(996)) for n in range(256)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 24)  # SO_RCVBUFFORCE
s.bind(("198.51.100.2", 5002)); s.settimeout(10)
print("listening", flush=True)
good = bad = 0
while True:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    s.settimeout(1)
    n = int.from_bytes(b[:4], "big")
    if len(b) == 1000 and b[4:] == patterns[n % 256]:
        good += 1
    else:
        bad += 1
print(good, bad, flush=True)
"""

# 20000 numbered 1000-byte datagrams in bursts of 32: each burst crosses
# as one batch, which the far side may merge.
UDP_CLIENT = r"""
import socket, time
patterns = [bytes((n + i) % 256 for i in range(996)) for n in range(256)]
payloads = [n.to_bytes(4, "big") + patterns[n % 256] for n in range(20000)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for start in range(0, len(payloads), 32):
    for payload in payloads[start:start + 32]:
        s.sendto(payload, ("198.51.100.2", 5002))
    time.sleep(0.0005)
"""


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class OffloadTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def _transfer(self, sites, size, seed=7):
        server = subprocess.Popen(
            ["ip", "netns", "exec", sites.host_b, "/usr/bin/python3", "-c",
             SERVER, "198.51.100.2"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, server)
        self.assertEqual(server.stdout.readline().strip(), "listening")
        client = run("/usr/bin/python3", "-c", CLIENT, "198.51.100.2", size,
                     seed, ns=sites.host_a, timeout=300)
        sent, echoed = client.stdout.split()
        self.assertEqual(sent, echoed, "the receiver hashed other bytes")
        count, digest = server.stdout.readline().split()
        self.assertEqual(int(count), size)
        self.assertEqual(digest, sent)

    def _offloads_granted(self, sites):
        features = run("ethtool", "-k", "etherip0", ns=sites.router_a).stdout
        self.assertIn("tcp-segmentation-offload: on", features)

    def test_256_mib_arrive_intact_over_ipv4(self):
        sites = TwoSites(self.lab)
        sites.ping(count=1)
        self._offloads_granted(sites)
        self._transfer(sites, 256 * MIB)
        a = sites.daemon_a.show("etherip0")[0]["counters"]
        b = sites.daemon_b.show("etherip0")[0]["counters"]
        # Counted as on the wire: at least one outer packet per 1500 bytes.
        self.assertGreater(a["opackets"], 256 * MIB // 1500)
        self.assertEqual(a["oerrors"], 0)
        # The kernel may drop a few from a full socket queue, never more.
        self.assertLessEqual(b["ipackets"], a["opackets"])
        self.assertGreater(b["ipackets"], a["opackets"] * 0.99)

    def test_256_mib_arrive_intact_over_ipv6(self):
        sites = TwoSites(self.lab, ipv6=True)
        sites.ping(count=1)
        self._transfer(sites, 256 * MIB)

    def test_udp_bursts_arrive_intact_merged_where_the_kernel_has_uso(self):
        sites = TwoSites(self.lab)
        sites.ping(count=1)
        server = subprocess.Popen(
            ["ip", "netns", "exec", sites.host_b, "/usr/bin/python3", "-c",
             UDP_SERVER], stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, server)
        self.assertEqual(server.stdout.readline().strip(), "listening")
        run("/usr/bin/python3", "-c", UDP_CLIENT, ns=sites.host_a, timeout=120)
        good, bad = map(int, server.stdout.readline().split())
        self.assertEqual(bad, 0, "a datagram arrived damaged")
        self.assertGreater(good, 15000)  # the rest lost to full queues, if any
        delivered = sites.daemon_b.show("etherip0")[0]["counters"]["ipackets"]
        self.assertGreaterEqual(delivered, good)
        features = run("ethtool", "-k", "etherip0", ns=sites.router_b).stdout
        if "tx-udp-segmentation: on" not in features:
            return  # Linux < 6.2: no USO, datagrams are written one by one
        # The TAP saw fewer packets than the daemon delivered frames: runs of
        # datagrams were written as USO super-frames.
        rx = run("cat", "/sys/class/net/etherip0/statistics/rx_packets",
                 ns=sites.router_b).stdout
        self.assertLess(int(rx), delivered)

    def test_busy_polling_forwards_and_sleeps_when_idle(self):
        sites = TwoSites(self.lab, daemon_args=("-p", "200"))
        sites.ping(count=3)
        self._transfer(sites, 8 * MIB)
        # Idle again: the forwarding thread must go back to sleep.
        pid = int(run("pgrep", "-f", "-n", f"etheripd.*{sites.daemon_a.socket}"
                      ).stdout.split()[0])
        def cpu_ticks():
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime
        time.sleep(0.5)
        before = cpu_ticks()
        time.sleep(2)
        self.assertLess(cpu_ticks() - before, 20, "spinning while idle")

    def _capture_sizes(self, ipv6):
        """Outer packets of a transfer with an inner MTU that fits the
        underlay: each is one standard frame, never a fragment."""
        mtu = 1444 if ipv6 else 1464  # 1500 - outer IP - 2 - 14
        sites = TwoSites(self.lab, ipv6=ipv6, mtu=mtu)
        sites.ping(count=1)
        pcap = f"{self.lab.tmp}/outer.pcap"
        capture = Capture(sites.router_b, sites.underlay_b,
                          "ip proto 97 or ip6", pcap, snaplen=128)
        self.addCleanup(stop_process, capture.process)
        self._transfer(sites, 16 * MIB)
        capture.stop()
        # frame.len is the captured packet's length on the wire, whatever
        # the snap length: Ethernet, outer IP, EtherIP, the inner frame.
        lengths = run("tshark", "-n", "-r", pcap, "-Y", "etherip", "-T",
                      "fields", "-e", "frame.len", timeout=120).stdout.split()
        self.assertGreater(len(lengths), 16 * MIB // 1500, "too few captured")
        outer = 14 + (40 if ipv6 else 20) + 2
        largest = max(int(length) - outer for length in lengths)
        self.assertLessEqual(largest, mtu + 14)
        self.assertEqual(largest, mtu + 14, "no full-size frame: MSS wrong?")
        fragments = run("tshark", "-n", "-r", pcap, "-Y",
                        "ip.flags.mf == 1 || ip.frag_offset > 0 || ipv6.fraghdr",
                        "-T", "fields", "-e", "frame.number",
                        timeout=120).stdout.split()
        self.assertEqual(fragments, [])

    def test_no_outer_packet_exceeds_one_frame_over_ipv4(self):
        self._capture_sizes(ipv6=False)

    def test_no_outer_packet_exceeds_one_frame_over_ipv6(self):
        self._capture_sizes(ipv6=True)


if __name__ == "__main__":
    unittest.main()

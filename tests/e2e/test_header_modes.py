"""End to end: header modes (SPEC 8). Packets in each header form, crafted
by scapy, are delivered or counted as adrops exactly as the interface's
mode says; what each mode sends is read back from a capture."""

import os
import unittest

from netlab import Capture, Lab, is_root, run, wait_until

SCAPY = "/usr/bin/python3"

# Sends, from 192.0.2.1 to 192.0.2.2, one packet per header byte 0 given on
# the command line (hex), each followed by byte 1 = 0 and a 60-byte frame.
CRAFT = r"""
import sys
from scapy.all import IP, Ether, Raw, send, conf
conf.verb = 0
frame = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02",
                    type=0x88b5) / Raw(b"\x00" * 46))
for byte0 in sys.argv[1:]:
    send(IP(src="192.0.2.1", dst="192.0.2.2", proto=97) /
         Raw(bytes([int(byte0, 16), 0]) + frame))
"""

# The first two bytes of the IP payload of every protocol-97 packet in a
# capture, one hex pair per line.
HEADERS = r"""
import sys
from scapy.all import IP, rdpcap
for packet in rdpcap(sys.argv[1]):
    if IP in packet and packet[IP].proto == 97:
        print(bytes(packet[IP].payload)[:2].hex())
"""

# byte 0 of each header form, and whether standard, reversed and any accept
# it (SPEC 8, "Header modes").
FORMS = {
    "30": {"standard": True, "reversed": False, "any": True},
    "03": {"standard": False, "reversed": True, "any": True},
    "33": {"standard": True, "reversed": True, "any": True},
    "f3": {"standard": False, "reversed": True, "any": True},
    "3f": {"standard": True, "reversed": False, "any": True},
    "40": {"standard": False, "reversed": False, "any": False},
}

SENT = {"standard": "3000", "reversed": "0300", "any": "3000"}


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class HeaderModeTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.peer = self.lab.netns("p")
        self.router = self.lab.netns("r")
        self.peer_link = self.lab.name("vp")
        self.lab.veth(self.peer, self.peer_link, self.router,
                      self.lab.name("vr"))
        self.lab.addr(self.peer, self.peer_link, "192.0.2.1/24")
        self.lab.addr(self.router, self.lab.name("vr"), "192.0.2.2/24")
        self.daemon = self.lab.daemon(self.router, """allow = true
[[interface]]
name = "etherip0"
source = "192.0.2.2"
destination = "192.0.2.1"
up = true
""")
        self.daemon.start()

    def test_each_mode_accepts_exactly_its_forms(self):
        for mode in ("standard", "reversed", "any"):
            with self.subTest(mode=mode):
                self.daemon.cli("set", "etherip0", "header", mode)
                self.assertEqual(self.daemon.show("etherip0")[0]["header"],
                                 mode)
                before = self.daemon.stats()
                run(SCAPY, "-c", CRAFT, *FORMS, ns=self.peer)
                accepted = sum(1 for form in FORMS.values() if form[mode])
                refused = len(FORMS) - accepted

                def arrived():
                    now = self.daemon.stats()
                    return (now["ipackets"] - before["ipackets"]
                            + now["adrops"] - before["adrops"]) >= len(FORMS)
                self.assertTrue(wait_until(arrived), self.daemon.stats())
                after = self.daemon.stats()
                self.assertEqual(after["ipackets"] - before["ipackets"],
                                 accepted)
                self.assertEqual(after["adrops"] - before["adrops"], refused)
                for counter in ("noifdrops", "pdrops", "idrops"):
                    self.assertEqual(after[counter], before[counter], counter)
        conf = self.daemon.cli("showconf").stdout
        self.assertIn('header = "any"', conf)

    def test_each_mode_sends_its_header(self):
        # An address on etherip0 makes the kernel send ARP requests through
        # the tunnel when it is pinged through.
        run("ip", "addr", "add", "203.0.113.1/24", "dev", "etherip0",
            ns=self.router)
        for mode in ("standard", "reversed", "any"):
            with self.subTest(mode=mode):
                self.daemon.cli("set", "etherip0", "header", mode)
                pcap = os.path.join(self.lab.tmp, f"{mode}.pcap")
                capture = Capture(self.peer, self.peer_link, "ip proto 97",
                                  pcap)
                run("ping", "-c", "2", "-i", "0.2", "-W", "1", "203.0.113.2",
                    ns=self.router, check=False)
                capture.stop()
                headers = run(SCAPY, "-c", HEADERS, pcap).stdout.split()
                self.assertTrue(headers, f"{mode}: nothing captured")
                self.assertEqual(set(headers), {SENT[mode]}, mode)


if __name__ == "__main__":
    unittest.main()

"""End to end: docs/ipsec.md's worked example. OpenBSD accepts EtherIP
that IPsec protected even while `allow` is off; on Linux the same guarantee
comes from an XFRM policy that requires ESP for protocol 97 between the
endpoints, with `allow` on: the kernel drops unprotected packets before
the daemon's socket sees them.

The policy half runs on every kernel with XFRM. The ESP half needs the
kernel's ESP transform (CONFIG_INET_ESP, CONFIG_INET6_ESP) and skips,
saying so, where it is missing."""

import os
import unittest

from netlab import Capture, Lab, TwoSites, is_root, run, wait_until

# The example's keys (docs/ipsec.md): static, for the test only.
# cbc(aes) with a 128-bit key and hmac(sha256) with a 256-bit key.
ENC_A_TO_B = "0x" + "11" * 16
AUTH_A_TO_B = "0x" + "22" * 32
ENC_B_TO_A = "0x" + "33" * 16
AUTH_B_TO_A = "0x" + "44" * 32
SPI_A_TO_B = "0x97000001"
SPI_B_TO_A = "0x97000002"
REQID = "97"

# The outer protocol of every packet in a capture, one per line.
PROTOCOLS = r"""
import sys
from scapy.all import IP, IPv6, rdpcap
for packet in rdpcap(sys.argv[1]):
    if IP in packet:
        print(packet[IP].proto)
    elif IPv6 in packet:
        print(packet[IPv6].nh)
"""


def xfrm(ns, *args, check=True):
    return run("ip", "xfrm", *args, ns=ns, check=check)


def require_esp(ns, local, remote):
    """The inbound policy of docs/ipsec.md: protocol 97 from `remote` to
    `local` must have come through ESP."""
    xfrm(ns, "policy", "add", "src", remote, "dst", local, "proto", "97",
         "dir", "in", "tmpl", "src", remote, "dst", local, "proto", "esp",
         "reqid", REQID, "mode", "transport", "level", "required")


def protect(ns, local, remote, spi_out, enc_out, auth_out, spi_in, enc_in,
            auth_in):
    """docs/ipsec.md on one router: both SAs, then both policies. Returns
    the failed `ip xfrm state add` when the kernel has no ESP."""
    for src, dst, spi, enc, auth in ((local, remote, spi_out, enc_out,
                                      auth_out),
                                     (remote, local, spi_in, enc_in, auth_in)):
        added = xfrm(ns, "state", "add", "src", src, "dst", dst, "proto",
                     "esp", "spi", spi, "reqid", REQID, "mode", "transport",
                     "enc", "cbc(aes)", enc, "auth-trunc", "hmac(sha256)",
                     auth, "128", check=False)
        if added.returncode != 0:
            return added
    xfrm(ns, "policy", "add", "src", local, "dst", remote, "proto", "97",
         "dir", "out", "tmpl", "src", local, "dst", remote, "proto", "esp",
         "reqid", REQID, "mode", "transport", "level", "required")
    require_esp(ns, local, remote)
    return None


def template_mismatches(ns):
    """XfrmInTmplMismatch of the namespace: packets dropped because no
    transform the policy requires was applied to them (None when the kernel
    keeps no XFRM statistics)."""
    stats = run("cat", "/proc/net/xfrm_stat", ns=ns, check=False)
    for line in stats.stdout.splitlines():
        name, _, value = line.partition("\t")
        if name.strip() == "XfrmInTmplMismatch":
            return int(value.split()[0])
    return None


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class IpsecPolicyTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def addresses(self, ipv6):
        return (("2001:db8::1", "2001:db8::2") if ipv6
                else ("192.0.2.1", "192.0.2.2"))

    def check_unprotected_dropped(self, ipv6):
        sites = TwoSites(self.lab, ipv6=ipv6)
        self.assertTrue(sites.wait_for_ping(), "no ping before the policy")
        a, b = self.addresses(ipv6)
        require_esp(sites.router_b, b, a)
        mismatches = template_mismatches(sites.router_b)
        before = sites.daemon_b.stats()
        self.assertNotEqual(sites.ping(count=3, check=False).returncode, 0,
                            "plain EtherIP passed an ESP-only policy")
        after = sites.daemon_b.stats()
        # Nothing unprotected reached the daemon: not delivered, not even
        # counted as a drop of its own.
        for counter in ("ipackets", "adrops", "pdrops", "noifdrops",
                        "idrops"):
            self.assertEqual(after[counter], before[counter], counter)
        dropped = None
        if mismatches is not None:
            dropped = template_mismatches(sites.router_b) - mismatches
            self.assertGreaterEqual(dropped, 3)
        # The policy, not something else, stopped the traffic.
        xfrm(sites.router_b, "policy", "flush")
        self.assertTrue(sites.wait_for_ping(), "no ping after the flush")
        # The kernel drops them at the daemon's socket, which learns how
        # many with the next packet it reads: qdrops (SPEC 5).
        if dropped is not None:
            self.assertTrue(wait_until(
                lambda: sites.daemon_b.stats()["qdrops"] - before["qdrops"]
                == dropped), (dropped, sites.daemon_b.stats()))

    def test_unprotected_ipv4_is_dropped_by_the_policy(self):
        self.check_unprotected_dropped(ipv6=False)

    def test_unprotected_ipv6_is_dropped_by_the_policy(self):
        self.check_unprotected_dropped(ipv6=True)

    def check_protected_passes(self, ipv6):
        sites = TwoSites(self.lab, ipv6=ipv6)
        a, b = self.addresses(ipv6)
        failed = protect(sites.router_a, a, b, SPI_A_TO_B, ENC_A_TO_B,
                         AUTH_A_TO_B, SPI_B_TO_A, ENC_B_TO_A, AUTH_B_TO_A)
        if failed is not None:
            self.skipTest("this kernel has no ESP transform (ip xfrm state "
                          f"add: {failed.stderr.strip()}); the policy tests "
                          "still ran")
        self.assertIsNone(protect(sites.router_b, b, a, SPI_B_TO_A,
                                  ENC_B_TO_A, AUTH_B_TO_A, SPI_A_TO_B,
                                  ENC_A_TO_B, AUTH_A_TO_B))
        pcap = os.path.join(self.lab.tmp, f"esp{6 if ipv6 else 4}.pcap")
        capture = Capture(sites.router_b, sites.underlay_b,
                          "ip6" if ipv6 else "ip", pcap)
        before = sites.daemon_b.stats()
        self.assertTrue(sites.wait_for_ping(), "no ping through ESP")
        capture.stop()
        self.assertTrue(wait_until(
            lambda: sites.daemon_b.stats()["ipackets"] > before["ipackets"]))
        protocols = set(run("/usr/bin/python3", "-c", PROTOCOLS,
                            pcap).stdout.split())
        self.assertIn("50", protocols, "no ESP on the underlay")
        self.assertNotIn("97", protocols, "EtherIP in the clear")

    def test_protected_ipv4_passes(self):
        self.check_protected_passes(ipv6=False)

    def test_protected_ipv6_passes(self):
        self.check_protected_passes(ipv6=True)


if __name__ == "__main__":
    unittest.main()

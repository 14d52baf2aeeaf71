"""End to end: the daemon's view of its links is the kernel's (link events),
whoever changes them, and frames for a link that is down count idrops."""

import time
import unittest

from netlab import Lab, TwoSites, is_root, run, wait_until


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class KernelTruthTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.ns = self.lab.netns("k")
        self.daemon = self.lab.daemon(self.ns, "")
        self.daemon.start()
        self.daemon.cli("create", "etherip0", "tunnel", "192.0.2.1",
                        "192.0.2.2", "mtu", "1400", "up")

    def ip(self, *args, check=True):
        return run("ip", *args, ns=self.ns, check=check)

    def view(self, name="etherip0"):
        shown = self.daemon.show()
        return next((i for i in shown if i["name"] == name), None)

    def test_admin_state_set_with_ip_link_is_reported(self):
        self.ip("link", "set", "etherip0", "down")
        self.assertTrue(wait_until(lambda: not self.view()["up"]),
                        self.view())
        self.assertFalse(self.view()["running"])
        # `set up` really brings the link up again.
        self.daemon.cli("set", "etherip0", "up")
        flags = self.ip("link", "show", "etherip0").stdout.split(">")[0]
        self.assertIn("UP", flags.split("<")[1].split(","))
        self.assertTrue(self.view()["up"])
        self.assertTrue(self.view()["running"])

    def test_mtu_and_mac_set_with_ip_link_are_reported_and_written(self):
        self.ip("link", "set", "etherip0", "mtu", "9000")
        self.ip("link", "set", "etherip0", "address", "fe:e1:ba:d0:00:42")
        self.assertTrue(wait_until(
            lambda: self.view()["mtu"] == 9000
            and self.view()["lladdr"] == "fe:e1:ba:d0:00:42"), self.view())
        conf = self.daemon.cli("showconf").stdout
        self.assertIn("mtu = 9000", conf)
        self.assertIn('lladdr = "fe:e1:ba:d0:00:42"', conf)

    def test_an_mtu_above_the_range_is_set_back(self):
        self.ip("link", "set", "etherip0", "mtu", "65500")
        self.assertTrue(wait_until(
            lambda: "mtu 1400 " in self.ip("link", "show",
                                           "etherip0").stdout))
        self.assertEqual(self.view()["mtu"], 1400)
        self.assertIn("mtu = 1400", self.daemon.cli("showconf").stdout)

    def test_a_rename_is_followed_and_another_link_never_taken(self):
        self.ip("link", "set", "etherip0", "down")
        self.ip("link", "set", "etherip0", "name", "renamed0")
        self.assertTrue(wait_until(lambda: self.view("renamed0") is not None))
        self.ip("link", "add", "etherip0", "type", "bridge")
        shown = [i["name"] for i in self.daemon.show()]
        self.assertEqual(shown, ["renamed0"])
        refused = self.daemon.cli("destroy", "etherip0", check=False)
        self.assertEqual(refused.returncode, 1)
        self.daemon.cli("destroy", "renamed0")
        self.assertTrue(wait_until(lambda: self.ip(
            "link", "show", "renamed0", check=False).returncode != 0))
        # The bridge is not ours: still there.
        self.assertEqual(self.ip("link", "show", "etherip0",
                                 check=False).returncode, 0)

    def test_a_link_deleted_with_ip_link_leaves_at_once(self):
        self.daemon.cli("create", "etherip1", "tunnel", "192.0.2.1",
                        "192.0.2.3")
        self.ip("link", "del", "etherip0")
        self.assertTrue(wait_until(lambda: self.view() is None, timeout=1.0),
                        self.daemon.show())
        self.assertIsNotNone(self.view("etherip1"))
        # The name is free again.
        self.daemon.cli("create", "etherip0", "tunnel", "192.0.2.1",
                        "192.0.2.2")


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class InterfaceDownTest(unittest.TestCase):

    def test_frames_for_an_interface_that_is_down_count_idrops(self):
        with Lab() as lab:
            sites = TwoSites(lab)
            sites.ping()
            run("ip", "link", "set", "etherip0", "down", ns=sites.router_b)
            time.sleep(0.3)
            before = sites.daemon_b.stats()
            iface_before = sites.daemon_b.show("etherip0")[0]["counters"]
            sites.ping(count=3, check=False)
            after = sites.daemon_b.stats()
            iface_after = sites.daemon_b.show("etherip0")[0]["counters"]
            self.assertGreater(after["idrops"], before["idrops"])
            self.assertEqual(after["ipackets"], before["ipackets"])
            self.assertGreater(iface_after["idrops"], iface_before["idrops"])
            self.assertEqual(iface_after["ipackets"], iface_before["ipackets"])


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class DisableIpv6Test(unittest.TestCase):
    """`disable_ipv6 = true`: the kernel configures no IPv6 on the TAPs
    (bridge ports), and a reload without it gives IPv6 back."""

    CONFIG = """disable_ipv6 = true
[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
up = true
"""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.ns = self.lab.netns("v6")
        self.daemon = self.lab.daemon(self.ns, self.CONFIG)
        self.daemon.start()

    def sysctl(self, name):
        return run("cat", f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6",
                   ns=self.ns).stdout.strip()

    def addresses(self, name):
        return run("ip", "-6", "-o", "addr", "show", "dev", name,
                   ns=self.ns).stdout

    def test_interfaces_get_no_ipv6_until_a_reload_turns_it_back_on(self):
        self.daemon.cli("create", "etherip1", "up")
        for name in ("etherip0", "etherip1"):
            self.assertEqual(self.sysctl(name), "1")
            self.assertEqual(self.addresses(name), "")
        self.assertIn("disable_ipv6 = true",
                      self.daemon.cli("showconf").stdout)
        self.daemon.write_config(self.CONFIG.replace(
            "disable_ipv6 = true\n", ""))
        self.daemon.cli("reload")
        self.assertEqual(self.sysctl("etherip0"), "0")
        self.assertTrue(wait_until(
            lambda: "fe80::" in self.addresses("etherip0")),
            self.addresses("etherip0"))


if __name__ == "__main__":
    unittest.main()

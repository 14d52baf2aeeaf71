"""End to end: `master BRIDGE` (SPEC 8): the interface joins the bridge on
create, at every start and on reload; without `master`, bridge membership
made with `ip link` is left alone."""

import os
import signal
import unittest

from netlab import Lab, is_root, run

CONFIG = """allow = true
[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
{master}up = true
"""


def master_of(ns, name):
    path = f"/sys/class/net/{name}/master"
    result = run("readlink", path, ns=ns, check=False)
    return os.path.basename(result.stdout.strip()) if result.returncode == 0 \
        else ""


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class MasterTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.ns = self.lab.netns("m")
        for bridge in ("br0", "br1"):
            run("ip", "link", "add", bridge, "type", "bridge", ns=self.ns)

    def test_master_is_joined_kept_across_restarts_and_left_on_request(self):
        daemon = self.lab.daemon(self.ns, CONFIG.format(
            master='master = "br0"\n'))
        daemon.start()
        self.assertEqual(master_of(self.ns, "etherip0"), "br0")
        self.assertEqual(daemon.show("etherip0")[0]["master"], "br0")
        self.assertIn('master = "br0"', daemon.cli("showconf").stdout)
        self.assertIn(" master br0", daemon.cli("show").stdout)
        # A restart makes a new TAP: it joins again.
        self.assertEqual(daemon.stop(signal.SIGTERM), 0)
        daemon.start()
        self.assertEqual(master_of(self.ns, "etherip0"), "br0")
        # set moves it; -master takes it out.
        daemon.cli("set", "etherip0", "master", "br1")
        self.assertEqual(master_of(self.ns, "etherip0"), "br1")
        daemon.cli("set", "etherip0", "-master")
        self.assertEqual(master_of(self.ns, "etherip0"), "")
        # No such bridge: refused, nothing changes.
        result = daemon.cli("create", "etherip1", "master", "br9",
                            check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("br9", result.stderr)
        self.assertEqual([i["name"] for i in daemon.show()], ["etherip0"])

    def test_without_master_a_reload_leaves_bridge_ports_alone(self):
        daemon = self.lab.daemon(self.ns, CONFIG.format(master=""))
        daemon.start()
        run("ip", "link", "set", "etherip0", "master", "br0", ns=self.ns)
        daemon.write_config(CONFIG.format(master="").replace(
            "up = true", "mtu = 1400\nup = true"))
        daemon.cli("reload")
        self.assertEqual(master_of(self.ns, "etherip0"), "br0")
        # A file that names the master: the reload moves the port there.
        daemon.write_config(CONFIG.format(master='master = "br1"\n'))
        daemon.cli("reload")
        self.assertEqual(master_of(self.ns, "etherip0"), "br1")


if __name__ == "__main__":
    unittest.main()

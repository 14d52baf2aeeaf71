"""End to end: no acknowledged change is lost (`save = true`), restarts
after SIGKILL, persistent interfaces (`persist = true`), domains that go and
come back."""

import os
import random
import signal
import threading
import time
import tomllib
import unittest

from netlab import ETHERIP, Lab, TwoSites, is_root, run, wait_until


def names(daemon):
    return sorted(i["name"] for i in daemon.show())


def interfaces_config(count, first=0, extra=""):
    text = extra
    for i in range(first, first + count):
        text += (f'\n[[interface]]\nname = "etherip{i}"\n'
                 f'source = "192.0.2.1"\ndestination = "203.0.113.{i + 1}"\n'
                 f'up = true\n')
    return text


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class SaveTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def test_sigkill_in_bursts_of_changes_loses_nothing_acknowledged(self):
        ns = self.lab.netns("s")
        daemon = self.lab.daemon(ns, "save = true\n")
        rounds = 8
        next_index = 0
        acknowledged = set()
        for round_ in range(rounds):
            daemon.start()
            # Everything acknowledged before is still there.
            self.assertTrue(acknowledged <= set(names(daemon)),
                            (round_, acknowledged - set(names(daemon))))
            done = []

            def burst(start):
                for i in range(start, start + 40):
                    result = run(ETHERIP, "-s", daemon.socket, "create",
                                 f"etherip{i}", "tunnel", "192.0.2.1",
                                 f"203.0.113.{i + 1}" if i < 250 else
                                 f"198.51.100.{i - 249}", ns=ns, check=False)
                    if result.returncode == 0:
                        done.append(f"etherip{i}")
            worker = threading.Thread(target=burst, args=(next_index,))
            worker.start()
            time.sleep(random.uniform(0.05, 0.4))
            daemon.process.send_signal(signal.SIGKILL)
            daemon.process.wait()
            worker.join()
            acknowledged.update(done)
            next_index += 40
            # The file is whole: it parses.
            with open(daemon.config, "rb") as f:
                tomllib.load(f)
        daemon.start()
        self.assertTrue(acknowledged <= set(names(daemon)),
                        acknowledged - set(names(daemon)))
        self.assertGreater(len(acknowledged), 0)

    def test_save_keeps_the_files_owner_mode_and_symlink(self):
        ns = self.lab.netns("m")
        target = os.path.join(self.lab.tmp, "real.conf")
        with open(target, "w") as f:
            f.write("save = true\nallow = true\n")
        os.chown(target, 0, 65534)
        os.chmod(target, 0o640)
        daemon = self.lab.daemon(ns)
        os.symlink(target, daemon.config)
        daemon.start()
        daemon.cli("create", "etherip0", "tunnel", "192.0.2.1", "192.0.2.2")
        self.assertTrue(os.path.islink(daemon.config))
        info = os.stat(target)
        self.assertEqual((info.st_uid, info.st_gid, info.st_mode & 0o777),
                         (0, 65534, 0o640))
        with open(target, "rb") as f:
            saved = tomllib.load(f)
        self.assertTrue(saved["allow"])
        self.assertTrue(saved["save"])
        self.assertEqual(saved["interface"][0]["name"], "etherip0")
        self.assertEqual([n for n in os.listdir(self.lab.tmp)
                          if ".tmp" in n], [])

    def test_a_full_disk_refuses_the_change_and_keeps_the_old_file(self):
        ns = self.lab.netns("d")
        directory = os.path.join(self.lab.tmp, "full")
        os.mkdir(directory)
        run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", directory)
        self.addCleanup(run, "umount", "-l", directory, check=False)
        daemon = self.lab.daemon(ns)
        daemon.config = os.path.join(directory, "etheripd.conf")
        daemon.write_config("save = true\n")
        daemon.start()
        daemon.cli("create", "etherip0", "tunnel", "192.0.2.1", "192.0.2.2")
        with open(daemon.config) as f:
            before = f.read()
        # Fill the file system.
        try:
            with open(os.path.join(directory, "filler"), "wb",
                      buffering=0) as f:
                while True:
                    f.write(b"\0" * 4096)
        except OSError:
            pass  # full
        refused = daemon.cli("create", "etherip1", "tunnel", "192.0.2.1",
                             "192.0.2.3", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("no space", refused.stderr)
        self.assertEqual(names(daemon), ["etherip0"])
        self.assertNotEqual(run("ip", "link", "show", "etherip1", ns=ns,
                                check=False).returncode, 0)
        with open(daemon.config) as f:
            self.assertEqual(f.read(), before)


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class RestartTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def test_sigkill_then_restart_restores_every_tunnel(self):
        ns = self.lab.netns("r")
        daemon = self.lab.daemon(ns, interfaces_config(50))
        daemon.start()
        self.assertEqual(len(daemon.show()), 50)
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait()
        # At once: the kernel may still be removing the old TAPs.
        daemon.start()
        shown = daemon.show()
        self.assertEqual(len(shown), 50)
        self.assertTrue(all(i["running"] for i in shown))

    def test_sigterm_removes_every_interface_quickly(self):
        ns = self.lab.netns("t")
        daemon = self.lab.daemon(ns, interfaces_config(200))
        daemon.start()
        started = time.monotonic()
        self.assertEqual(daemon.stop(), 0)
        elapsed = time.monotonic() - started
        links = run("ip", "-o", "link", "show", ns=ns).stdout
        self.assertNotIn("etherip", links)
        print(f"SIGTERM with 200 interfaces: {elapsed:.2f} s")

    def test_persistent_interfaces_keep_addresses_and_bridge(self):
        sites = TwoSites(self.lab, start=False)
        for daemon in (sites.daemon_a, sites.daemon_b):
            with open(daemon.config) as f:
                text = f.read()
            daemon.write_config("persist = true\nsave = true\n" + text)
        sites.start()
        sites.ping()
        run("ip", "addr", "add", "203.0.113.9/24", "dev", "etherip0",
            ns=sites.router_a)
        sites.daemon_a.stop()
        # Still there, with what was attached to it.
        link = run("ip", "-d", "link", "show", "etherip0",
                   ns=sites.router_a).stdout
        self.assertIn("master br0", link)
        sites.daemon_a.start()
        started = time.monotonic()
        sites.ping(count=1, check=False)
        self.assertTrue(wait_until(
            lambda: sites.ping(count=1, check=False).returncode == 0,
            timeout=5))
        print(f"persistent restart: forwarding again after "
              f"{time.monotonic() - started:.2f} s")
        link = run("ip", "-d", "addr", "show", "etherip0",
                   ns=sites.router_a).stdout
        self.assertIn("master br0", link)
        self.assertIn("203.0.113.9/24", link)
        # `destroy` removes it for good.
        sites.daemon_a.cli("destroy", "etherip0")
        self.assertTrue(wait_until(lambda: run(
            "ip", "link", "show", "etherip0", ns=sites.router_a,
            check=False).returncode != 0))


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class DomainTest(unittest.TestCase):

    def test_a_deleted_domain_puts_only_its_tunnels_down(self):
        with Lab() as lab:
            ns = lab.netns("o")
            domain = lab.netns("u")
            daemon = lab.daemon(ns, "")
            daemon.start()
            daemon.cli("create", "etherip0", "tunnel", "192.0.2.1",
                       "192.0.2.2", "domain", domain, "up")
            daemon.cli("create", "etherip1", "tunnel", "192.0.2.1",
                       "192.0.2.2", "up")

            def running():
                return {i["name"]: i["running"] for i in daemon.show()}
            self.assertEqual(running(), {"etherip0": True, "etherip1": True})
            run("ip", "netns", "del", domain)
            self.assertTrue(wait_until(
                lambda: running() == {"etherip0": False, "etherip1": True},
                timeout=2), running())
            run("ip", "netns", "add", domain)
            self.assertTrue(wait_until(
                lambda: running() == {"etherip0": True, "etherip1": True},
                timeout=3), running())


if __name__ == "__main__":
    unittest.main()

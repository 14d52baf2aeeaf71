"""End to end: the control tool, the configuration file and the daemon's
life, against the real kernel."""

import os
import re
import resource
import signal
import time
import unittest

from netlab import ETHERIP, Lab, is_root, run


def link_exists(ns, name):
    return run("ip", "link", "show", name, ns=ns, check=False).returncode == 0


def carrier(ns, name):
    return run("cat", f"/sys/class/net/{name}/carrier", ns=ns,
               check=False).stdout.strip()


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class LifecycleTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.ns = self.lab.netns("r")
        self.daemon = self.lab.daemon(self.ns, "")
        self.daemon.start()

    def cli(self, *args, check=True):
        return self.daemon.cli(*args, check=check)

    def test_control_socket_is_private(self):
        self.assertEqual(os.stat(self.daemon.socket).st_mode & 0o777, 0o600)

    def test_open_file_limit_is_raised_to_the_hard_limit(self):
        # Each interface holds a TAP fd: a soft limit of 256 inherited from
        # the shell would cap the daemon at a few hundred tunnels.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard <= 256:
            self.skipTest(f"hard open-file limit is only {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        try:
            daemon = self.lab.daemon(self.lab.netns("nofile"), "")
            daemon.start()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        with open(f"/proc/{daemon.process.pid}/limits") as limits:
            line = next(l for l in limits if l.startswith("Max open files"))
        fields = line.split()
        self.assertEqual(fields[3], fields[4], line)  # soft == hard
        self.assertNotEqual(fields[3], "256", line)

    def test_create_show_destroy(self):
        self.cli("create", "etherip1", "tunnel", "192.0.2.1", "192.0.2.2",
                 "up")
        self.assertTrue(link_exists(self.ns, "etherip1"))
        shown = self.daemon.show("etherip1")
        self.assertEqual(len(shown), 1)
        entry = shown[0]
        for key in ("name", "source", "destination", "domain", "up",
                    "running", "mtu", "lladdr", "counters"):
            self.assertIn(key, entry)
        self.assertEqual(entry["mtu"], 1500)
        self.assertTrue(entry["running"])
        first_octet = int(entry["lladdr"].split(":")[0], 16)
        self.assertEqual(first_octet & 0x03, 0x02)  # local, unicast
        self.assertEqual(set(entry["counters"]),
                         {"ipackets", "ibytes", "opackets", "obytes",
                          "oerrors", "idrops", "keepalives", "loopdrops"})
        mac = run("cat", "/sys/class/net/etherip1/address", ns=self.ns).stdout
        self.assertEqual(mac.strip(), entry["lladdr"])
        self.cli("destroy", "etherip1")
        self.assertFalse(link_exists(self.ns, "etherip1"))
        result = self.cli("show", "etherip1", check=False)
        self.assertEqual(result.returncode, 1)

    def test_duplicate_tunnel_is_refused_and_changes_nothing(self):
        self.cli("create", "etherip0", "tunnel", "192.0.2.1", "192.0.2.2")
        result = self.cli("create", "etherip1", "tunnel", "192.0.2.1",
                          "192.0.2.2", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(
            result.stderr.strip(),
            "etherip: etherip1: tunnel 192.0.2.1 -> 192.0.2.2: "
            "address not available")
        self.assertFalse(link_exists(self.ns, "etherip1"))
        self.assertEqual([i["name"] for i in self.daemon.show()], ["etherip0"])
        # Via set, too.
        self.cli("create", "etherip2", "tunnel", "192.0.2.1", "192.0.2.3")
        result = self.cli("set", "etherip2", "tunnel", "192.0.2.1",
                          "192.0.2.2", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(self.daemon.show("etherip2")[0]["destination"],
                         "192.0.2.3")

    def test_refusals_and_exit_statuses(self):
        cases = [
            (("create", "etherip0", "tunnel", "192.0.2.1", "2001:db8::1"), 1,
             "etherip: etherip0: tunnel 192.0.2.1 -> 2001:db8::1: "
             "invalid argument"),
            (("create", "etherip0", "tunnel", "0.0.0.0", "192.0.2.1"), 1, None),
            (("create", "etherip0", "tunnel", "192.0.2.1", "224.0.0.1"), 1,
             None),
            # Neither an IP literal nor a host name (a host name is
            # accepted: SPEC 8).
            (("create", "etherip0", "tunnel", "a..example", "192.0.2.1"), 1,
             "invalid argument (a..example is not an IP literal or host "
             "name)"),
            # Endpoints that cannot carry EtherIP to a peer (SPEC 6).
            (("create", "etherip0", "tunnel", "192.0.2.1", "127.0.0.1"), 1,
             "invalid argument (127.0.0.1 is loopback)"),
            (("create", "etherip0", "tunnel", "192.0.2.1",
              "255.255.255.255"), 1,
             "invalid argument (255.255.255.255 is broadcast)"),
            (("create", "etherip0", "tunnel", "2001:db8::1",
              "::ffff:192.0.2.2"), 1,
             "invalid argument (::ffff:192.0.2.2 is IPv4-mapped)"),
            (("create", "etherip0", "tunnel", "::1", "2001:db8::2"), 1,
             "invalid argument (::1 is loopback)"),
            (("create", "etherip0", "tunnel", "192.0.2.1", "192.0.2.1"), 1,
             "invalid argument (source and destination are the same)"),
            (("create", "etherip0", "domain", "nonexistent-eip"), 1,
             "no such domain"),
            (("create", "bad/name"), 1, None),
            (("create", "0123456789abcdef"), 1, None),
            (("set", "etherip9", "up"), 1, "etherip: etherip9: no such interface"),
            (("destroy", "etherip9"), 1, None),
            (("frobnicate",), 2, None),
            (("create",), 2, None),
            (("create", "etherip0", "bogus"), 2, None),
            (("create", "etherip0", "tunnel", "192.0.2.1"), 2, None),
            (("allow", "2"), 2, None),
        ]
        for args, status, message in cases:
            with self.subTest(args=args):
                result = self.cli(*args, check=False)
                self.assertEqual(result.returncode, status, result.stderr)
                if message:
                    self.assertIn(message, result.stderr)
        self.assertEqual(self.daemon.show(), [])
        self.cli("create", "etherip0")
        result = self.cli("create", "etherip0", check=False)
        self.assertEqual(result.returncode, 1)
        unreachable = run(ETHERIP, "-s", f"{self.lab.tmp}/none.sock", "show",
                          check=False)
        self.assertEqual(unreachable.returncode, 1)

    def test_carrier_follows_running(self):
        self.cli("create", "etherip0")
        self.assertEqual(carrier(self.ns, "etherip0"), "")  # down: no carrier
        self.cli("set", "etherip0", "up")
        self.assertEqual(carrier(self.ns, "etherip0"), "0")
        self.assertFalse(self.daemon.show("etherip0")[0]["running"])
        self.cli("set", "etherip0", "tunnel", "192.0.2.1", "192.0.2.2")
        self.assertEqual(carrier(self.ns, "etherip0"), "1")
        self.assertTrue(self.daemon.show("etherip0")[0]["running"])
        self.cli("set", "etherip0", "-tunnel")
        self.assertEqual(carrier(self.ns, "etherip0"), "0")

    def test_mtu_and_lladdr(self):
        self.cli("create", "etherip0", "mtu", "1400", "lladdr",
                 "fe:e1:ba:d0:00:01")
        shown = self.daemon.show("etherip0")[0]
        self.assertEqual(shown["mtu"], 1400)
        self.assertEqual(shown["lladdr"], "fe:e1:ba:d0:00:01")
        self.assertEqual(run("cat", "/sys/class/net/etherip0/mtu",
                             ns=self.ns).stdout.strip(), "1400")

    def test_link_deleted_behind_the_daemon(self):
        self.cli("create", "etherip0", "tunnel", "192.0.2.1", "192.0.2.2",
                 "up")
        run("ip", "link", "del", "etherip0", ns=self.ns)
        deadline = time.time() + 5
        while time.time() < deadline and self.daemon.show():
            time.sleep(0.1)
        self.assertEqual(self.daemon.show(), [])
        # The daemon is not spinning on a dead fd.
        pid = self.daemon_pid()
        before = self.cpu_ticks(pid)
        time.sleep(1.0)
        self.assertLess(self.cpu_ticks(pid) - before, 30)
        # And the name can be used again.
        self.cli("create", "etherip0")

    def daemon_pid(self):
        # `ip netns exec` execs the daemon in place: same pid.
        return self.daemon.process.pid

    def cpu_ticks(self, pid):
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])

    def test_sigterm_removes_interfaces_and_exits_zero(self):
        self.cli("create", "etherip0", "tunnel", "192.0.2.1", "192.0.2.2")
        self.cli("create", "etherip1")
        self.assertEqual(self.daemon.stop(signal.SIGTERM), 0)
        self.assertFalse(link_exists(self.ns, "etherip0"))
        self.assertFalse(link_exists(self.ns, "etherip1"))
        self.assertFalse(os.path.exists(self.daemon.socket))

    def test_second_daemon_refuses_and_stale_socket_is_replaced(self):
        second = self.lab.daemon(self.ns)
        second.socket = self.daemon.socket
        self.assertEqual(second.start(expect_ok=False), 1)
        self.assertIn("another etheripd", second.read_log())
        self.daemon.process.kill()
        self.daemon.process.wait()
        self.assertTrue(os.path.exists(self.daemon.socket))
        third = self.lab.daemon(self.ns)
        third.socket = self.daemon.socket
        third.start()
        self.assertEqual(third.show(), [])

    def test_restart_from_showconf_restores_state(self):
        self.cli("create", "etherip0", "tunnel", "192.0.2.1", "192.0.2.2",
                 "up")
        self.cli("create", "etherip1", "tunnel", "2001:db8::1", "2001:db8::2",
                 "mtu", "1400")
        self.cli("allow", "1")
        before = self.daemon.show()
        conf = self.cli("showconf").stdout
        self.assertIn("lladdr", conf)
        self.assertEqual(self.daemon.stop(), 0)
        restarted = self.lab.daemon(self.ns, conf)
        restarted.start()
        after = restarted.show()
        strip = lambda views: [{k: v for k, v in i.items() if k != "counters"}
                               for i in views]
        self.assertEqual(strip(after), strip(before))
        self.assertEqual(restarted.cli("allow", json_output=True),
                         {"allow": True})

    def test_reload_applies_only_the_difference(self):
        conf = ('allow = true\n\n[[interface]]\nname = "etherip0"\n'
                'source = "192.0.2.1"\ndestination = "192.0.2.2"\n'
                'lladdr = "fe:e1:ba:d0:00:01"\nup = true\n')
        self.daemon.write_config(conf)
        self.cli("reload")
        index = run("cat", "/sys/class/net/etherip0/ifindex",
                    ns=self.ns).stdout
        self.cli("create", "etherip5")
        self.cli("set", "etherip0", "mtu", "1400")
        self.cli("allow", "0")
        self.cli("reload")
        shown = self.daemon.show()
        self.assertEqual([i["name"] for i in shown], ["etherip0"])
        self.assertEqual(shown[0]["mtu"], 1500)
        self.assertEqual(run("cat", "/sys/class/net/etherip0/ifindex",
                             ns=self.ns).stdout, index)
        self.assertFalse(link_exists(self.ns, "etherip5"))
        self.assertEqual(self.cli("allow").stdout.strip(), "1")

    def test_broken_file_on_reload_changes_nothing(self):
        self.cli("create", "etherip0", "tunnel", "192.0.2.1", "192.0.2.2")
        before = self.daemon.show()
        broken = ('allow = true\n[[interface]]\nname = "etherip0"\n'
                  'source = "192.0.2.1"\ndestination = "2001:db8::2"\n')
        self.daemon.write_config(broken)
        result = self.cli("reload", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr,
                         re.escape(self.daemon.config) + r":\d+: ")
        self.daemon.write_config("allow = true\n[[interface]\nname = 3\n")
        result = self.cli("reload", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{self.daemon.config}:2", result.stderr)
        os.kill(self.daemon.process.pid, signal.SIGHUP)
        time.sleep(0.5)
        self.assertEqual(self.daemon.show(), before)
        self.assertEqual(self.cli("allow").stdout.strip(), "0")

    def test_bad_slow_and_half_sent_requests_harm_nobody(self):
        import json
        import socket

        def connect():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(15)
            s.connect(self.daemon.socket)
            return s

        def read_lines(s, count=1):
            data = b""
            while data.count(b"\n") < count:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return data

        def read_line(s):
            return read_lines(s, 1)

        half = connect()
        half.sendall(b'{"op":"sh')  # and never finish
        garbage = connect()
        garbage.sendall(b"this is not json\n")
        answer = json.loads(read_line(garbage))
        self.assertFalse(answer["ok"])
        self.assertEqual(answer["error"]["errno"], "EPROTO")
        huge = connect()
        try:
            huge.sendall(b"x" * (2 << 20))
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_line(huge)
        self.assertIn(b"EPROTO", answer)
        # Several requests on one connection, then others still served.
        both = connect()
        both.sendall(b'{"op":"stats"}\n{"op":"allow"}\n')
        answers = [json.loads(line) for line in read_lines(both, 2).split()]
        self.assertEqual(len(answers), 2)
        self.assertIn("stats", answers[0])
        self.assertEqual(answers[1]["allow"], False)
        self.cli("create", "etherip0")
        self.assertEqual([i["name"] for i in self.daemon.show()], ["etherip0"])
        # The half-sent request is dropped after the daemon's timeout.
        half.settimeout(30)
        self.assertEqual(half.recv(100), b"")
        for s in (half, garbage, huge, both):
            s.close()
        self.assertIsNone(self.daemon.process.poll())

    def test_invalid_config_refused_at_start(self):
        other = self.lab.netns("x")
        bad = self.lab.daemon(other, 'allow = true\nbogus = 1\n')
        self.assertEqual(bad.start(expect_ok=False), 1)
        self.assertRegex(bad.read_log(), re.escape(bad.config) + r":2: ")
        missing = self.lab.daemon(other)
        missing.config = f"{self.lab.tmp}/does-not-exist.conf"
        self.assertEqual(missing.start(expect_ok=False), 1)


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class DomainTest(unittest.TestCase):
    """A tunnel whose outer packets live in another namespace (domain)."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def test_tunnel_in_another_namespace(self):
        lab = self.lab
        router = lab.netns("r")      # the daemon and its TAP
        underlay = lab.netns("u")    # the domain: outer packets live here
        peer = lab.netns("p")        # the far end, a plain etheripd
        lab.veth(underlay, lab.name("u0"), peer, lab.name("p0"))
        lab.addr(underlay, lab.name("u0"), "203.0.113.1/24")
        lab.addr(peer, lab.name("p0"), "203.0.113.2/24")
        near = lab.daemon(router, f'allow = true\n[[interface]]\n'
                          f'name = "etherip0"\nsource = "203.0.113.1"\n'
                          f'destination = "203.0.113.2"\n'
                          f'domain = "{underlay}"\nup = true\n')
        far = lab.daemon(peer, 'allow = true\n[[interface]]\n'
                         'name = "etherip0"\nsource = "203.0.113.2"\n'
                         'destination = "203.0.113.1"\nup = true\n')
        near.start()
        far.start()
        lab.addr(router, "etherip0", "198.51.100.1/24")
        lab.addr(peer, "etherip0", "198.51.100.2/24")
        run("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.51.100.2",
            ns=router)
        shown = near.show("etherip0")[0]
        self.assertEqual(shown["domain"], underlay)
        self.assertTrue(shown["running"])
        # The same key in the daemon's own namespace is another tunnel.
        near.cli("create", "etherip1", "tunnel", "203.0.113.1", "203.0.113.2")
        dup = near.cli("create", "etherip2", "tunnel", "203.0.113.1",
                       "203.0.113.2", "domain", underlay, check=False)
        self.assertEqual(dup.returncode, 1)
        # Deleting the domain stops the interface running.
        for pid in run("ip", "netns", "pids", underlay).stdout.split():
            os.kill(int(pid), signal.SIGKILL)
        run("ip", "netns", "del", underlay)
        lab.namespaces.remove(underlay)
        deadline = time.time() + 5
        while time.time() < deadline and near.show("etherip0")[0]["running"]:
            time.sleep(0.1)
        self.assertFalse(near.show("etherip0")[0]["running"])


if __name__ == "__main__":
    unittest.main()

"""End to end: once started, etheripd keeps only the privileges it needs
(SPEC 8, "Privileges") on every thread: a few capabilities, no_new_privs and
its system call filter, optionally as another user; and everything it does
at run time still works so: TAPs, link changes, domains (setns), the
disable_ipv6 sysctl, `save` of a root-owned file, reload, SIGTERM."""

import glob
import os
import signal
import tomllib
import unittest

from netlab import Lab, is_root, run, wait_until

CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER = 0, 1, 3
CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN = 12, 13, 21
EFFECTIVE = 1 << CAP_NET_ADMIN | 1 << CAP_NET_RAW
PERMITTED = (EFFECTIVE | 1 << CAP_SYS_ADMIN | 1 << CAP_DAC_OVERRIDE
             | 1 << CAP_CHOWN | 1 << CAP_FOWNER)
NOBODY = 65534


def thread_statuses(pid):
    """{tid: {field: value}} from /proc/PID/task/*/status."""
    statuses = {}
    for path in glob.glob(f"/proc/{pid}/task/*/status"):
        fields = {}
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(":")
                    fields[key] = value.strip()
        except FileNotFoundError:
            continue  # a thread that just ended
        statuses[int(path.split("/")[4])] = fields
    return statuses


def is_sanitizer_build(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class PrivilegesTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def assert_least_privilege(self, daemon, uid):
        pid = daemon.process.pid  # `ip netns exec` execs etheripd
        statuses = thread_statuses(pid)
        # Main, forwarding, logging (and its flusher), device reaper.
        self.assertGreaterEqual(len(statuses), 3, statuses.keys())
        sanitizer = is_sanitizer_build(pid)
        for tid, status in statuses.items():
            with self.subTest(thread=tid, name=status["Name"]):
                self.assertEqual(int(status["CapEff"], 16), EFFECTIVE)
                self.assertEqual(int(status["CapPrm"], 16), PERMITTED)
                self.assertEqual(int(status["CapInh"], 16), 0)
                self.assertEqual(int(status["CapBnd"], 16), 0)
                self.assertEqual(int(status["CapAmb"], 16), 0)
                self.assertEqual(status["NoNewPrivs"], "1")
                self.assertEqual(status["Uid"].split(), [str(uid)] * 4)
                self.assertEqual(status["Gid"].split(), [str(uid)] * 4)
                if uid != 0:
                    self.assertEqual(status["Groups"], "")
                if not sanitizer:
                    self.assertEqual(status["Seccomp"], "2")  # filter
        if sanitizer:
            print("\nsanitizer build: no system call filter to check "
                  "(SPEC 8)")
            self.assertIn("system call filter: off (sanitizer build)",
                          daemon.read_log())
        else:
            self.assertIn("others fail with EPERM", daemon.read_log())

    def exercise(self, user_line, uid):
        lab = self.lab
        router = lab.netns("r")      # the daemon under test and its TAPs
        underlay = lab.netns("u")    # a domain: its outer packets live here
        peer = lab.netns("p")        # the far end, a plain etheripd
        lab.veth(underlay, lab.name("u0"), peer, lab.name("p0"))
        lab.addr(underlay, lab.name("u0"), "203.0.113.1/24")
        lab.addr(peer, lab.name("p0"), "203.0.113.2/24")
        # Root-owned, mode 0600, in the lab's 0700 root directory: a daemon
        # running as nobody reaches it only through the capabilities it
        # raises for that (CAP_DAC_OVERRIDE, CAP_CHOWN).
        near = lab.daemon(router, user_line + "allow = true\nsave = true\n"
                          "disable_ipv6 = true\n")
        os.chmod(near.config, 0o600)
        far = lab.daemon(peer, 'allow = true\n[[interface]]\n'
                         'name = "etherip0"\nsource = "203.0.113.2"\n'
                         'destination = "203.0.113.1"\nup = true\n')
        near.start()
        far.start()
        self.assert_least_privilege(near, uid)

        # A tunnel in a domain made at run time: setns() in and out.
        near.cli("create", "etherip0", "tunnel", "203.0.113.1", "203.0.113.2",
                 "domain", underlay, "up")
        lab.addr(router, "etherip0", "198.51.100.1/24")
        lab.addr(peer, "etherip0", "198.51.100.2/24")
        run("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.51.100.2",
            ns=router)
        shown = near.show("etherip0")[0]
        self.assertEqual(shown["domain"], underlay)
        self.assertTrue(shown["running"])
        # Outer header options: per-packet control messages (SO_MARK takes
        # CAP_NET_RAW or CAP_NET_ADMIN) and the DF mode's setsockopt().
        near.cli("set", "etherip0", "ttl", "9", "df", "tos", "inherit",
                 "fwmark", "7")
        run("ping", "-c", "2", "-i", "0.2", "-W", "2", "198.51.100.2",
            ns=router)
        self.assertEqual(near.show("etherip0")[0]["counters"]["oerrors"], 0)
        # The disable_ipv6 sysctl of an interface made at run time.
        self.assertEqual(run("cat", "/proc/sys/net/ipv6/conf/etherip0/"
                             "disable_ipv6", ns=router).stdout.strip(), "1")
        # Link changes; another TAP made and removed.
        near.cli("set", "etherip0", "mtu", "1400")
        self.assertEqual(near.show("etherip0")[0]["mtu"], 1400)
        near.cli("create", "etherip1", "tunnel", "192.0.2.1", "192.0.2.2")
        near.cli("destroy", "etherip1")
        self.assertEqual([i["name"] for i in near.show()], ["etherip0"])
        # `save` rewrote the root-owned file and kept its owner and mode.
        info = os.stat(near.config)
        self.assertEqual((info.st_uid, info.st_gid, info.st_mode & 0o777),
                         (0, 0, 0o600))
        with open(near.config, "rb") as f:
            saved = tomllib.load(f)
        self.assertEqual([i["name"] for i in saved["interface"]],
                         ["etherip0"])
        self.assertEqual(saved["interface"][0]["mtu"], 1400)
        if user_line:
            self.assertEqual(saved["user"], "nobody")
        # Reload reads the root-only file; changing the user is refused.
        near.cli("reload")
        with open(near.config) as f:
            text = f.read()
        with open(near.config, "w") as f:
            f.write(text.replace(user_line, "") if user_line
                    else 'user = "nobody"\n' + text)
        refused = near.cli("reload", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("needs a restart", refused.stderr)
        self.assert_least_privilege(near, uid)  # still, after all that

        # SIGTERM: exit 0, the link group deleted, the socket removed.
        self.assertEqual(near.stop(signal.SIGTERM), 0, near.read_log())
        links = run("ip", "-o", "link", "show", ns=router).stdout
        self.assertNotIn("etherip", links)
        self.assertFalse(os.path.exists(near.socket))

    def test_as_root_keeps_only_the_capabilities_it_needs(self):
        self.exercise("", 0)

    def test_as_nobody_everything_still_works(self):
        self.exercise('user = "nobody"\n', NOBODY)

    def test_an_unknown_user_is_refused_at_start_with_file_and_line(self):
        ns = self.lab.netns("x")
        daemon = self.lab.daemon(
            ns, 'allow = true\nuser = "no-such-user-eip"\n')
        self.assertEqual(daemon.start(expect_ok=False), 1)
        self.assertIn(f"{daemon.config}:2: user no-such-user-eip: no such "
                      "user", daemon.read_log())

    def test_a_numeric_uid_is_a_user(self):
        ns = self.lab.netns("n")
        daemon = self.lab.daemon(ns, f"user = {NOBODY}\n")
        daemon.start()
        self.assert_least_privilege(daemon, NOBODY)
        self.assertIn(f'user = "{NOBODY}"', daemon.cli("showconf").stdout)
        self.assertEqual(daemon.stop(), 0)
        self.assertTrue(wait_until(lambda: not os.path.exists(daemon.socket)))


if __name__ == "__main__":
    unittest.main()

"""End to end: who may use the control socket (SPEC 8, control_group).

The CLI runs as nobody (uid 65534) through setpriv: outside the control
group it is refused, by the socket file's permissions and, with the file
made world-writable, by the daemon's own credential check; with the group
as a supplementary or primary group it is served. The group is a GID
nobody uses, so /etc/group is never touched."""

import os
import subprocess
import unittest

from netlab import ETHERIP, Lab, is_root, run

NOBODY = 65534

# A control client that stays connected: one request answered, then "ready";
# after a line on stdin, a second request: "answered" or "closed".
CONNECTED_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
reader = s.makefile("rb")
s.sendall(b'{"op":"stats"}\n')
assert b'"ok"' in reader.readline(), "first request not answered"
print("ready", flush=True)
sys.stdin.readline()
try:
    s.sendall(b'{"op":"stats"}\n')
    line = reader.readline()
except OSError:
    line = b""
print("answered" if line else "closed", flush=True)
"""


def unused_gids(count, start=4242):
    """`count` GIDs no group has (getent exits 2 for an unknown key)."""
    found = []
    gid = start
    while len(found) < count:
        if run("getent", "group", gid, check=False).returncode == 2:
            found.append(gid)
        gid += 1
    return found


def as_user(argv, uid=NOBODY, gid=NOBODY, groups=()):
    """argv run as uid/gid with exactly the supplementary `groups`."""
    group_args = ([f"--groups={','.join(str(g) for g in groups)}"] if groups
                  else ["--clear-groups"])
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", *group_args,
            *[str(a) for a in argv]]


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class ControlAccessTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        os.chmod(self.lab.tmp, 0o755)  # nobody must reach the socket
        self.gid, self.other_gid = unused_gids(2)
        self.ns = self.lab.netns("r")
        self.daemon = self.lab.daemon(
            self.ns, f'control_group = "{self.gid}"\n')
        self.daemon.start()

    def cli_as(self, *args, gid=NOBODY, groups=()):
        return run(*as_user([ETHERIP, "-s", self.daemon.socket, *args],
                            gid=gid, groups=groups), check=False)

    def assert_refused(self, result, message):
        self.assertEqual(result.returncode, 1, result)
        self.assertIn(message, result.stderr)
        self.assertEqual(result.stdout, "")

    def state(self):
        return (self.daemon.show(), self.daemon.cli("allow").stdout,
                self.daemon.cli("showconf").stdout)

    def test_socket_belongs_to_the_group(self):
        info = os.stat(self.daemon.socket)
        self.assertEqual(info.st_mode & 0o7777, 0o660)
        self.assertEqual(info.st_gid, self.gid)
        self.assertEqual(info.st_uid, 0)

    def test_outsider_is_refused_by_the_socket_file(self):
        before = self.state()
        for args in (("show",), ("stats",),
                     ("create", "etherip9", "tunnel", "192.0.2.1",
                      "192.0.2.9"), ("allow", "1")):
            self.assert_refused(self.cli_as(*args),
                                f"{self.daemon.socket}: permission denied")
        self.assertEqual(self.state(), before)

    def test_outsider_is_refused_by_the_daemon(self):
        # The file lets everyone in: only the daemon's check stands.
        os.chmod(self.daemon.socket, 0o666)
        before = self.state()
        message = (f"etherip: permission denied: uid {NOBODY} is not root "
                   f"and not in group {self.gid}")
        for args in (("show",), ("stats",), ("showconf",),
                     ("create", "etherip9", "tunnel", "192.0.2.1",
                      "192.0.2.9"), ("allow", "1"), ("reload",)):
            self.assert_refused(self.cli_as(*args), message)
        # A member of another group is no better.
        self.assert_refused(self.cli_as("show", groups=[self.other_gid]),
                            message)
        self.assertEqual(self.state(), before)
        self.assertIn(f"uid {NOBODY} is not root", self.daemon.read_log())

    def test_supplementary_member_is_served(self):
        result = self.cli_as("create", "etherip1", "tunnel", "192.0.2.1",
                             "192.0.2.2", groups=[self.other_gid, self.gid])
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual([i["name"] for i in self.daemon.show()],
                         ["etherip1"])
        shown = self.cli_as("show", groups=[self.gid])
        self.assertEqual(shown.returncode, 0, shown)
        self.assertIn("etherip1", shown.stdout)

    def test_primary_member_is_served(self):
        result = self.cli_as("stats", gid=self.gid)
        self.assertEqual(result.returncode, 0, result)
        self.assertIn("ipackets", result.stdout)

    def test_showconf_and_save_keep_the_group(self):
        self.assertIn(f'\ncontrol_group = "{self.gid}"\n',
                      self.daemon.cli("showconf").stdout)
        self.daemon.write_config(f'save = true\ncontrol_group = "{self.gid}"\n')
        self.daemon.cli("reload")
        self.daemon.cli("allow", "1")
        with open(self.daemon.config) as f:
            self.assertIn(f'control_group = "{self.gid}"', f.read())

    def test_reload_changes_the_group(self):
        self.daemon.write_config(f'control_group = "{self.other_gid}"\n')
        self.daemon.cli("reload")
        info = os.stat(self.daemon.socket)
        self.assertEqual((info.st_mode & 0o7777, info.st_gid),
                         (0o660, self.other_gid))
        self.assertEqual(self.cli_as("stats", groups=[self.other_gid])
                         .returncode, 0)
        os.chmod(self.daemon.socket, 0o666)
        self.assert_refused(self.cli_as("stats", groups=[self.gid]),
                            f"not in group {self.other_gid}")
        # Without the key: root only again.
        self.daemon.write_config("")
        self.daemon.cli("reload")
        info = os.stat(self.daemon.socket)
        self.assertEqual((info.st_mode & 0o7777, info.st_gid), (0o600, 0))
        os.chmod(self.daemon.socket, 0o666)
        self.assert_refused(self.cli_as("stats", groups=[self.other_gid]),
                            f"permission denied: uid {NOBODY} is not root")
        self.assertNotIn("control_group", self.daemon.cli("showconf").stdout)

    def open_connection_as_member(self):
        """A client of the group, connected and answered once, that waits
        for a line on stdin before it asks again; it prints what that
        second request got: "answered" or "closed"."""
        client = subprocess.Popen(
            ["python3", "-c", CONNECTED_CLIENT, self.daemon.socket],
            user=NOBODY, group=NOBODY, extra_groups=[self.gid],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(client.wait, 30)
        self.addCleanup(client.kill)
        self.assertEqual(client.stdout.readline(), "ready\n")
        return client

    def second_request(self, client):
        out, _ = client.communicate("go\n", timeout=30)
        return out.strip()

    def test_narrowing_the_group_closes_open_connections(self):
        client = self.open_connection_as_member()
        self.daemon.write_config(f'control_group = "{self.other_gid}"\n')
        self.daemon.cli("reload")
        self.assertEqual(self.second_request(client), "closed")
        self.assertIn("closing 1 connections", self.daemon.read_log())

    def test_a_reload_that_keeps_the_group_keeps_connections(self):
        client = self.open_connection_as_member()
        self.daemon.write_config(
            f'control_group = "{self.gid}"\nallow = true\n')
        self.daemon.cli("reload")
        self.assertEqual(self.second_request(client), "answered")

    def test_a_refused_reload_keeps_the_group(self):
        self.daemon.write_config(
            f'control_group = "{self.other_gid}"\nallow = maybe\n')
        self.assertEqual(self.daemon.cli("reload", check=False).returncode, 1)
        self.assertEqual(os.stat(self.daemon.socket).st_gid, self.gid)
        self.assertEqual(self.cli_as("stats", groups=[self.gid]).returncode,
                         0)

    def test_an_unknown_group_is_refused_at_start(self):
        daemon = self.lab.daemon(
            self.lab.netns("bad"),
            'allow = true\ncontrol_group = "no-such-group-etherip"\n')
        self.assertEqual(daemon.start(expect_ok=False), 1)
        self.assertIn(f'{daemon.config}:2: control_group: no such group '
                      '"no-such-group-etherip"', daemon.read_log())


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class DefaultAccessTest(unittest.TestCase):

    def test_without_a_group_only_root(self):
        with Lab() as lab:
            os.chmod(lab.tmp, 0o755)
            daemon = lab.daemon(lab.netns("r"), "")
            daemon.start()
            self.assertEqual(os.stat(daemon.socket).st_mode & 0o7777, 0o600)
            argv = [ETHERIP, "-s", daemon.socket, "stats"]
            result = run(*as_user(argv, groups=[0]), check=False)
            self.assertEqual(result.returncode, 1)
            self.assertIn("permission denied", result.stderr)
            os.chmod(daemon.socket, 0o666)
            result = run(*as_user(argv, gid=0, groups=[0]), check=False)
            self.assertEqual(result.returncode, 1)
            self.assertIn(f"etherip: permission denied: uid {NOBODY} is not "
                          "root\n", result.stderr)
            self.assertEqual(daemon.cli("stats").returncode, 0)


if __name__ == "__main__":
    unittest.main()

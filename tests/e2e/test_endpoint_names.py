"""End to end: tunnel endpoints given as host names, and link-local IPv6
endpoints with a zone (SPEC 8, "Host names and zones").

The daemons run under `ip netns exec NS`, which bind-mounts the files of
/etc/netns/NS over those of /etc for what it starts: each test gives its
daemon a hosts file there (and an nsswitch.conf that asks only files, so
no DNS query leaves), and changes it in place (the same inode: the bind
mount shows the new text) to move a peer. Names are under .test (RFC
2606), addresses in the documentation ranges (SPEC 7)."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

from netlab import Lab, is_root, refused_calls, run, wait_until

ETC_NETNS = "/etc/netns"


class EtcFiles:
    """/etc/netns/NS: the files `ip netns exec NS` puts over /etc's."""

    def __init__(self, test, ns, nsswitch="hosts: files\n", resolv=None):
        self.dir = os.path.join(ETC_NETNS, ns)
        os.makedirs(self.dir)
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.write("hosts", "")
        self.write("nsswitch.conf", nsswitch)
        if resolv is not None:
            self.write("resolv.conf", resolv)

    def write(self, name, text):
        """Writes in place: the bind mount a daemon already has shows the
        file's inode, which a rename would replace."""
        path = os.path.join(self.dir, name)
        mode = "r+" if os.path.exists(path) else "w"
        with open(path, mode) as f:
            f.seek(0)
            f.write(text)
            f.truncate()

    def hosts(self, entries):
        self.write("hosts", "".join(f"{address} {name}\n"
                                    for name, address in entries.items()))


def pings(ns, target, timeout=20):
    """True once `target` answers a ping from `ns` within `timeout` s."""
    return wait_until(lambda: run("ping", "-c", 1, "-W", 1, target, ns=ns,
                                  check=False).returncode == 0,
                      timeout=timeout)


class NameLab:
    """Routers A and B joined by a veth (192.0.2.1 and 192.0.2.2/.3); A's
    daemon reaches B by the name peer-b.test."""

    def __init__(self, test, config_a_extra="", interval=1):
        lab = test.lab
        self.test = test
        self.a = lab.netns("a")
        self.b = lab.netns("b")
        self.files_a = EtcFiles(test, self.a)
        self.files_a.hosts({"peer-b.test": "192.0.2.2"})
        self.ua, self.ub = lab.name("ua"), lab.name("ub")
        lab.veth(self.a, self.ua, self.b, self.ub)
        lab.addr(self.a, self.ua, "192.0.2.1/24")
        lab.addr(self.b, self.ub, "192.0.2.2/24")
        self.daemon_a = lab.daemon(self.a, f"""allow = true
resolve_interval = {interval}

[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "peer-b.test"
up = true
""" + config_a_extra)
        self.daemon_b = lab.daemon(self.b, """allow = true

[[interface]]
name = "etherip0"
source = "192.0.2.2"
destination = "192.0.2.1"
up = true
""")
        self.daemon_a.start()
        self.daemon_b.start()
        lab.addr(self.a, "etherip0", "198.51.100.1/24")
        lab.addr(self.b, "etherip0", "198.51.100.2/24")

    def interface(self, daemon, name):
        return daemon.show(name)[0]


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class HostNameTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def test_a_changed_hosts_entry_moves_the_tunnel(self):
        net = NameLab(self)
        a, b = net.daemon_a, net.daemon_b
        self.assertTrue(pings(net.a, "198.51.100.2"), a.read_log())
        shown = net.interface(a, "etherip0")
        self.assertEqual(shown["destination"], "peer-b.test")
        self.assertEqual(shown["destination_address"], "192.0.2.2")
        self.assertEqual(shown["unresolved"], "")
        self.assertTrue(shown["running"])
        self.assertIn("tunnel inet 192.0.2.1 -> peer-b.test (192.0.2.2)",
                      a.cli("show", "etherip0").stdout)

        # B moves to 192.0.2.3: A's packets to .2 go nowhere until the
        # name says where B is now.
        # (The old address goes first: deleting a primary address deletes
        # the secondaries of its subnet with it.)
        run("ip", "addr", "del", "192.0.2.2/24", "dev", net.ub, ns=net.b)
        self.lab.addr(net.b, net.ub, "192.0.2.3/24")
        b.cli("set", "etherip0", "tunnel", "192.0.2.3", "192.0.2.1")
        net.files_a.hosts({"peer-b.test": "192.0.2.3"})
        self.assertTrue(wait_until(
            lambda: net.interface(a, "etherip0")["destination_address"]
            == "192.0.2.3", timeout=10), a.read_log())
        self.assertTrue(pings(net.a, "198.51.100.2"), a.read_log())
        self.assertIn("etherip0: tunnel 192.0.2.1 -> peer-b.test: moved from "
                      "192.0.2.1 -> 192.0.2.2 to 192.0.2.1 -> 192.0.2.3",
                      a.read_log())
        # What is configured, and saved, is the name.
        showconf = a.cli("showconf").stdout
        self.assertIn('destination = "peer-b.test"\n', showconf)
        self.assertIn("resolve_interval = 1\n", showconf)
        self.assertNotIn("192.0.2.3", showconf)
        records = refused_calls(a.pids, 0)
        if records is not None:
            self.assertEqual(records, [])

    def test_a_name_that_does_not_resolve_leaves_the_tunnel_not_running(self):
        # Not refused at start...
        net = NameLab(self, config_a_extra="""
[[interface]]
name = "etherip1"
source = "192.0.2.1"
destination = "never.test"
up = true
""")
        a = net.daemon_a
        self.assertTrue(wait_until(
            lambda: net.interface(a, "etherip1")["unresolved"]
            == "never.test: Name or service not known"), a.read_log())
        self.assertFalse(net.interface(a, "etherip1")["running"])
        # ...nor on create.
        a.cli("create", "etherip2", "tunnel", "192.0.2.1", "later.test", "up")
        self.assertTrue(wait_until(
            lambda: net.interface(a, "etherip2")["unresolved"]
            == "later.test: Name or service not known"), a.read_log())
        shown = net.interface(a, "etherip2")
        self.assertFalse(shown["running"])
        self.assertEqual(shown["destination"], "later.test")
        self.assertEqual(shown["destination_address"], "")
        self.assertIn("\ttunnel: 192.0.2.1 -> later.test (unresolved: "
                      "later.test: Name or service not known)\n",
                      a.cli("show", "etherip2").stdout)
        self.assertIn("<UP>", a.cli("show", "etherip2").stdout)
        # Once it resolves, the tunnel starts.
        net.files_a.hosts({"peer-b.test": "192.0.2.2",
                           "later.test": "192.0.2.7"})
        self.assertTrue(wait_until(
            lambda: net.interface(a, "etherip2")["running"], timeout=15),
            a.read_log())
        self.assertEqual(net.interface(a, "etherip2")["destination_address"],
                         "192.0.2.7")
        self.assertIn("etherip2: tunnel 192.0.2.1 -> later.test: resolved to "
                      "192.0.2.1 -> 192.0.2.7", a.read_log())
        self.assertFalse(net.interface(a, "etherip1")["running"])

    def test_a_name_resolving_to_another_tunnels_key_waits(self):
        net = NameLab(self)
        a = net.daemon_a
        a.cli("create", "etherip3", "tunnel", "192.0.2.1", "192.0.2.9", "up")
        net.files_a.hosts({"peer-b.test": "192.0.2.2",
                           "clash.test": "192.0.2.9"})
        a.cli("create", "etherip4", "tunnel", "192.0.2.1", "clash.test", "up")
        self.assertTrue(wait_until(
            lambda: net.interface(a, "etherip4")["unresolved"]
            == "192.0.2.1 -> 192.0.2.9 is in use by etherip3"), a.read_log())
        self.assertFalse(net.interface(a, "etherip4")["running"])
        self.assertTrue(net.interface(a, "etherip3")["running"])
        # The tunnel of literals goes: the named one takes its addresses.
        a.cli("destroy", "etherip3")
        self.assertTrue(wait_until(
            lambda: net.interface(a, "etherip4")["running"]), a.read_log())
        self.assertEqual(net.interface(a, "etherip4")["destination_address"],
                         "192.0.2.9")
        # Two names for one peer: the second waits for the first.
        net.files_a.hosts({"peer-b.test": "192.0.2.2",
                           "clash.test": "192.0.2.9",
                           "alias-b.test": "192.0.2.2"})
        a.cli("create", "etherip5", "tunnel", "192.0.2.1", "alias-b.test",
              "up")
        self.assertTrue(wait_until(
            lambda: net.interface(a, "etherip5")["unresolved"]
            == "192.0.2.1 -> 192.0.2.2 is in use by etherip0"), a.read_log())
        self.assertTrue(pings(net.a, "198.51.100.2"))


DNS_SERVER = r"""
import socket, struct, sys
host, name, answer = sys.argv[1], sys.argv[2], socket.inet_aton(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, 53))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(512)
    if len(data) < 17:
        continue
    i, labels = 12, []
    while i < len(data) and data[i]:
        labels.append(data[i + 1:i + 1 + data[i]].decode().lower())
        i += 1 + data[i]
    qtype = struct.unpack("!H", data[i + 1:i + 3])[0]
    question = data[12:i + 5]
    found = ".".join(labels) == name
    records = b""
    if found and qtype == 1:
        records = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 1, 4) + answer
    header = struct.pack("!HHHHHH", struct.unpack("!H", data[:2])[0],
                         0x8180 | (0 if found else 3), 1,
                         1 if records else 0, 0, 0)
    s.sendto(header + question + records, peer)
"""


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class DnsInTheDomainTest(unittest.TestCase):
    """A name is looked up from inside the tunnel's domain: the only DNS
    server is in that network namespace, unreachable from the daemon's."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def test_a_name_is_looked_up_in_the_tunnels_domain(self):
        lab = self.lab
        home = lab.netns("d")     # the daemon and its interface
        domain = lab.netns("u")   # the underlay: outer packets, DNS server
        EtcFiles(self, home, nsswitch="hosts: files dns\n",
                 resolv="nameserver 192.0.2.53\n"
                        "options timeout:1 attempts:2\n")
        lab.addr(domain, "lo", "192.0.2.53/32")
        lab.addr(domain, "lo", "192.0.2.1/32")
        server = subprocess.Popen(
            ["ip", "netns", "exec", domain, sys.executable, "-c", DNS_SERVER,
             "192.0.2.53", "peer.test", "198.51.100.77"],
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (server.kill(), server.wait()))
        self.assertEqual(server.stdout.readline().strip(), "ready")
        daemon = lab.daemon(home, "allow = true\nresolve_interval = 1\n")
        daemon.start()
        # The daemon's own namespace has no route to the server.
        self.assertNotEqual(run("ping", "-c", 1, "-W", 1, "192.0.2.53",
                                ns=home, check=False).returncode, 0)
        daemon.cli("create", "etherip0", "tunnel", "192.0.2.1", "peer.test",
                   "domain", domain, "up")
        self.assertTrue(wait_until(
            lambda: daemon.show("etherip0")[0]["running"], timeout=15),
            daemon.read_log())
        self.assertEqual(daemon.show("etherip0")[0]["destination_address"],
                         "198.51.100.77")
        # A name the server does not know.
        daemon.cli("create", "etherip1", "tunnel", "192.0.2.1", "other.test",
                   "domain", domain, "up")
        self.assertTrue(wait_until(
            lambda: daemon.show("etherip1")[0]["unresolved"]
            == "other.test: Name or service not known", timeout=15),
            daemon.read_log())
        records = refused_calls(daemon.pids, 0)
        if records is not None:
            self.assertEqual(records, [])


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class ZoneTest(unittest.TestCase):
    """A tunnel between the fe80:: addresses of two ends of a veth."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def test_link_local_endpoints_with_a_zone_carry_frames(self):
        lab = self.lab
        a = lab.netns("a")
        b_home = lab.netns("bh")  # B's daemon; its underlay is domain b
        b = lab.netns("b")
        la, lb = lab.name("la"), lab.name("lb")
        lab.veth(a, la, b, lb)
        lab.addr(a, la, "fe80::a/64")
        lab.addr(b, lb, "fe80::b/64")
        daemon_a = lab.daemon(a, f"""allow = true

[[interface]]
name = "etherip0"
source = "fe80::a%{la}"
destination = "fe80::b%{la}"
up = true
""")
        # B's zone is an interface of its domain, looked up in there.
        daemon_b = lab.daemon(b_home, f"""allow = true

[[interface]]
name = "etherip0"
source = "fe80::b"
destination = "fe80::a%{lb}"
domain = "{b}"
up = true
""")
        daemon_a.start()
        daemon_b.start()
        lab.addr(a, "etherip0", "198.51.100.1/24")
        lab.addr(b_home, "etherip0", "198.51.100.2/24")
        self.assertTrue(wait_until(
            lambda: daemon_b.show("etherip0")[0]["running"]),
            daemon_b.read_log())
        self.assertTrue(pings(a, "198.51.100.2"),
                        daemon_a.read_log() + daemon_b.read_log())
        shown = daemon_a.show("etherip0")[0]
        self.assertEqual(shown["source"], f"fe80::a%{la}")
        self.assertEqual(shown["destination"], f"fe80::b%{la}")
        self.assertEqual(shown["destination_address"], "fe80::b")
        self.assertIn(f"tunnel inet6 fe80::a%{la} -> fe80::b%{la}\n",
                      daemon_a.cli("show").stdout)
        self.assertIn(f'destination = "fe80::a%{lb}"\n',
                      daemon_b.cli("showconf").stdout)
        self.assertGreater(daemon_b.show("etherip0")[0]["counters"]
                           ["ipackets"], 0)

        # The same addresses on another zone are the same tunnel: refused.
        result = daemon_a.cli("create", "etherip1", "tunnel", "fe80::a%lo",
                              "fe80::b", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("address not available", result.stderr)
        # A zone on an address that is not link-local.
        result = daemon_a.cli("create", "etherip1", "tunnel",
                              f"2001:db8::1%{la}", "2001:db8::2", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("a zone is only for IPv6 link-local addresses",
                      result.stderr)
        # A zone with no such interface: accepted, not running, says why.
        daemon_a.cli("create", "etherip2", "tunnel", "fe80::a%nosuch0",
                      "fe80::c", "up")
        self.assertTrue(wait_until(
            lambda: daemon_a.show("etherip2")[0]["unresolved"]
            == "zone nosuch0: No such device"), daemon_a.read_log())
        self.assertFalse(daemon_a.show("etherip2")[0]["running"])
        # It appears: the tunnel starts (retried every few seconds).
        run("ip", "link", "add", "nosuch0", "type", "bridge", ns=a)
        self.assertTrue(wait_until(
            lambda: daemon_a.show("etherip2")[0]["running"], timeout=15),
            daemon_a.read_log())


if __name__ == "__main__":
    unittest.main()

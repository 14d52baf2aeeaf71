"""End to end: faults around the daemon. The underlay changes under its
feet, its log destination stops reading; traffic must come back (or keep
flowing) with nothing done to the daemon."""

import fcntl
import os
import termios
import threading
import unittest

from netlab import Lab, TwoSites, is_root, run

# Generous: how long traffic may take to come back after a fault is
# repaired. Not a performance figure: a daemon that recovers at all does
# so within a second or two.
RESUME_TIMEOUT = 30
# How long the control socket may take to answer while the log is blocked.
ANSWER_TIMEOUT = 30


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class UnderlayFaultTest(unittest.TestCase):
    """Site A's underlay breaks and is repaired behind the daemons' backs."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def local(self, ipv6):
        return "2001:db8::1/64" if ipv6 else "192.0.2.1/24"

    def assert_traffic_stops(self, sites, fault):
        result = sites.ping(count=1, check=False)
        self.assertNotEqual(
            result.returncode, 0,
            f"ping still answered after {fault}: the fault did not cut the "
            f"underlay, the test proves nothing")

    def assert_traffic_resumes(self, sites, repair):
        pids = (sites.daemon_a.process.pid, sites.daemon_b.process.pid)
        self.assertTrue(
            sites.wait_for_ping(RESUME_TIMEOUT),
            f"no ping through the tunnel within {RESUME_TIMEOUT} s after "
            f"{repair}, with nothing done to the daemons.\nrouter A's "
            f"etheripd log (tail):\n"
            + "\n".join(sites.daemon_a.read_log().splitlines()[-20:]))
        sites.ping(count=3)
        # Nothing restarted behind our backs.
        self.assertIsNone(sites.daemon_a.process.poll())
        self.assertIsNone(sites.daemon_b.process.poll())
        self.assertEqual(pids, (sites.daemon_a.process.pid,
                                sites.daemon_b.process.pid))

    def address_removed_and_added_back(self, ipv6):
        sites = TwoSites(self.lab, ipv6=ipv6)
        sites.ping()
        address = self.local(ipv6)
        run("ip", "addr", "del", address, "dev", sites.underlay_a,
            ns=sites.router_a)
        self.assert_traffic_stops(sites, f"removing {address}")
        self.lab.addr(sites.router_a, sites.underlay_a, address)
        self.assert_traffic_resumes(sites, f"adding {address} back")

    def test_ipv4_underlay_address_removed_and_added_back(self):
        self.address_removed_and_added_back(ipv6=False)

    def test_ipv6_underlay_address_removed_and_added_back(self):
        self.address_removed_and_added_back(ipv6=True)

    def veth_deleted_and_recreated(self, ipv6):
        sites = TwoSites(self.lab, ipv6=ipv6)
        sites.ping()
        lab = self.lab
        # Deleting one end of a veth deletes both.
        run("ip", "link", "del", sites.underlay_a, ns=sites.router_a)
        self.assert_traffic_stops(sites, "deleting the underlay veth")
        lab.veth(sites.router_a, sites.underlay_a, sites.router_b,
                 sites.underlay_b)
        # The addresses TwoSites gave it; each brings its on-link route.
        for ns, dev, addresses in (
                (sites.router_a, sites.underlay_a,
                 ("192.0.2.1/24", "2001:db8::1/64")),
                (sites.router_b, sites.underlay_b,
                 ("192.0.2.2/24", "2001:db8::2/64"))):
            for address in addresses:
                lab.addr(ns, dev, address)
        routes = run("ip", "-6" if ipv6 else "-4", "route", "show", "dev",
                     sites.underlay_a, ns=sites.router_a).stdout
        self.assertIn("2001:db8::/64" if ipv6 else "192.0.2.0/24", routes)
        self.assert_traffic_resumes(sites, "recreating the underlay veth")

    def test_ipv4_underlay_veth_deleted_and_recreated(self):
        self.veth_deleted_and_recreated(ipv6=False)

    def test_ipv6_underlay_veth_deleted_and_recreated(self):
        self.veth_deleted_and_recreated(ipv6=True)


# A request the daemon refuses and logs ("refused destroy ...").
REFUSED = {"op": "destroy", "name": "nosuchif0"}

# A protocol-97 packet with a bad EtherIP header (version 4), sent from
# router B to router A: A's forwarding thread counts it in adrops and logs
# why (the first one at once, later ones rate-limited).
BAD_ETHERIP = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 97)
s.sendto(b"\x40\x00" + bytes(60), ("192.0.2.1", 0))
"""


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class BlockedLogTest(unittest.TestCase):
    """etheripd -f logs to stderr; here stderr is a pipe that nobody reads.
    Once the pipe is full, a write to it blocks: the daemon must neither
    stop forwarding nor stop answering on its control socket."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.sites = TwoSites(self.lab, start=False)
        read_end, write_end = os.pipe()
        self.pipe = read_end
        self.capacity = fcntl.fcntl(write_end, fcntl.F_GETPIPE_SZ)
        try:
            self.sites.daemon_a.start_with_output(write_end)
        finally:
            os.close(write_end)
        # Cleanups run last-in first-out: this one, added after lab.close,
        # runs before it, so the daemon can finish its log line and obey
        # SIGTERM. The thread ends at end of file (the daemon gone).
        self.addCleanup(self.drain)
        self.sites.daemon_b.start()
        self.sites.bridge()
        self.sites.ping()
        self.daemon = self.sites.daemon_a

    def drain(self):
        def read_all(fd):
            try:
                while os.read(fd, 65536):
                    pass
            finally:
                os.close(fd)
        threading.Thread(target=read_all, args=(self.pipe,),
                         daemon=True).start()

    def unread(self):
        return int.from_bytes(
            fcntl.ioctl(self.pipe, termios.FIONREAD, b"\0" * 4), "little")

    def fill_the_pipe(self):
        """Sends refused requests, each of which the daemon logs, until the
        pipe has less room than one such log line (so the next one cannot
        be written), or a request gets no answer (the daemon is then
        already blocked on its log). Returns how the filling ended, for
        failure messages."""
        line = None  # bytes one refusal adds to the pipe
        flat = 0     # answered refusals in a row that added nothing
        for sent in range(50000):
            before = self.unread()
            if line is not None and self.capacity - before < line:
                return (f"pipe full: {before} of {self.capacity} bytes, "
                        f"lines of {line} bytes, after {sent} refused "
                        f"requests")
            try:
                answer = self.daemon.request(REFUSED, timeout=5)
            except TimeoutError:
                return (f"request {sent + 1} got no answer, pipe at "
                        f"{self.unread()} of {self.capacity} bytes")
            self.assertFalse(answer["ok"], answer)
            added = self.unread() - before
            if added > 0:
                line = added if line is None else min(line, added)
                flat = 0
            else:
                flat += 1
            if flat >= 100:
                return (f"the daemon stopped writing log lines to the pipe "
                        f"at {before} of {self.capacity} bytes")
        self.fail("50000 refused requests did not fill the log pipe "
                  f"({self.unread()} of {self.capacity} bytes): are refusals "
                  f"still logged?")

    def ping_or_fail(self, how_full, what):
        result = self.sites.ping(count=3, check=False)
        self.assertEqual(
            result.returncode, 0,
            f"forwarding stopped while etheripd's stderr pipe was full "
            f"({how_full}{what}): ping through the tunnel got no answer.\n"
            f"{result.stdout}")

    def test_forwarding_continues_while_the_log_is_blocked(self):
        how_full = self.fill_the_pipe()
        self.ping_or_fail(how_full, "")

    def test_forwarding_continues_after_a_drop_is_logged_while_blocked(self):
        # The forwarding thread logs why it drops a packet: that log line
        # must not stop it either.
        how_full = self.fill_the_pipe()
        run("python3", "-c", BAD_ETHERIP, ns=self.sites.router_b)
        self.ping_or_fail(how_full, "; then a bad EtherIP packet arrived, "
                          "whose drop the forwarding thread logs")

    def test_control_socket_answers_while_the_log_is_blocked(self):
        how_full = self.fill_the_pipe()
        for what, request, ok in (("a stats request", {"op": "stats"}, True),
                                  ("a refused (hence logged) request",
                                   REFUSED, False)):
            answer = self.answer(request)
            if answer is None:
                self.fail(f"{what} got no answer on etheripd's control "
                          f"socket within {ANSWER_TIMEOUT} s while its "
                          f"stderr pipe was full ({how_full}): the control "
                          f"loop blocks on writing its log")
            self.assertEqual(answer["ok"], ok, answer)

    def answer(self, request):
        """The daemon's answer, or None when none came in time."""
        try:
            return self.daemon.request(request, timeout=ANSWER_TIMEOUT)
        except TimeoutError:
            return None

if __name__ == "__main__":
    unittest.main()

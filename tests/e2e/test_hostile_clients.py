"""End to end: no client of the control socket can stall or bloat the
daemon (SPEC 8). Each test measures the daemon's memory (VmRSS) or CPU
time (utime + stime) from /proc, and how fast other clients and SIGTERM
are served meanwhile. The thresholds are generous (two slow cores, ASan
builds): they catch a daemon that buffers without bound, spins, or lets
one client hold the loop or every slot, not a slow machine."""

import os
import signal
import socket
import subprocess
import sys
import time
import unittest

from unittest import mock

from netlab import ETHERIPD, Lab, is_root, stop_process
from test_control_access import NOBODY, as_user, unused_gids

SHOW = b'{"op":"show"}\n'
# A request whose answer is barely longer: the client that never reads
# then makes the daemon read the most before its answers back up.
ALLOW = b'{"op":"allow"}\n'
# A few interfaces make every show answer a few kilobytes.
INTERFACES = 20
# The daemon's limits (src/daemon/control_server.h).
MAX_CONNECTIONS = 64
MAX_PER_UID = 16
FIRST_REQUEST_TIMEOUT = 2.0


def sanitized(path):
    """True when the binary is built with AddressSanitizer (as in
    scripts/soak)."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


ASAN = sanitized(ETHERIPD)
# An ASan build runs several times slower: time limits are multiplied.
SLOW = 3.0 if ASAN else 1.0
# Another client's request, and SIGTERM, while one client misbehaves.
MAX_LATENCY = 1.0 * SLOW
MAX_SIGTERM = 2.0 * SLOW
# Daemon RSS growth while one client misbehaves. ASan keeps freed memory
# in a quarantine (256 MB by default): these daemons get a small one.
MAX_RSS_GROWTH_MB = 20


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


FLOODER = """
import socket, sys, threading
path, request, read = sys.argv[1], sys.argv[2].encode() + b"\\n", sys.argv[3]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(path)
counts = {"sent": 0, "received": 0}
def send():
    chunk = request * 4096
    try:
        while True:
            counts["sent"] += sock.send(chunk)
    except OSError:
        pass
def receive():
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                return
            counts["received"] += len(data)
    except OSError:
        pass
for target in [send] + ([receive] if read == "1" else []):
    threading.Thread(target=target, daemon=True).start()
print("connected", flush=True)
sys.stdin.read()
print(counts["sent"], counts["received"], flush=True)
"""


class Flooder:
    """A client, in a process of its own (so that the test's own requests
    do not compete with it for Python's lock), that sends `request` lines
    as fast as the socket takes them, and reads the answers only when
    `read` is set."""

    def __init__(self, path, read=False, request=SHOW):
        self.process = subprocess.Popen(
            [sys.executable, "-c", FLOODER, path,
             request.decode().strip(), "1" if read else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "connected"
        self.sent = self.received = None

    def finish(self):
        """Stops it; sets `sent` and `received` (bytes)."""
        if self.sent is None:
            self.process.stdin.close()
            self.sent, self.received = map(
                int, self.process.stdout.readline().split())
            self.process.wait(timeout=10)
        return self

    def close(self):
        self.process.stdin.close()
        stop_process(self.process)


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class HostileClientsTest(unittest.TestCase):

    def setUp(self):
        if ASAN:
            options = os.environ.get("ASAN_OPTIONS", "")
            patch = mock.patch.dict(os.environ, {
                "ASAN_OPTIONS": options + (":" if options else "")
                + "quarantine_size_mb=1:thread_local_quarantine_size_kb=64"})
            patch.start()
            self.addCleanup(patch.stop)
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        os.chmod(self.lab.tmp, 0o755)
        (self.gid,) = unused_gids(1)
        self.ns = self.lab.netns("r")
        config = f'control_group = "{self.gid}"\n'
        for i in range(INTERFACES):
            config += (f'\n[[interface]]\nname = "etherip{i}"\n'
                       f'source = "192.0.2.1"\n'
                       f'destination = "192.0.2.{i + 10}"\n')
        self.daemon = self.lab.daemon(self.ns, config)
        self.daemon.start()
        self.pid = self.daemon.process.pid
        with open(f"/proc/{self.pid}/comm") as f:
            self.assertEqual(f.read().strip(), "etheripd")

    def stats_latency(self):
        """Seconds one stats request takes from connect to answer."""
        start = time.monotonic()
        answer = self.daemon.request({"op": "stats"}, timeout=20)
        self.assertTrue(answer["ok"], answer)
        return time.monotonic() - start

    def latencies_while(self, seconds):
        """Stats latencies, one every 0.25 s, for `seconds`."""
        latencies = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            latencies.append(self.stats_latency())
            time.sleep(0.25)
        return latencies

    def sigterm_seconds(self):
        start = time.monotonic()
        self.daemon.process.send_signal(signal.SIGTERM)
        self.daemon.process.wait(timeout=30)
        return time.monotonic() - start

    def report(self, what, **numbers):
        print(f"\n{self.id()}: {what}: " + ", ".join(
            f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
            for k, v in numbers.items()), file=sys.stderr)

    def test_a_client_that_never_reads_its_answers(self):
        rss_before = rss_mb(self.pid)
        flood = Flooder(self.daemon.socket, request=ALLOW)
        self.addCleanup(flood.close)
        latencies = self.latencies_while(4)
        rss_during = rss_mb(self.pid)
        sigterm = self.sigterm_seconds()
        flood.finish()
        # It stopped reading once its answers backed up: what it took is
        # about the pending-output cap (4 MiB) and the socket buffers.
        self.assertLess(flood.sent, 32 << 20)
        self.report("non-reading pipeliner", rss_before=rss_before,
                    rss_during=rss_during, sent_mb=flood.sent / 2**20,
                    worst_latency=max(latencies), sigterm=sigterm)
        self.assertLess(rss_during - rss_before, MAX_RSS_GROWTH_MB,
                        "daemon memory grew")
        self.assertLess(max(latencies), MAX_LATENCY, latencies)
        self.assertLess(sigterm, MAX_SIGTERM)

    def test_a_client_that_reads_as_fast_as_it_sends(self):
        # Never backlogged: only the per-turn read bound keeps it from
        # holding the loop.
        rss_before = rss_mb(self.pid)
        flood = Flooder(self.daemon.socket, read=True)
        self.addCleanup(flood.close)
        latencies = self.latencies_while(4)
        rss_during = rss_mb(self.pid)
        sigterm = self.sigterm_seconds()
        flood.finish()
        self.assertGreater(flood.received, 1 << 20)  # it was served
        self.report("reading pipeliner", rss_before=rss_before,
                    rss_during=rss_during,
                    received_mb=flood.received / 2**20,
                    worst_latency=max(latencies), sigterm=sigterm)
        self.assertLess(rss_during - rss_before, MAX_RSS_GROWTH_MB,
                        "daemon memory grew")
        self.assertLess(max(latencies), MAX_LATENCY, latencies)
        self.assertLess(sigterm, MAX_SIGTERM)

    def settle(self):
        """Waits until the daemon has done what it was given: 0.5 s with
        almost no CPU, or 4 s. A daemon that spins never settles, and 4 s
        plus the 2 s then measured stay within the 10 s after which it
        would close the connection and stop spinning."""
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            before = cpu_seconds(self.pid)
            time.sleep(0.5)
            if cpu_seconds(self.pid) - before < 0.05:
                return

    def test_a_half_closed_client_that_does_not_read(self):
        # 200 show answers (about 1 MB) are more than the socket takes:
        # the daemon has read the end of the requests and waits, with
        # answers unsent, for a client that does not read them (end of file
        # stays readable: polling for it again would spin). 10 are all sent
        # at once, and the connection closes.
        for count in (200, 10):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(self.daemon.socket)
                s.settimeout(10)
                s.sendall(SHOW * count)
                s.shutdown(socket.SHUT_WR)
                self.settle()
                before = cpu_seconds(self.pid)
                time.sleep(2)
                used = cpu_seconds(self.pid) - before
                latency = self.stats_latency()
                self.report("half-closed non-reader", requests=count,
                            cpu_in_2s=used, latency=latency)
                self.assertLess(used, 0.5, "the daemon burns CPU")
                self.assertLess(latency, MAX_LATENCY)
                # Every answer is still there for it, then the end.
                answers = b""
                while chunk := s.recv(1 << 20):
                    answers += chunk
                self.assertEqual(answers.count(b"\n"), count)

    def open_idle(self, count, uid=0, groups=()):
        """`count` connections that send nothing, made by a helper process
        as `uid`; returns the refusal lines they got. The connections stay
        open until the test ends."""
        return self.idle_result(self.start_idle(count, uid, groups))

    def start_idle(self, count, uid=0, groups=()):
        """The helper process of open_idle, started; idle_result waits
        for what it reports."""
        script = (
            "import socket, sys, time\n"
            "held, refusals = [], []\n"
            f"for _ in range({count}):\n"
            "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
            f"    s.connect({self.daemon.socket!r})\n"
            "    held.append(s)\n"
            "time.sleep(0.5)\n"
            "for s in held:\n"
            "    s.setblocking(False)\n"
            "    try:\n"
            "        line = s.recv(4096)\n"
            "    except BlockingIOError:\n"
            "        continue\n"
            "    if line:\n"
            "        refusals.append(line.decode().strip())\n"
            "print(len(refusals), flush=True)\n"
            "for line in refusals: print(line, flush=True)\n"
            "sys.stdin.read()\n")
        argv = [sys.executable, "-c", script]
        if uid != 0:
            argv = as_user(argv, uid=uid, groups=groups)
        process = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        self.addCleanup(stop_process, process)
        self.addCleanup(process.stdin.close)
        return process

    def idle_result(self, process):
        refused = int(process.stdout.readline())
        return [process.stdout.readline().strip() for _ in range(refused)]

    def test_idle_connections_of_one_uid_lock_nobody_out(self):
        # One uid holds what it may; the rest get the error line at once.
        lines = self.open_idle(MAX_CONNECTIONS, uid=NOBODY,
                                  groups=[self.gid])
        self.assertEqual(len(lines), MAX_CONNECTIONS - MAX_PER_UID, lines)
        for line in lines:
            self.assertIn('"errno":"EAGAIN"', line)
            self.assertIn(f"too many connections from uid {NOBODY} "
                          f"(limit {MAX_PER_UID} per uid)", line)
        latency = self.stats_latency()
        start = time.monotonic()
        self.daemon.cli("stats")
        cli = time.monotonic() - start
        self.report("64 idle from nobody", refused=len(lines),
                    root_latency=latency, root_cli=cli)
        self.assertLess(latency, MAX_LATENCY)

    def test_idle_connections_of_root_expire_soon(self):
        lines = self.open_idle(MAX_CONNECTIONS)
        self.assertEqual(len(lines), MAX_CONNECTIONS - MAX_PER_UID)
        held_since = time.monotonic()
        refused = self.daemon.cli("stats", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn(f"etherip: too many connections from uid 0 (limit "
                      f"{MAX_PER_UID} per uid)", refused.stderr)
        # The idle ones are closed after the first-request deadline.
        while self.daemon.cli("stats", check=False).returncode != 0:
            self.assertLess(time.monotonic() - held_since,
                            FIRST_REQUEST_TIMEOUT + 4.0 * SLOW)
            time.sleep(0.1)
        waited = time.monotonic() - held_since
        self.report("64 idle from root", refused=len(lines),
                    cli_works_after=waited)
        self.assertGreater(waited, FIRST_REQUEST_TIMEOUT - 1.0)

    def test_accepting_pauses_at_the_global_cap(self):
        # Four uids hold 16 each: the 65th connection waits in the backlog
        # until the idle ones expire, and is then served.
        helpers = [self.start_idle(MAX_PER_UID, uid=uid, groups=[self.gid])
                   for uid in range(NOBODY - 3, NOBODY + 1)]
        for helper in helpers:
            self.assertEqual(self.idle_result(helper), [])
        latency = self.stats_latency()
        self.report("global cap", root_waited=latency)
        # Old behaviour: accepted and closed at once, unanswered.
        self.assertGreater(latency, 0.5)
        self.assertLess(latency, FIRST_REQUEST_TIMEOUT + 3.0 * SLOW)


if __name__ == "__main__":
    unittest.main()

"""Test hosts in network namespaces for etherip's end-to-end tests.

Everything is created under unique names, uses only documentation address
ranges (SPEC 7), sends traffic only inside its own namespaces, and is removed
by Lab.close() (also when a test fails: use Lab as a context manager or with
addCleanup).
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

ETHERIPD = os.environ.get("ETHERIPD", "etheripd")
ETHERIP = os.environ.get("ETHERIP", "etherip")


def run(*args, check=True, ns=None, input=None, timeout=60):
    """Runs a command (in namespace `ns`), returns CompletedProcess."""
    argv = [str(a) for a in args]
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    result = subprocess.run(argv, input=input, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def uptime():
    """Seconds since boot: the clock of the kernel log's time stamps."""
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def refused_calls(pids, since):
    """Kernel log records (type=1326) of system calls the seccomp filter
    refused to any of `pids` since `since` (uptime seconds), clone3 aside
    (glibc falls back to clone on its ENOSYS, by design). None when the log
    cannot be read."""
    result = subprocess.run(["dmesg"], capture_output=True, text=True)
    if result.returncode != 0 or not pids:
        return None
    found = []
    for line in result.stdout.splitlines():
        if "type=1326" not in line or " syscall=435 " in line:
            continue
        try:
            stamp = float(line[1:line.index("]")])
        except ValueError:
            continue
        if stamp >= since and any(f" pid={pid} " in line for pid in pids):
            found.append(line)
    return found


class Daemon:
    """An etheripd running in the foreground inside a namespace."""

    def __init__(self, lab, ns, config=None, extra=()):
        self.lab = lab
        self.ns = ns
        self.socket = os.path.join(lab.tmp, f"{ns}.sock")
        self.config = config or os.path.join(lab.tmp, f"{ns}.conf")
        self.log = os.path.join(lab.tmp, f"{ns}.log")
        self.extra = list(extra)
        self.process = None
        self.pids = []  # every process this Daemon ran (ip netns exec execs)

    def start(self, expect_ok=True):
        with open(self.log, "ab") as log:
            argv = ["ip", "netns", "exec", self.ns, ETHERIPD, "-f", "-v",
                    "-s", self.socket, "-c", self.config] + self.extra
            self.process = subprocess.Popen(argv, stdout=log, stderr=log)
            self.pids.append(self.process.pid)
        if not expect_ok:
            return self.process.wait(timeout=30)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"etheripd exited {self.process.returncode}:\n"
                    + self.read_log())
            if os.path.exists(self.socket):
                probe = self.cli("stats", check=False)
                if probe.returncode == 0:
                    return 0
            time.sleep(0.05)
        raise AssertionError("etheripd did not come up:\n" + self.read_log())

    def stop(self, sig=signal.SIGTERM):
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("etheripd did not exit on signal")

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cli(self, *args, check=True, json_output=False):
        argv = [ETHERIP, "-s", self.socket] + (["-j"] if json_output else [])
        result = run(*argv, *args, check=check, ns=self.ns)
        if json_output and result.returncode == 0:
            return json.loads(result.stdout)
        return result

    def show(self, name=None):
        return self.cli("show", *([name] if name else []), json_output=True)

    def stats(self):
        return self.cli("stats", json_output=True)

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def start_with_output(self, fd):
        """Like start(), but the daemon's stdout and stderr (its log, in
        the foreground) go to file descriptor `fd`, a pipe say, instead of
        the log file; read_log() then has nothing."""
        argv = ["ip", "netns", "exec", self.ns, ETHERIPD, "-f", "-v",
                "-s", self.socket, "-c", self.config] + self.extra
        self.process = subprocess.Popen(argv, stdout=fd, stderr=fd,
                                        stdin=subprocess.DEVNULL)
        self.pids.append(self.process.pid)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"etheripd exited {self.process.returncode}")
            if os.path.exists(self.socket):
                try:
                    self.request({"op": "stats"}, timeout=5)
                    return 0
                except OSError:
                    pass
            time.sleep(0.05)
        raise AssertionError("etheripd did not come up")

    def request(self, message, timeout=30):
        """One request over the control socket (docs/control-protocol.md),
        straight from this process: returns the decoded answer, whether
        the daemon accepted the request or refused it. Raises OSError
        (TimeoutError when no answer came within `timeout` seconds)."""
        import socket
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket)
            s.sendall(json.dumps(message).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer within {timeout} s")
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionResetError("closed without an answer")
                data += chunk
        return json.loads(data)


class Lab:
    """Namespaces, links and daemons of one test, removed on close()."""

    def __init__(self):
        self.tag = secrets.token_hex(3)
        self.namespaces = []
        self.daemons = []
        self.started = uptime()
        self.tmp = tempfile.mkdtemp(prefix=f"etherip-e2e-{self.tag}-")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def name(self, role):
        """A unique name for a namespace or link: at most 15 bytes."""
        return f"e{self.tag}{role}"[:15]

    def netns(self, role):
        name = self.name(role)
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        run("ip", "link", "set", "lo", "up", ns=name)
        return name

    def veth(self, ns_a, name_a, ns_b, name_b):
        """A veth pair with one end in each namespace, both up."""
        run("ip", "link", "add", name_a, "netns", ns_a, "type", "veth",
            "peer", "name", name_b, "netns", ns_b)
        run("ip", "link", "set", name_a, "up", ns=ns_a)
        run("ip", "link", "set", name_b, "up", ns=ns_b)

    def addr(self, ns, dev, cidr):
        extra = ["nodad"] if ":" in cidr else []
        run("ip", "addr", "add", cidr, "dev", dev, *extra, ns=ns)

    def daemon(self, ns, config_text=None, extra=()):
        d = Daemon(self, ns, extra=extra)
        if config_text is not None:
            d.write_config(config_text)
        self.daemons.append(d)
        return d

    def close(self):
        for d in self.daemons:
            try:
                d.stop()
            except Exception:
                if d.process and d.process.poll() is None:
                    d.process.kill()
        for ns in reversed(self.namespaces):
            # Kill stray processes left in the namespace, then remove it.
            pids = run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)
        # Every test's daemons ran under the system call filter (release
        # builds): a call it refused is a gap in its list, whatever the
        # test looked at (SPEC 8; src/daemon/syscall_filter.cc).
        refused = refused_calls([pid for d in self.daemons for pid in d.pids],
                                self.started)
        if refused:
            raise AssertionError("the system call filter refused calls of "
                                 "etheripd:\n" + "\n".join(refused))


class TwoSites:
    """The main job: two sites bridged across an IP underlay.

    host A (198.51.100.1) -- router A [bridge: veth + etherip0]
        == underlay 192.0.2.1/24, 2001:db8::1/64 <-> 192.0.2.2, 2001:db8::2 ==
    router B [bridge: veth + etherip0] -- host B (198.51.100.2)
    """

    def __init__(self, lab, ipv6=False, allow=True, start=True, mtu=None,
                 daemon_args=()):
        """mtu: the inner MTU of etherip0 and of the sites' links (default
        1500: full-size frames then make outer packets the underlay
        fragments). daemon_args: extra etheripd arguments for both."""
        self.lab = lab
        self.ipv6 = ipv6
        self.mtu = mtu
        self.router_a = lab.netns("ra")
        self.router_b = lab.netns("rb")
        self.host_a = lab.netns("ha")
        self.host_b = lab.netns("hb")
        self.underlay_a = lab.name("ua")
        self.underlay_b = lab.name("ub")
        lab.veth(self.router_a, self.underlay_a, self.router_b, self.underlay_b)
        lab.addr(self.router_a, self.underlay_a, "192.0.2.1/24")
        lab.addr(self.router_b, self.underlay_b, "192.0.2.2/24")
        lab.addr(self.router_a, self.underlay_a, "2001:db8::1/64")
        lab.addr(self.router_b, self.underlay_b, "2001:db8::2/64")
        for router, host, site in ((self.router_a, self.host_a, "a"),
                                   (self.router_b, self.host_b, "b")):
            lab.veth(router, lab.name("p" + site), host, lab.name("h" + site))
            run("ip", "link", "add", "br0", "type", "bridge", ns=router)
            run("ip", "link", "set", lab.name("p" + site), "master", "br0",
                ns=router)
            run("ip", "link", "set", "br0", "up", ns=router)
        if mtu:
            for ns, dev in ((self.router_a, lab.name("pa")),
                            (self.host_a, lab.name("ha")),
                            (self.router_b, lab.name("pb")),
                            (self.host_b, lab.name("hb"))):
                run("ip", "link", "set", dev, "mtu", mtu, ns=ns)
        lab.addr(self.host_a, lab.name("ha"), "198.51.100.1/24")
        lab.addr(self.host_b, lab.name("hb"), "198.51.100.2/24")
        local_a, local_b = (("2001:db8::1", "2001:db8::2") if ipv6
                            else ("192.0.2.1", "192.0.2.2"))
        allow_line = f"allow = {'true' if allow else 'false'}\n"
        mtu_line = f"mtu = {mtu}\n" if mtu else ""
        self.daemon_a = lab.daemon(self.router_a, allow_line + INTERFACE.format(
            src=local_a, dst=local_b) + mtu_line, extra=daemon_args)
        self.daemon_b = lab.daemon(self.router_b, allow_line + INTERFACE.format(
            src=local_b, dst=local_a) + mtu_line, extra=daemon_args)
        if start:
            self.start()

    def start(self):
        for daemon, router in ((self.daemon_a, self.router_a),
                               (self.daemon_b, self.router_b)):
            daemon.start()
            run("ip", "link", "set", "etherip0", "master", "br0", ns=router)

    def ping(self, count=3, check=True, target="198.51.100.2"):
        return run("ping", "-c", count, "-i", "0.2", "-W", "2", target,
                   ns=self.host_a, check=check)

    def wait_for_ping(self, timeout=30, target="198.51.100.2"):
        """Pings host B from host A once a second until one is answered.
        Returns True when one was within `timeout` seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if run("ping", "-c", 1, "-W", 1, target, ns=self.host_a,
                   check=False).returncode == 0:
                return True
            time.sleep(0.2)  # ping may fail at once (no ARP answer yet)
        return False

    def bridge(self):
        """Puts each router's etherip0 into its bridge (what start() does
        after starting the daemons, for tests that start them otherwise)."""
        for router in (self.router_a, self.router_b):
            run("ip", "link", "set", "etherip0", "master", "br0", ns=router)


INTERFACE = """
[[interface]]
name = "etherip0"
source = "{src}"
destination = "{dst}"
up = true
"""


class Capture:
    """tshark writing what crosses `dev` in namespace `ns` to `pcap`, from
    the moment the constructor returns until stop()."""

    def __init__(self, ns, dev, capture_filter, pcap, snaplen=None):
        argv = ["ip", "netns", "exec", ns, "tshark", "-q", "-n", "-i", dev,
                "-f", capture_filter, "-w", pcap]
        if snaplen:
            argv[7:7] = ["-s", str(snaplen)]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        # Wait until dumpcap is capturing...
        for line in self.process.stderr:
            if "Capturing on" in line:
                break
        # ...which it reports before its filter is live: give it a moment.
        time.sleep(1.0)

    def stop(self):
        """Lets the last packets land, then ends the capture."""
        time.sleep(0.5)
        self.process.terminate()
        self.process.wait(timeout=10)


def stop_process(process):
    """Kills a helper process started with Popen and reaps it."""
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()


def wait_until(predicate, timeout=5.0):
    """True once predicate() is, polling every 50 ms; its last answer
    after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def is_root():
    return os.geteuid() == 0

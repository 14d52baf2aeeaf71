"""Helpers shared by scripts/scale and scripts/soak (not a program).

Network namespaces under unique names, only documentation addresses
(SPEC.md section 7), a client that speaks the control protocol
(docs/control-protocol.md) directly over the UNIX socket, daemons started
in the foreground with a log file, and readers of /proc. Everything a Lab
makes is removed by Lab.close(), which also kill -9s daemons that do not
exit and deletes the TAPs they leave behind.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ETHERIPD = os.path.join(REPO, "build/release/src/daemon/etheripd")
DEFAULT_ETHERIP = os.path.join(REPO, "build/release/src/cli/etherip")


def default_binary(env, path):
    """The binary named by the environment variable `env`, else `path`."""
    return os.environ.get(env) or path


def check_binaries(*paths):
    """Returns an error message when one of `paths` is not executable."""
    for path in paths:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return (f"{path}: not an executable (build first: cmake --preset "
                    f"release && cmake --build build/release -j2)")
    return None


def run(*args, ns=None, check=True, timeout=60, input=None):
    argv = [str(a) for a in args]
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    result = subprocess.run(argv, capture_output=True, text=True,
                            timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: "
                           f"{result.stderr.strip()}")
    return result


class ControlError(Exception):
    """The daemon refused a request (or answered something unreadable)."""


class Control:
    """The control protocol over the UNIX socket, one connection per
    request (as `etherip` does): no process start-up in what is timed."""

    def __init__(self, path):
        self.path = path

    def request(self, message, timeout=30.0):
        """Sends `message` (a dict), returns the decoded answer. Raises
        ControlError when the answer is a refusal, OSError (TimeoutError,
        ConnectionRefusedError, FileNotFoundError, ...) when the daemon does
        not answer within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.path)
            s.sendall(json.dumps(message).encode() + b"\n")
            data = bytearray()
            while not data.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.path}: no answer in {timeout} s")
                s.settimeout(left)
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise ControlError(f"{self.path}: connection closed "
                                       f"without an answer")
                data += chunk
        answer = json.loads(data)
        if not answer.get("ok"):
            error = answer.get("error", {})
            raise ControlError(f"{answer.get('subject', '')}: "
                               f"{error.get('errno')}: {error.get('message')}")
        return answer

    def timed(self, message, timeout=30.0):
        """(seconds, answer) of one request."""
        started = time.perf_counter()
        answer = self.request(message, timeout)
        return time.perf_counter() - started, answer


def proc_status_kib(pid, field):
    """A /proc/PID/status field in KiB (VmHWM, VmRSS), or None."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


class Daemon:
    """An etheripd in the foreground in namespace `ns`, logging to a file."""

    def __init__(self, lab, ns, name, config_text, etheripd, extra=()):
        self.lab = lab
        self.ns = ns
        self.config = os.path.join(lab.tmp, f"{name}.conf")
        self.socket = os.path.join(lab.tmp, f"{name}.sock")
        self.log = os.path.join(lab.tmp, f"{name}.log")
        self.etheripd = etheripd
        self.extra = list(extra)
        self.process = None
        self.control = Control(self.socket)
        with open(self.config, "w") as f:
            f.write(config_text)

    @property
    def pid(self):
        # `ip netns exec` execs the program in place: same pid.
        return self.process.pid

    def spawn(self):
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, self.etheripd, "-f",
                 "-c", self.config, "-s", self.socket] + self.extra,
                stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self.lab.daemons.append(self)

    def wait_serving(self, timeout):
        """Waits until a `stats` request is answered. Returns the seconds
        it took from now; raises RuntimeError when the daemon exits or does
        not answer within `timeout`."""
        started = time.monotonic()
        deadline = started + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"etheripd exited {self.process.returncode}"
                                   f": {self.log_tail()}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"etheripd did not answer within {timeout} s")
            try:
                self.control.request({"op": "stats"}, timeout=left)
                return time.monotonic() - started
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.02)  # not listening yet
            except TimeoutError:
                continue  # the loop above reports it

    def start(self, timeout=30):
        self.spawn()
        return self.wait_serving(timeout)

    def stop(self, timeout):
        """SIGTERM, then wait up to `timeout` seconds. Returns (seconds,
        exit status) or (None, None) when it did not exit in time (the
        daemon is then still running: kill() it)."""
        if self.process is None or self.process.poll() is not None:
            return 0.0, (self.process.returncode if self.process else None)
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, None
        return time.monotonic() - started, status

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines=10):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-lines:]).strip()
        except OSError:
            return ""


class Lab:
    """Namespaces and daemons of one run, removed by close()."""

    def __init__(self, prefix):
        self.tag = secrets.token_hex(2)
        self.prefix = prefix
        self.namespaces = []
        self.daemons = []
        self.tmp = tempfile.mkdtemp(prefix=f"etherip-{prefix}-{self.tag}-")

    def netns(self, role):
        name = f"eip{self.prefix}-{role}-{self.tag}"
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        run("ip", "link", "set", "lo", "up", ns=name)
        return name

    def veth(self, ns_a, name_a, ns_b, name_b, mtu=1500):
        run("ip", "link", "add", name_a, "netns", ns_a, "mtu", mtu, "type",
            "veth", "peer", "name", name_b, "netns", ns_b, "mtu", mtu)
        run("ip", "link", "set", name_a, "up", ns=ns_a)
        run("ip", "link", "set", name_b, "up", ns=ns_b)

    def addr(self, ns, dev, cidr):
        extra = ["nodad"] if ":" in cidr else []
        run("ip", "addr", "add", cidr, "dev", dev, *extra, ns=ns)

    def daemon(self, ns, name, config_text, etheripd, extra=()):
        return Daemon(self, ns, name, config_text, etheripd, extra)

    def links(self, ns):
        """Names of the links in `ns`."""
        out = run("ip", "-n", ns, "-o", "link", "show", check=False,
                  timeout=300).stdout
        names = []
        for line in out.splitlines():
            parts = line.split(":", 2)
            if len(parts) >= 2:
                names.append(parts[1].strip().split("@")[0])
        return names

    def delete_taps(self, ns, log=None):
        """Deletes every TUN/TAP link left in `ns` (by a killed daemon)."""
        out = run("ip", "-n", ns, "-o", "link", "show", "type", "tun",
                  check=False, timeout=300).stdout
        names = [line.split(":", 2)[1].strip() for line in out.splitlines()
                 if line.count(":") >= 2]
        if not names:
            return 0
        if log:
            log(f"deleting {len(names)} TAPs left in {ns}")
        batch = "".join(f"link del {name}\n" for name in names)
        run("ip", "-n", ns, "-force", "-batch", "-", check=False,
            input=batch, timeout=1200)
        return len(names)

    def close(self, log=None):
        for daemon in self.daemons:
            if daemon.process is None or daemon.process.poll() is not None:
                continue
            # SIGTERM first (a small daemon exits at once), then kill -9.
            daemon.process.send_signal(signal.SIGTERM)
            try:
                daemon.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                if log:
                    log(f"etheripd {daemon.pid} did not exit on SIGTERM: "
                        f"kill -9")
                daemon.kill()
        for ns in reversed(self.namespaces):
            pids = run("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            self.delete_taps(ns, log)
            run("ip", "netns", "del", ns, check=False)
        self.namespaces.clear()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Iperf:
    """iperf3 server in `server_ns` for one test, client in `client_ns`."""

    def __init__(self, server_ns, client_ns, target, port=5201):
        self.server_ns = server_ns
        self.client_ns = client_ns
        self.target = target
        self.port = port

    def start_server(self, timeout, extra=()):
        server = subprocess.Popen(
            ["ip", "netns", "exec", self.server_ns, "timeout", "-k", "2",
             str(int(timeout)), "iperf3", "-s", "-1", "-p", str(self.port)]
            + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        for _ in range(100):
            listening = run("ss", "-Hltn", f"sport = :{self.port}",
                            ns=self.server_ns, check=False).stdout.strip()
            if listening or server.poll() is not None:
                break
            time.sleep(0.05)
        return server

    def client_argv(self, seconds, extra=()):
        return ["ip", "netns", "exec", self.client_ns, "iperf3", "-c",
                self.target, "-p", str(self.port), "-t", str(seconds),
                "--connect-timeout", "3000"] + list(extra)

    def tcp_gbps(self, seconds):
        """Received Gbit/s of one TCP stream, or raises RuntimeError."""
        server = self.start_server(seconds + 30)
        try:
            result = subprocess.run(
                self.client_argv(seconds, ["-J"]), capture_output=True,
                text=True, timeout=seconds + 30)
        finally:
            stop(server)
        try:
            report = json.loads(result.stdout)
        except ValueError:
            raise RuntimeError(f"iperf3: {result.stderr.strip()[:200]}")
        if "error" in report:
            raise RuntimeError(f"iperf3: {report['error']}")
        return report["end"]["sum_received"]["bits_per_second"] / 1e9


def stop(process, timeout=5):
    """Ends a helper process started with Popen (terminate, then kill)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()


def reachable(ns, target, count=3):
    return run("ping", "-n", "-c", count, "-i", "0.2", "-W", "1", target,
               ns=ns, check=False, timeout=30).returncode == 0


def install_signal_handlers():
    """SIGTERM and SIGHUP end the run like Ctrl-C: cleanup still runs."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, interrupt)

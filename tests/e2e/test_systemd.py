"""End to end: etheripd as a systemd service. The readiness protocol
(Type=notify) is checked with a NOTIFY_SOCKET listener of the test's own,
so it runs where PID 1 is not systemd; the unit passes `systemd-analyze
verify`; and where PID 1 is systemd, the unit file itself runs the daemon
under its sandbox: it makes a tunnel in a domain created after it started,
`systemctl reload` succeeds or fails with the file, and `systemctl stop`
leaves no interface (elsewhere, scripts/systemd-container runs that test
under a systemd booted in a container)."""

import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from netlab import (ETHERIP, ETHERIPD, Lab, is_root, run, stop_process,
                    wait_until)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
UNIT_TEMPLATE = os.path.join(ROOT, "contrib", "etheripd.service.in")

CONFIG = """allow = true
[[interface]]
name = "etherip0"
source = "192.0.2.1"
destination = "192.0.2.2"
up = true
"""


def unit_text(sbindir, bindir):
    with open(UNIT_TEMPLATE) as template:
        return (template.read()
                .replace("@CMAKE_INSTALL_FULL_SBINDIR@", sbindir)
                .replace("@CMAKE_INSTALL_FULL_BINDIR@", bindir))


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class NotifyProtocolTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.ns = self.lab.netns("n")
        self.lab.veth(self.ns, self.lab.name("v"), self.lab.netns("p"),
                      self.lab.name("w"))
        self.lab.addr(self.ns, self.lab.name("v"), "192.0.2.1/24")
        self.daemon = self.lab.daemon(self.ns, CONFIG)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(self.listener.close)
        self.notify_path = os.path.join(self.lab.tmp, "notify")
        self.listener.bind(self.notify_path)
        self.listener.settimeout(20)

    def start(self):
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        log = open(self.daemon.log, "ab")
        self.addCleanup(log.close)
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, ETHERIPD, "-f", "-v", "-s",
             self.daemon.socket, "-c", self.daemon.config], stdout=log,
            stderr=log, env=env)
        self.addCleanup(stop_process, self.process)

    def receive(self):
        """The next notification, as a dict of its KEY=VALUE lines."""
        data = self.listener.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n") if line)

    def receive_until(self, key):
        for _ in range(20):
            message = self.receive()
            if key in message:
                return message
        self.fail(f"no {key} notification")

    def test_ready_reload_status_stopping(self):
        self.start()
        ready = self.receive()
        self.assertEqual(ready.get("READY"), "1", ready)
        self.assertEqual(ready.get("STATUS"), "1 interface, 1 running")
        # The control socket serves by then.
        self.assertEqual(self.daemon.stats()["ipackets"], 0)

        self.daemon.cli("reload")
        self.assertEqual(self.receive(), {"RELOADING": "1"})
        again = self.receive()
        self.assertEqual(again.get("READY"), "1", again)

        # A refused reload is reported to the caller (ExecReload fails) and
        # in the status; the daemon is ready again with what it had.
        self.daemon.write_config("allow = maybe\n")
        refused = self.daemon.cli("reload", check=False)
        self.assertEqual(refused.returncode, 1, refused.stderr)
        self.assertEqual(self.receive(), {"RELOADING": "1"})
        after = self.receive()
        self.assertEqual(after.get("READY"), "1")
        self.assertIn("last reload refused", after.get("STATUS", ""))

        # SIGHUP too.
        self.daemon.write_config(CONFIG)
        self.process.send_signal(signal.SIGHUP)
        self.assertEqual(self.receive(), {"RELOADING": "1"})
        self.assertEqual(self.receive().get("READY"), "1")

        # The status follows the interfaces (checked once a second).
        self.daemon.cli("create", "etherip1")
        status = self.receive_until("STATUS")
        self.assertEqual(status["STATUS"], "2 interfaces, 1 running")

        self.process.send_signal(signal.SIGTERM)
        self.assertEqual(self.receive_until("STOPPING").get("STOPPING"), "1")
        self.assertEqual(self.process.wait(timeout=30), 0)

    def test_without_notify_socket_nothing_changes(self):
        # -f without systemd: serves as before (the other e2e tests run it
        # so too); here only that no notification goes anywhere.
        self.daemon.start()
        self.assertEqual(self.daemon.stats()["ipackets"], 0)
        self.listener.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            self.listener.recv(4096)


class UnitFileTest(unittest.TestCase):

    @unittest.skipUnless(shutil.which("systemd-analyze"),
                         "systemd-analyze is not installed")
    def test_systemd_analyze_verify(self):
        with Lab() as lab:
            unit = os.path.join(lab.tmp, "etheripd.service")
            with open(unit, "w") as out:
                out.write(unit_text(
                    os.path.dirname(os.path.abspath(ETHERIPD)),
                    os.path.dirname(os.path.abspath(ETHERIP))))
            # Documentation= names the man pages: verify looks them up.
            manpath = os.path.join(lab.tmp, "man")
            for section in ("5", "8"):
                os.makedirs(os.path.join(manpath, "man" + section))
            for page in os.listdir(os.path.join(ROOT, "man")):
                if page[-1] in "58":
                    shutil.copy(os.path.join(ROOT, "man", page),
                                os.path.join(manpath, "man" + page[-1]))
            result = subprocess.run(
                ["systemd-analyze", "verify", unit], capture_output=True,
                text=True, env=dict(os.environ, MANPATH=manpath), timeout=60)
            self.assertEqual(result.returncode, 0,
                             result.stdout + result.stderr)
            self.assertEqual(result.stderr.strip(), "")


class ConfigCheckTest(unittest.TestCase):
    """etheripd -t: what ExecStartPre= or a package script can run."""

    def check(self, text):
        with Lab() as lab:
            config = os.path.join(lab.tmp, "etheripd.conf")
            sock = os.path.join(lab.tmp, "etheripd.sock")
            with open(config, "w") as out:
                out.write(text)
            result = subprocess.run(
                [ETHERIPD, "-t", "-c", config, "-s", sock],
                capture_output=True, text=True, timeout=30)
            self.assertFalse(os.path.exists(sock), "-t made a socket")
            return result, config

    def test_a_good_file(self):
        result, config = self.check(CONFIG)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{config}: OK\n")

    def test_a_bad_file_names_its_line(self):
        result, config = self.check(CONFIG + "mtu = 1\n")
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith(f"{config}:7: "),
                        result.stderr)


def pid1_is_systemd():
    return os.path.isdir("/run/systemd/system")


def sanitizer_build():
    build = os.environ.get("ETHERIP_BUILD_DIR", "")
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as cache:
            return "ETHERIP_SANITIZE:BOOL=ON" in cache.read()
    except OSError:
        return False


@unittest.skipUnless(is_root(), "needs root")
@unittest.skipIf(sanitizer_build(),
                 "the sandbox test runs with the release build")
@unittest.skipUnless(pid1_is_systemd(),
                     "PID 1 is not systemd here: the unit's sandbox cannot "
                     "be run (the notify protocol and the unit file are "
                     "still tested; scripts/systemd-container runs this "
                     "test under a systemd booted in a container)")
class SandboxTest(unittest.TestCase):
    """The unit file itself, as installed, under a name of the test's own;
    a drop-in only points it at the test's programs, files and namespace,
    and keeps it off the shared /run/etherip and /etc/etherip."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.unit = f"etheripd-test-{self.lab.tag}.service"
        # /tmp is private to the unit (PrivateTmp) and / read-only
        # (ProtectSystem=strict): the test's files go to a directory of
        # its own under /run, made writable for the unit as /etc/etherip
        # is; the programs too, since the build tree may be under /tmp.
        self.home = f"/run/etheripd-test-{self.lab.tag}"
        os.makedirs(self.home)
        self.addCleanup(shutil.rmtree, self.home, ignore_errors=True)
        for program in (ETHERIPD, ETHERIP):
            shutil.copy(os.path.abspath(program), self.home)
        self.sock = os.path.join(self.home, "etheripd.sock")
        self.config = os.path.join(self.home, "etheripd.conf")
        self.write_config("allow = true\n")
        # The daemon itself lives in a namespace of the test's, so its
        # interfaces are there too.
        self.home_ns = self.lab.netns("h")
        unit_path = os.path.join("/run/systemd/system", self.unit)
        with open(unit_path, "w") as out:
            out.write(unit_text(self.home, self.home))
        self.addCleanup(os.remove, unit_path)
        dropin = unit_path + ".d"
        os.makedirs(dropin)
        self.addCleanup(shutil.rmtree, dropin, ignore_errors=True)
        etheripd = os.path.join(self.home, "etheripd")
        etherip = os.path.join(self.home, "etherip")
        with open(os.path.join(dropin, "test.conf"), "w") as out:
            out.write(f"""[Service]
ExecStart=
ExecStart={etheripd} -f -s {self.sock} -c {self.config}
ExecReload=
ExecReload={etherip} -s {self.sock} reload
NetworkNamespacePath=/run/netns/{self.home_ns}
ReadWritePaths=
ReadWritePaths={self.home}
RuntimeDirectory=
ConfigurationDirectory=
Restart=no
""")
        self.addCleanup(run, "systemctl", "daemon-reload", check=False)
        run("systemctl", "daemon-reload")
        self.addCleanup(run, "systemctl", "reset-failed", self.unit,
                        check=False)
        self.addCleanup(run, "systemctl", "stop", self.unit, check=False)

    def write_config(self, text):
        with open(self.config, "w") as out:
            out.write(text)

    def status_text(self):
        return run("systemctl", "show", "-P", "StatusText",
                   self.unit).stdout.strip()

    def test_start_tunnel_in_a_later_domain_reload_stop(self):
        # Type=notify: start returns once the daemon said READY=1.
        run("systemctl", "start", self.unit)
        self.assertEqual(run("systemctl", "is-active", self.unit)
                         .stdout.strip(), "active")
        # A domain created after the daemon started: its mount propagates
        # into the unit's mount namespace, and setns into it is allowed.
        domain = self.lab.netns("d")
        self.lab.veth(domain, "u0", self.lab.netns("p"), "u1")
        self.lab.addr(domain, "u0", "192.0.2.1/24")
        self.write_config("save = true\n" + CONFIG.replace(
            'up = true', f'domain = "{domain}"\nup = true'))
        # ExecReload is `etherip reload`: it succeeds with a good file.
        run("systemctl", "reload", self.unit)
        shown = run(ETHERIP, "-s", self.sock, "show", "etherip0").stdout
        self.assertIn("RUNNING", shown)
        self.assertTrue(wait_until(
            lambda: self.status_text() == "1 interface, 1 running",
            5), self.status_text())
        # `save = true` rewrites the file: ProtectSystem=strict leaves the
        # configuration's directory writable (ReadWritePaths).
        run(ETHERIP, "-s", self.sock, "set", "etherip0", "mtu", "1400")
        with open(self.config) as saved:
            self.assertIn("mtu = 1400", saved.read())
        # A refused reload fails `systemctl reload`, changing nothing.
        self.write_config(CONFIG + "mtu = 1\n")
        refused = run("systemctl", "reload", self.unit, check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertEqual(run("systemctl", "is-active", self.unit)
                         .stdout.strip(), "active")
        self.assertIn("RUNNING", run(ETHERIP, "-s", self.sock, "show",
                                     "etherip0").stdout)
        self.assertIn("last reload refused", self.status_text())
        # The tunnel's TAP device is the one device the unit may open, and
        # the sandbox is on (systemd applied the unit's settings).
        properties = run("systemctl", "show", self.unit, "-p",
                         "ProtectSystem", "-p", "DevicePolicy", "-p",
                         "RestrictNamespaces").stdout
        self.assertIn("ProtectSystem=strict", properties)
        self.assertIn("DevicePolicy=closed", properties)
        run("systemctl", "stop", self.unit)
        leftover = run("ip", "link", "show", "etherip0", ns=self.home_ns,
                       check=False)
        self.assertNotEqual(leftover.returncode, 0, "etherip0 left behind")


if __name__ == "__main__":
    unittest.main()

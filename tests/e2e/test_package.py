"""End to end: the Debian package (scripts/package). It passes lintian,
installs with dpkg, puts the configuration file in place without starting
the service, runs (a daemon in a namespace of its own makes a tunnel),
survives a reinstall with the administrator's file kept, and purges without
leaving a file behind. It refuses to run where etherip is already
installed: it would replace and then purge the machine's own."""

import os
import subprocess
import unittest

from netlab import Lab, is_root, run, stop_process, wait_until

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.environ.get("ETHERIP_BUILD_DIR", "")
CONFIG = "/etc/etherip/etheripd.conf"
# What the package's scripts make outside its file list.
EXTRA_PATHS = [
    CONFIG, "/etc/etherip",
    "/etc/systemd/system/multi-user.target.wants/etheripd.service",
    "/var/lib/systemd/deb-systemd-helper-enabled/etheripd.service.dsh-also",
    "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/"
    "etheripd.service",
]


def installed():
    query = run("dpkg-query", "-W", "-f=${Status}", "etherip", check=False)
    return "installed" in query.stdout and "not-installed" not in query.stdout


def sanitizer_build():
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as cache:
            return "ETHERIP_SANITIZE:BOOL=ON" in cache.read()
    except OSError:
        return False


def packaged_daemons():
    """The pids of running /usr/sbin/etheripd processes."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/exe") == "/usr/sbin/etheripd":
                pids.append(pid)
        except OSError:
            pass
    return pids


@unittest.skipUnless(is_root(), "needs root: installs a package")
@unittest.skipUnless(BUILD, "ETHERIP_BUILD_DIR is not set (ctest sets it)")
@unittest.skipIf(sanitizer_build(),
                 "the package is built and tested from the release build")
class PackageTest(unittest.TestCase):

    def setUp(self):
        if installed() or os.path.exists("/usr/sbin/etheripd"):
            self.fail("etherip is already installed on this machine: "
                      "refusing to replace and purge it")
        if os.path.exists(CONFIG):
            self.fail(f"{CONFIG} exists: refusing to run over it")
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        # Whatever happens, the machine ends without the package.
        self.addCleanup(run, "dpkg", "--purge", "etherip", check=False)

    def test_install_run_reinstall_purge(self):
        deb = run(os.path.join(ROOT, "scripts", "package"), "--build-dir",
                  BUILD, "--out", self.lab.tmp,
                  timeout=600).stdout.strip().splitlines()[-1]
        self.assertTrue(deb.endswith(".deb"), deb)
        # Debian's own checker: no error or warning (information tags, such
        # as "no init.d script", are allowed).
        lintian = run("lintian", "--fail-on", "error,warning", deb,
                      check=False)
        self.assertEqual(lintian.returncode, 0,
                         lintian.stdout + lintian.stderr)

        run("dpkg", "-i", deb)
        self.assertTrue(installed())
        files = [line for line in run("dpkg", "-L", "etherip")
                 .stdout.splitlines() if os.path.isfile(line)]
        for path in ("/usr/sbin/etheripd", "/usr/bin/etherip",
                     "/usr/lib/systemd/system/etheripd.service",
                     "/usr/share/man/man8/etheripd.8.gz",
                     "/usr/share/man/man8/etherip.8.gz",
                     "/usr/share/man/man5/etheripd.conf.5.gz",
                     "/usr/share/doc/etherip/copyright",
                     "/usr/share/doc/etherip/changelog.gz",
                     "/usr/share/bash-completion/completions/etherip"):
            self.assertIn(path, files)
        with open("/usr/lib/systemd/system/etheripd.service") as unit:
            self.assertIn("ExecStart=/usr/sbin/etheripd -f", unit.read())
        # The default file, in place and valid; the service enabled, not
        # started.
        self.assertEqual(run("/usr/sbin/etheripd", "-t").returncode, 0)
        self.assertIn("etheripd.conf",
                      run("man", "5", "etheripd.conf").stdout)
        self.assertTrue(os.path.islink(EXTRA_PATHS[2]),
                        "the service is not enabled")
        self.assertEqual(packaged_daemons(), [],
                         "etheripd was started on first install")
        self.assertEqual(run("/usr/bin/etherip", "--version").stdout,
                         run("/usr/sbin/etheripd", "--version").stdout
                         .replace("etheripd", "etherip"))

        # It runs: a daemon of the package, in a namespace of the test's,
        # with the installed file, makes a running tunnel.
        ns = self.lab.netns("k")
        peer = self.lab.netns("q")
        self.lab.veth(ns, self.lab.name("v"), peer, self.lab.name("w"))
        self.lab.addr(ns, self.lab.name("v"), "192.0.2.1/24")
        sock = os.path.join(self.lab.tmp, "etheripd.sock")
        daemon = subprocess.Popen(
            ["ip", "netns", "exec", ns, "/usr/sbin/etheripd", "-f", "-s",
             sock], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(stop_process, daemon)
        self.assertTrue(wait_until(lambda: os.path.exists(sock), 20))
        run("/usr/bin/etherip", "-s", sock, "create", "etherip0", "tunnel",
            "192.0.2.1", "192.0.2.2", "up")
        self.assertIn("RUNNING",
                      run("/usr/bin/etherip", "-s", sock, "show").stdout)
        daemon.terminate()
        self.assertEqual(daemon.wait(timeout=30), 0)

        # A reinstall (an upgrade's path) keeps the administrator's file.
        with open(CONFIG, "a") as config:
            config.write("# kept by the test\n")
        run("dpkg", "-i", deb)
        with open(CONFIG) as config:
            self.assertIn("# kept by the test", config.read())

        run("dpkg", "--purge", "etherip")
        self.assertFalse(installed())
        left = [path for path in files + EXTRA_PATHS
                if os.path.lexists(path)]
        self.assertEqual(left, [], "left behind by the purge")


if __name__ == "__main__":
    unittest.main()

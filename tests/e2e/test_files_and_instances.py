"""End to end: what the daemon does with the paths it is given (SPEC 8,
"Files and instances"): the configuration is read only when it is a
regular file, and never blocks; one daemon per control socket, also when
two start at the same moment; only a socket is replaced at `-s`, and at
exit only the daemon's own socket is removed."""

import os
import signal
import socket
import subprocess
import time
import unittest

from netlab import ETHERIPD, Lab, is_root


def wait_for_exit(process, timeout):
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class ConfigPathTest(unittest.TestCase):
    """A configuration path that is not a regular file is refused at once,
    at start and on reload; the daemon never blocks on it."""

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.ns = self.lab.netns("f")

    def fifo(self):
        path = os.path.join(self.lab.tmp, "fifo.conf")
        os.mkfifo(path)
        return path

    def refused_at_start(self, path, message):
        daemon = self.lab.daemon(self.ns)
        daemon.config = path
        started = time.monotonic()
        # start(expect_ok=False) waits up to 30 s: a daemon blocked on a
        # FIFO would fail the test there.
        self.assertEqual(daemon.start(expect_ok=False), 1)
        self.assertLess(time.monotonic() - started, 20)
        self.assertIn(message.lower(), daemon.read_log().lower())

    def test_a_fifo_is_refused_at_start(self):
        fifo = self.fifo()
        self.refused_at_start(fifo, f"{fifo}: not a regular file (a FIFO)")

    def test_a_device_is_refused_at_start(self):
        self.refused_at_start(
            "/dev/null", "/dev/null: not a regular file (a character device)")

    def test_a_directory_is_refused_at_start(self):
        self.refused_at_start(self.lab.tmp, f"{self.lab.tmp}: is a directory")

    def test_a_symlink_to_a_fifo_is_refused_and_to_a_file_followed(self):
        link = os.path.join(self.lab.tmp, "link.conf")
        os.symlink(self.fifo(), link)
        self.refused_at_start(link, "not a regular file (a FIFO)")
        os.unlink(link)
        target = os.path.join(self.lab.tmp, "real.conf")
        with open(target, "w") as f:
            f.write('allow = true\n[[interface]]\nname = "etherip0"\n')
        os.symlink(target, link)
        daemon = self.lab.daemon(self.ns)
        daemon.config = link
        daemon.start()
        self.assertEqual([i["name"] for i in daemon.show()], ["etherip0"])
        self.assertEqual(daemon.cli("allow").stdout.strip(), "1")

    def test_a_fifo_on_reload_is_refused_and_blocks_nothing(self):
        daemon = self.lab.daemon(self.ns, 'allow = true\n')
        daemon.start()
        daemon.cli("create", "etherip0")
        os.unlink(daemon.config)
        os.mkfifo(daemon.config)
        started = time.monotonic()
        result = daemon.cli("reload", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not a regular file (a FIFO)", result.stderr)
        os.kill(daemon.process.pid, signal.SIGHUP)  # the same, by signal
        # Later requests are answered, and nothing changed.
        self.assertEqual([i["name"] for i in daemon.show()], ["etherip0"])
        self.assertEqual(daemon.cli("allow").stdout.strip(), "1")
        self.assertLess(time.monotonic() - started, 10)
        sigterm = time.monotonic()
        self.assertEqual(daemon.stop(signal.SIGTERM), 0)
        self.assertLess(time.monotonic() - sigterm, 10)


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class InstanceTest(unittest.TestCase):
    """One daemon per control socket."""

    TRIALS = 20

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.ns = self.lab.netns("i")

    def spawn(self, socket_path, config, log):
        argv = ["ip", "netns", "exec", self.ns, ETHERIPD, "-f", "-s",
                socket_path, "-c", config]
        return subprocess.Popen(argv, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)

    def test_two_daemons_started_at_once_leave_exactly_one(self):
        config = os.path.join(self.lab.tmp, "empty.conf")
        open(config, "w").close()
        for trial in range(self.TRIALS):
            with self.subTest(trial=trial):
                path = os.path.join(self.lab.tmp, f"race{trial}.sock")
                log_path = os.path.join(self.lab.tmp, f"race{trial}.log")
                with open(log_path, "wb") as log:
                    pair = [self.spawn(path, config, log) for _ in range(2)]
                try:
                    # The loser exits by itself; the winner keeps serving.
                    deadline = time.monotonic() + 20
                    while (time.monotonic() < deadline
                           and all(p.poll() is None for p in pair)):
                        time.sleep(0.02)
                    exited = [p for p in pair if p.poll() is not None]
                    self.assertEqual(len(exited), 1, "both stayed up")
                    self.assertEqual(exited[0].returncode, 1)
                    running = next(p for p in pair if p.poll() is None)
                    time.sleep(0.1)
                    self.assertIsNone(running.poll(), "both exited")
                    with open(log_path, errors="replace") as f:
                        self.assertIn("another etheripd is running", f.read())
                    probe = self.lab.daemon(self.ns)
                    probe.socket = path
                    self.assertEqual(probe.cli("stats", check=False).returncode,
                                     0)
                    running.send_signal(signal.SIGTERM)
                    self.assertEqual(wait_for_exit(running, 20), 0)
                    self.assertFalse(os.path.exists(path))
                    # The lock file stays: removing it would let a third
                    # daemon lock a new file while another holds the old.
                    self.assertTrue(os.path.exists(path + ".lock"))
                finally:
                    for p in pair:
                        if p.poll() is None:
                            p.kill()
                            p.wait()

    def test_only_a_socket_is_replaced_at_the_socket_path(self):
        path = os.path.join(self.lab.tmp, "regular.sock")
        with open(path, "w") as f:
            f.write("not a socket\n")
        daemon = self.lab.daemon(self.ns, "")
        daemon.socket = path
        self.assertEqual(daemon.start(expect_ok=False), 1)
        with open(path) as f:
            self.assertEqual(f.read(), "not a socket\n")

    def test_exit_removes_only_its_own_socket(self):
        daemon = self.lab.daemon(self.ns, "")
        daemon.start()
        # Someone else's socket now has the path.
        os.unlink(daemon.socket)
        other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(other.close)
        other.bind(daemon.socket)
        self.assertEqual(daemon.stop(signal.SIGTERM), 0)
        self.assertTrue(os.path.exists(daemon.socket))


if __name__ == "__main__":
    unittest.main()

"""End to end: what clients send cannot forge, split or flood the daemon's
log (SPEC 8, "Logs")."""

import json
import os
import re
import socket
import time
import unittest

from netlab import Lab, is_root


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class LogTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)
        self.daemon = self.lab.daemon(self.lab.netns("l"), "")
        self.daemon.start()

    def test_a_name_with_a_newline_forges_no_line(self):
        forged = "2026-11-29 00:00:00.000 info allow 1"
        answer = self.daemon.request(
            {"op": "create", "name": f"x\n{forged}\x1b[2J"})
        self.assertIn("error", answer)
        self.daemon.request({"op": "destroy", "name": "y\r\nz"})
        self.daemon.stop()
        lines = self.daemon.read_log().splitlines()
        self.assertFalse([l for l in lines if l.startswith(forged)], lines)
        refused = [l for l in lines if "refused create" in l]
        self.assertEqual(len(refused), 1, lines)
        self.assertIn(f"x\\x0a{forged}\\x1b[2J", refused[0])
        self.assertTrue(any("y\\x0d\\x0az" in l for l in lines), lines)
        self.assertFalse(any("\x1b[2J" in l for l in lines))

    def test_refusals_as_fast_as_a_client_can_send_do_not_flood_the_log(self):
        count = 20000
        before = os.path.getsize(self.daemon.log)
        request = (json.dumps({"op": "destroy", "name": "nope"}) + "\n")
        bad = "{not json\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(60)
            s.connect(self.daemon.socket)
            answers = b""
            for i in range(0, count, 500):
                s.sendall(((request + bad) * 250).encode())
                while answers.count(b"\n") < i + 500:
                    answers += s.recv(1 << 16)
        self.assertEqual(answers.count(b"\n"), count)
        # The daemon still answers, and logs a change as usual; the next
        # refusal a second later says how many were not logged.
        self.daemon.cli("create", "etherip0")
        time.sleep(1.1)
        self.daemon.cli("destroy", "nope", check=False)
        self.daemon.stop()
        log = self.daemon.read_log()
        grown = os.path.getsize(self.daemon.log) - before
        # 20 000 refusals logged one by one: over 1 MB. Let through: a
        # burst of 20, then one a second.
        self.assertLess(grown, 64 * 1024, log[-2000:])
        self.assertIn("etherip0: created", log)
        # Every refusal is either logged or counted in a later line's
        # "(N similar lines not logged)": 20 000 in the flood and 1 after.
        refusals = [line for line in log.splitlines()
                    if "refused destroy nope" in line
                    or "control: bad request" in line]
        held_back = sum(int(n) for n in re.findall(
            r"\((\d+) similar lines not logged\)", log))
        self.assertEqual(len(refusals) + held_back, count + 1, log[-2000:])
        self.assertGreater(held_back, count // 2)


if __name__ == "__main__":
    unittest.main()

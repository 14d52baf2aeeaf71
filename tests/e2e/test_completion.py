"""End to end: bash completion for etherip (contrib/bash-completion/etherip)
completes commands, options and their values, and the names of the
interfaces of a running daemon."""

import os
import shlex
import subprocess
import unittest

from netlab import ETHERIP, Lab, is_root

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "contrib", "bash-completion", "etherip")


def complete(line):
    """What bash offers for the last word of `line` (a trailing space:
    a new, empty word), as a sorted list."""
    program = f"""
source {shlex.quote(SCRIPT)}
COMP_LINE={shlex.quote(line)}
read -r -a COMP_WORDS <<< "$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
_etherip
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = dict(os.environ)
    env["PATH"] = (os.path.dirname(os.path.abspath(ETHERIP)) + os.pathsep
                   + env.get("PATH", ""))
    result = subprocess.run(["bash", "-c", program], capture_output=True,
                            text=True, env=env, timeout=30, check=True)
    return sorted(word for word in result.stdout.split("\n") if word)


class StaticCompletionTest(unittest.TestCase):

    def test_commands(self):
        self.assertEqual(complete("etherip s"),
                         ["set", "show", "showconf", "stats"])
        self.assertEqual(complete("etherip -j re"), ["reload"])

    def test_options_and_values(self):
        self.assertEqual(complete("etherip create x he"), ["header"])
        self.assertEqual(complete("etherip create x header "),
                         ["any", "reversed", "standard"])
        self.assertEqual(complete("etherip create x tunnel 192.0.2.1 "), [])
        self.assertIn("-tunnel", complete("etherip set x -"))
        self.assertEqual(complete("etherip allow "), ["0", "1"])
        self.assertEqual(complete("etherip set x mtu "), ["auto"])
        self.assertEqual(complete("etherip set x eoip "), [])
        self.assertIn("keepalive", complete("etherip set x k"))


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class InterfaceNameCompletionTest(unittest.TestCase):

    def test_names_come_from_the_daemon(self):
        lab = Lab()
        self.addCleanup(lab.close)
        ns = lab.netns("c")
        daemon = lab.daemon(ns, "")
        daemon.start()
        for name in ("etherip0", "etherip1", "uplink7"):
            daemon.cli("create", name)
        self.assertEqual(
            complete(f"etherip -s {daemon.socket} set ether"),
            ["etherip0", "etherip1"])
        self.assertEqual(
            complete(f"etherip -s {daemon.socket} destroy "),
            ["etherip0", "etherip1", "uplink7"])
        # No daemon on that socket: nothing, and no error.
        self.assertEqual(
            complete(f"etherip -s {daemon.socket}.none show "), [])


if __name__ == "__main__":
    unittest.main()

"""End to end: the metrics listener (SPEC 8, "Metrics"). A daemon with
`metrics = "127.0.0.1:PORT"` is scraped over HTTP while it forwards, and
the text is parsed by an independent parser (prometheus_client's); every
global and per-interface counter equals what `etherip -j` reports."""

import subprocess
import time
import unittest

from netlab import Lab, TwoSites, is_root, run, stop_process, wait_until

PORT = 9797

# Scrapes the listener from inside the daemon's namespace and prints each
# sample as "NAME LABELS VALUE" (labels as sorted key=value pairs), using
# prometheus_client's parser, not ours.
SCRAPE = r"""
import sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
for family in text_string_to_metric_families(text):
    for sample in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
        print(family.type, sample.name, labels or "-", int(sample.value))
"""


def scrape(ns, url):
    """{(name, labels): value} and {name: type} from one scrape."""
    values, types = {}, {}
    for line in run("/usr/bin/python3", "-c", SCRAPE, url,
                    ns=ns).stdout.splitlines():
        kind, name, labels, value = line.split(" ")
        values[(name, labels)] = int(value)
        types[name] = kind
    return values, types


@unittest.skipUnless(is_root(), "needs root: creates network namespaces")
class MetricsTest(unittest.TestCase):

    def setUp(self):
        self.lab = Lab()
        self.addCleanup(self.lab.close)

    def test_scrape_matches_the_counters(self):
        sites = TwoSites(self.lab, start=False)
        with open(sites.daemon_a.config, "a") as config:
            config.write(f'metrics = "127.0.0.1:{PORT}"\n')
        # A top-level key must come before the first table: rewrite.
        with open(sites.daemon_a.config) as config:
            text = config.read()
        lines = text.splitlines()
        metrics_line = lines.pop()
        sites.daemon_a.write_config(metrics_line + "\n" + "\n".join(lines)
                                    + "\n")
        sites.start()
        self.assertTrue(sites.wait_for_ping(), "no ping")
        sites.ping(count=5)
        url = f"http://127.0.0.1:{PORT}/metrics"
        # The hosts' own chatter (neighbour discovery, MLD) may cross the
        # tunnel at any time: each scraped value lies between what the
        # daemon reported just before the scrape and just after it.
        stats_before = sites.daemon_a.stats()
        shown_before = sites.daemon_a.show("etherip0")[0]["counters"]
        values, types = scrape(sites.router_a, url)
        stats_after = sites.daemon_a.stats()
        shown_after = sites.daemon_a.show("etherip0")[0]["counters"]
        self.assertEqual(set(stats_after), {
            name[len("etherip_"):-len("_total")]
            for (name, labels) in values
            if labels == "-" and name.endswith("_total")})
        for name, after in stats_after.items():
            scraped = values[(f"etherip_{name}_total", "-")]
            self.assertLessEqual(stats_before[name], scraped, name)
            self.assertLessEqual(scraped, after, name)
            self.assertEqual(types[f"etherip_{name}_total"], "counter")
        for name, after in shown_after.items():
            scraped = values[(f"etherip_interface_{name}_total",
                              "interface=etherip0")]
            self.assertLessEqual(shown_before[name], scraped, name)
            self.assertLessEqual(scraped, after, name)
        self.assertGreater(values[("etherip_ipackets_total", "-")], 0)
        self.assertEqual(values[("etherip_allow", "-")], 1)
        self.assertEqual(values[("etherip_interfaces", "-")], 1)
        self.assertEqual(values[("etherip_interface_running",
                                 "interface=etherip0")], 1)
        self.assertEqual(types["etherip_interface_running"], "gauge")

        # A new interface is listed within about a second.
        sites.daemon_a.cli("create", 'odd"name')
        self.assertTrue(wait_until(
            lambda: ("etherip_interface_running", 'interface=odd"name')
            in scrape(sites.router_a, url)[0], 5))

        # Other paths: 404. The listener cannot change without a restart.
        missing = run("/usr/bin/python3", "-c",
                      "import sys, urllib.request, urllib.error\n"
                      "try:\n"
                      "    urllib.request.urlopen(sys.argv[1], timeout=10)\n"
                      "except urllib.error.HTTPError as e:\n"
                      "    print(e.code)\n", f"http://127.0.0.1:{PORT}/",
                      ns=sites.router_a)
        self.assertEqual(missing.stdout.strip(), "404")
        sites.daemon_a.write_config(
            f'metrics = "127.0.0.1:{PORT + 1}"\n' + "\n".join(lines) + "\n")
        refused = sites.daemon_a.cli("reload", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("needs a restart", refused.stderr)

    def test_show_rates_while_pinging(self):
        sites = TwoSites(self.lab)
        self.assertTrue(sites.wait_for_ping(), "no ping")
        # 50 pings a second for 3 s around a one-second sample.
        pinger = subprocess.Popen(
            ["ip", "netns", "exec", sites.host_a, "ping", "-q", "-i", "0.02",
             "-c", "150", "198.51.100.2"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.addCleanup(stop_process, pinger)
        time.sleep(0.5)
        text = sites.daemon_a.cli("show", "-r").stdout
        rates = sites.daemon_a.cli("show", "-r", "etherip0",
                                   json_output=True)
        self.assertRegex(text, r"^etherip0: RX \d+ pkt/s [\d.]+ [kMG]?bit/s "
                               r"TX \d+ pkt/s [\d.]+ [kMG]?bit/s\n$")
        self.assertEqual(len(rates), 1)
        # Requests out and replies in during the second (how many depends
        # on the machine's load: only that there were some), each frame at
        # least 60 bytes.
        self.assertGreater(rates[0]["tx_packets_per_second"], 0)
        self.assertGreater(rates[0]["rx_packets_per_second"], 0)
        self.assertGreaterEqual(rates[0]["tx_bits_per_second"],
                                rates[0]["tx_packets_per_second"] * 8 * 60)

    def test_a_taken_port_fails_the_start(self):
        ns = self.lab.netns("m")
        first = self.lab.daemon(ns, f'metrics = "127.0.0.1:{PORT}"\n')
        first.start()
        second = self.lab.daemon(ns, f'metrics = "127.0.0.1:{PORT}"\n')
        second.socket += ".2"
        status = second.start(expect_ok=False)
        self.assertEqual(status, 1)
        self.assertIn(f"metrics 127.0.0.1:{PORT}: cannot listen",
                      second.read_log())


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Unit tests of the rig's pure parts (no root, no namespaces): flag parsing, the
model layout, addressing, log-time parsing, the figures and the JSON line."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rig_lib import cli, report  # noqa: E402
from rig_lib.context import ModeResult  # noqa: E402
from rig_lib.mode_bittorrent import piece_length_exp  # noqa: E402
from rig_lib.mode_shardcast import last_json_object, log_published_bytes, log_ready_time  # noqa: E402
from rig_lib.model import model_files  # noqa: E402
from rig_lib.topology import Topology  # noqa: E402
from rig_lib.util import RigError, parse_rate, parse_size  # noqa: E402

MIB = 1 << 20


class FakeTopo:
    zones = 2
    agents = [object()] * 4


class FakeCtx:
    F = 64 * MIB
    B_bps = 240e6
    rate_bps = 250_000_000
    N = 4
    topo = FakeTopo()


class RigLibTest(unittest.TestCase):
    def test_sizes_and_rates(self):
        self.assertEqual(parse_size("1GiB"), 1 << 30)
        self.assertEqual(parse_size("16MiB"), 16 * MIB)
        self.assertEqual(parse_size("12345"), 12345)
        self.assertEqual(parse_size("1.5MiB"), 3 * MIB // 2)
        self.assertRaises(RigError, parse_size, "12 parsecs")
        self.assertRaises(RigError, parse_size, "0")
        self.assertEqual(parse_rate("250mbit"), 250_000_000)
        self.assertEqual(parse_rate("1gbit"), 10 ** 9)
        self.assertRaises(RigError, parse_rate, "250")

    def test_model_adds_up_to_F(self):
        for size, shards in ((16 * MIB, 2), (1 << 30, 3), (1000, 1), (123457, 7)):
            files = model_files(size, shards)
            total = sum(len(v) if isinstance(v, bytes) else v for v in files.values())
            self.assertEqual(total, size)
            self.assertEqual(len(files), shards + 1)
        self.assertRaises(RigError, model_files, 10, 2)

    def test_addresses_stay_in_the_subnet_and_zones_are_round_robin(self):
        t = Topology(10, 250_000_000, zones=3, subnet="10.203.0.0/16", prefix="scb-test-")
        self.assertEqual(t.origin.ip, "10.203.0.1")
        self.assertEqual(t.controller.ip, "10.203.0.2")
        self.assertEqual([a.zone for a in t.agents], [0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
        self.assertEqual(t.agents[0].ip, "10.203.1.1")
        self.assertEqual(t.agents[3].ip, "10.203.1.2")
        self.assertEqual(t.agents[4].ip, "10.203.2.2")
        self.assertEqual(t.zone_subnet(2), "10.203.3.0/24")
        self.assertEqual(len({a.ip for a in t.agents}), 10)
        self.assertTrue(all(len(n.bridge_if) <= 15 for n in t.nodes()))
        self.assertTrue(all(n.ns.startswith("scb-test-") for n in t.nodes()))
        self.assertRaises(RigError, Topology, 4, 1000, subnet="8.8.0.0/16")
        self.assertRaises(RigError, Topology, 600, 1000, zones=2)

    def test_piece_length(self):
        self.assertEqual(piece_length_exp(16 * MIB), 18)
        self.assertEqual(piece_length_exp(1 << 30), 20)
        self.assertEqual(piece_length_exp(1 << 40), 24)

    def test_agent_log_and_cli_output_parsing(self):
        log = ("2026-11-25T17:36:31.123Z INFO agent a0: rollout r1: fetching bench-model:v1\n"
               "2026-11-25T17:36:33.623Z INFO agent a0: rollout r1: published bench-model:v1 (1 "
               "bytes from the origin, 2 from peers)\n")
        import datetime
        t0 = datetime.datetime(2026, 11, 25, 17, 36, 31, 0, datetime.timezone.utc).timestamp()
        self.assertAlmostEqual(log_ready_time(log, t0), 2.623, places=3)
        self.assertIsNone(log_ready_time("nothing here\n", t0))
        self.assertEqual(log_published_bytes(log), (1, 2, None))
        self.assertEqual(log_published_bytes(log.replace("from peers)", "from peers, 7 received from other zones)")),
                         (1, 2, 7))
        self.assertIsNone(log_published_bytes("nothing here\n"))
        out = 'progress...\n{"id": "r1", "state": "ready", "nodes": [{"node": "a0"}]}\n'
        self.assertEqual(last_json_object(out)["state"], "ready")
        self.assertIsNone(last_json_object("no json"))

    def test_metrics_table_and_json_line(self):
        r = ModeResult("direct")
        r.ok = True
        r.times = {"a0": 2.0, "a1": 4.0, "a2": 6.0, "a3": 8.0}
        r.origin_bytes = 4 * FakeCtx.F
        r.cross_zone_bytes = 0
        r.recv_cpu_s = 0.5
        r.peak_rss = 10 * MIB
        r.busy_fraction = 0.5
        m = r.metrics(FakeCtx())
        floor = FakeCtx.F * 8 / FakeCtx.B_bps
        self.assertTrue(m["ok"])
        self.assertAlmostEqual(m["time_to_last_ready_over_floor"], round(8.0 / floor, 4))
        self.assertAlmostEqual(m["p50_over_floor"], round(5.0 / floor, 4))
        self.assertEqual(m["origin_bytes_over_F"], 4.0)
        self.assertAlmostEqual(m["recv_cpu_s_per_GB"], round(0.5 / (4 * FakeCtx.F / 1e9), 3))
        r2 = ModeResult("bittorrent")
        r2.times = {"a0": 1.0, "a1": None, "a2": 1.0, "a3": 1.0}
        r2.fail("a1 not done")
        m2 = r2.metrics(FakeCtx())
        self.assertFalse(m2["ok"])
        self.assertIsNone(m2["time_to_last_ready_over_floor"])
        header = {"F": FakeCtx.F, "B_bps": 240000000, "B_nominal_bps": 250000000, "N": 4,
                  "zones": 2, "floor_s": floor}
        text = report.table(header, [m, m2], {"shardcast": "binaries not built"})
        self.assertIn("direct", text)
        self.assertIn("bittorrent: FAILED: a1 not done", text)
        self.assertIn("shardcast: skipped: binaries not built", text)
        obj = json.loads(report.json_line(header, [m, m2], {}))
        self.assertEqual(obj["mode"], "direct")
        self.assertEqual(set(obj["modes"]), {"direct", "bittorrent"})
        for k in ("time_to_last_ready_over_floor", "p50_over_floor", "origin_bytes_over_F",
                  "cross_zone_bytes_over_F", "recv_cpu_s_per_GB", "peak_agent_rss_bytes",
                  "F", "B_bps", "N"):
            self.assertIn(k, obj)

    def test_flags(self):
        a = cli.parse_args(["--agents", "4", "--size", "16MiB", "--baseline", "all"])
        self.assertEqual(a.baselines, ["direct", "bittorrent", "ceiling"])
        self.assertEqual(a.size_bytes, 16 * MIB)
        self.assertEqual(cli.parse_args(["--baseline", "none"]).baselines, [])
        with self.assertRaises(SystemExit):
            cli.parse_args(["--baseline", "kazaa"])
        with self.assertRaises(SystemExit):
            cli.parse_args(["--burst", "32KiB"])


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Smoke test of the fleet simulator (ctest labels integration;bench): runs the real
shardcast-sim binary at N = 100 with a small model and --json, and checks the JSON
object on its last line (the keys the issue names, and figures the model implies),
the table, and that a bad flag is one line and exit status 2.
"""
import argparse
import json
import os
import subprocess
import sys

REQUIRED = ["time_to_last_ready_over_floor", "p50_over_floor", "origin_bytes_over_F",
            "cross_zone_bytes_over_F", "controller_msgs_per_s", "wall_s", "F", "B_bps", "N",
            "events_per_s", "sim_pieces", "bundle"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True, help="build directory holding bin/shardcast-sim")
    args = ap.parse_args()
    sim = os.path.join(args.bin_dir, "bin", "shardcast-sim")
    argv = [sim, "--nodes", "100", "--size", "2GB", "--rate", "250mbit", "--piece-size", "16MiB",
            "--json"]
    print("running: " + " ".join(argv), flush=True)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    check(out.returncode == 0, f"exit status 0 (got {out.returncode}: {out.stderr.strip()[:200]})")
    lines = out.stdout.strip().splitlines()
    obj = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    check(bool(obj), "the last line is a JSON object")
    for k in REQUIRED:
        check(k in obj, f"key {k}")
    if obj:
        check(obj["N"] == 100 and obj["F"] == 2 * 10**9 and obj["B_bps"] == 250 * 10**6,
              "N, F and B as asked")
        check(obj["ready_nodes"] == 100 and obj["not_ready_nodes"] == 0, "every node ready")
        check(obj["time_to_last_ready_over_floor"] >= obj["p50_over_floor"] >= 1.0,
              "last >= p50 >= the floor F/B")
        check(obj["origin_bytes_over_F"] == 1.0, "origin bytes / F == 1.000 (one region, no churn)")
        check(obj["cross_zone_bytes_over_F"] == 0, "no cross-zone bytes with one zone")
        check(obj["controller_msgs_per_s"] > 100, "controller messages per second reported")
        check(obj["sim_pieces"] == 120 and obj["bundle"] == 1, "2 GB / 16 MiB = 120 pieces, unbundled")
    check(any(l.startswith("  last/(F/B)") for l in lines), "the table has last/(F/B)")

    bad = subprocess.run([sim, "--rate", "fast"], capture_output=True, text=True, timeout=30)
    err = bad.stderr.strip()
    check(bad.returncode == 2, "a bad flag exits 2")
    check(err.count("\n") == 0 and "--rate" in err, f"one line naming the flag: {err!r}")
    help_out = subprocess.run([sim, "--help"], capture_output=True, text=True, timeout=30)
    check(help_out.returncode == 0 and "--max-inflight" in help_out.stdout, "--help lists the knobs")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("sim smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

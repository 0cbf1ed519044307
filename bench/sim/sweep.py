#!/usr/bin/env python3
"""Runs the simulator over the sweep of issue 4 and prints one table (markdown) and,
with --out, writes every point's JSON object to a file.

  bench/sim/sweep.py [--bin-dir build] [--out sweep.json] [--quick] [--big] [--only REGEX] [-j 1]
                     [--sim-args '--seed 2']

Points (B = 250 Mbit/s, one region, piece size as the controller picks it, i.e.
4 MiB below 16 GiB, 16 MiB from 32 GiB up, unless said):
  scale     N = 100, 1,000, 10,000 x F = 10, 140 GB with the agent's defaults and the
            earlier ones ("old"), and 10, 140, 700 GB with more of everything ("tuned";
            700 GB at N = 10,000 only with --big)
  pieces    4 / 16 / 64 MiB at N = 1,000, F = 10 GB
  bundling  N = 100, F = 140 GB simulated with 8345 (all), 2782, 928, 309 pieces: the
            approximation the 10,000-node points use (928 pieces), against the real count
  stress    5 % stragglers at B/2; churn (5 % leave, 5 % join) with and without
            seeders leaving; 3 zones with zones smaller and larger than K
--quick leaves out every N = 10,000 point. Each point prints its wall time; a 10,000-node
point takes ~2-5 minutes on this machine.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

# The knob settings the sweep compares: the agent's defaults (16 pieces in flight,
# one request per peer, since this sweep), the earlier ones (8 in flight, 2 per
# peer), and more of everything (32 in flight, 32 peers per node).
OLD = ["--max-inflight", "8", "--peer-requests", "2"]
TUNED = ["--max-inflight", "32", "--peer-requests", "1", "--peers-per-node", "32"]


def points(big):
    p = []
    for n in (100, 1000, 10000):
        for f in ("10GB", "140GB"):
            p.append((f"old N={n} F={f}", ["--nodes", str(n), "--size", f, *OLD]))
            p.append((f"defaults N={n} F={f}", ["--nodes", str(n), "--size", f]))
        for f in ("10GB", "140GB") + (("700GB",) if big or n < 10000 else ()):
            p.append((f"tuned N={n} F={f}", ["--nodes", str(n), "--size", f, *TUNED]))
    for ps in ("4MiB", "16MiB", "64MiB"):
        p.append((f"pieces {ps} tuned N=1000 F=10GB",
                  ["--nodes", "1000", "--size", "10GB", "--piece-size", ps, *TUNED]))
    # The approximation of the big points: fewer, bigger pieces (delays scaled along).
    for m in (8345, 2782, 928, 309):
        p.append((f"bundling max {m} pieces tuned N=100 F=140GB",
                  ["--nodes", "100", "--size", "140GB", "--max-sim-pieces", str(m), "--step", "0.25s",
                   *TUNED]))
    p.append(("stragglers 5% at B/2 tuned N=1000 F=10GB",
              ["--nodes", "1000", "--size", "10GB", "--stragglers", "0.05", *TUNED]))
    p.append(("churn 5% (seeders stay) tuned N=1000 F=10GB",
              ["--nodes", "1000", "--size", "10GB", "--churn", "0.05", "--churn-spare-seeders", *TUNED]))
    p.append(("churn 5% (seeders too) tuned N=1000 F=10GB",
              ["--nodes", "1000", "--size", "10GB", "--churn", "0.05", *TUNED]))
    p.append(("zones 3 tuned N=48 F=10GB", ["--nodes", "48", "--size", "10GB", "--zones", "3", *TUNED]))
    p.append(("zones 3 tuned N=1000 F=10GB", ["--nodes", "1000", "--size", "10GB", "--zones", "3", *TUNED]))
    return p


def find_sim(bin_dir):
    for d in ([bin_dir] if bin_dir else []) + [os.environ.get("SHARDCAST_BIN_DIR", ""),
                                                 os.path.join(REPO, "build")]:
        if d and os.access(os.path.join(d, "bin", "shardcast-sim"), os.X_OK):
            return os.path.join(d, "bin", "shardcast-sim")
    return None


def run_point(sim, name, argv, common):
    t0 = time.monotonic()
    out = subprocess.run([sim, *common, *argv, "--json"], capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    obj = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    if obj is None:
        obj = {"error": (out.stderr or out.stdout).strip()[-300:]}
    obj["point"] = name
    obj["argv"] = argv
    obj["exit"] = out.returncode
    obj["driver_wall_s"] = round(time.monotonic() - t0, 1)
    return obj


def row(o):
    if "error" in o:
        return f"| {o['point']} | failed: {o['error']} |"
    k = o["knobs"]
    knobs = f"S={k['max_seeders']} K={k['peers_per_node']} inflight={k['max_inflight']} " \
            f"per-peer={k['peer_requests']} origin-conc={k['origin_concurrency']}"
    stalled = "" if o["not_ready_nodes"] == 0 else f" ({o['not_ready_nodes']} stalled)"
    return (f"| {o['point']} | {o['N']} | {o['F'] / 1e9:g} GB | {o['piece_size'] >> 20} MiB"
            f"{'' if o['bundle'] == 1 else ' x' + str(o['bundle'])} | {knobs} | "
            f"{o['time_to_last_ready_over_floor']:.3f}{stalled} | {o['p50_over_floor']:.3f} | "
            f"{o['origin_bytes_over_F']:.3f} | {o['cross_zone_bytes_over_F']:.2f} | "
            f"{o['controller_msgs_per_s']:.0f} | {o['wall_s']:.0f} s |")


def main():
    ap = argparse.ArgumentParser(description="the simulator sweep of issue 4")
    ap.add_argument("--bin-dir", default="")
    ap.add_argument("--out", default="", help="write all points' JSON objects here")
    ap.add_argument("--quick", action="store_true", help="leave out N = 10,000")
    ap.add_argument("--big", action="store_true", help="add F = 700 GB at N = 10,000")
    ap.add_argument("--only", default="", help="run only points whose name matches this regex")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="points run at once (default 1)")
    ap.add_argument("--sim-args", default="", help="flags for every point, e.g. '--seed 2'")
    args = ap.parse_args()
    args.common = shlex.split(args.sim_args)
    sim = find_sim(args.bin_dir)
    if not sim:
        print("sweep.py: shardcast-sim not built (cmake --build build --target shardcast-sim, or "
              "pass --bin-dir)", file=sys.stderr)
        return 2
    todo = [(n, a) for n, a in points(args.big)
            if (not args.quick or "N=10000" not in n) and (not args.only or re.search(args.only, n))]
    header = ("| point | N | F | piece | knobs | last/(F/B) | p50/(F/B) | origin/F | xzone/F | "
              "ctl msgs/s | wall |\n|---|---|---|---|---|---|---|---|---|---|---|")
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_point, sim, n, a, args.common) for n, a in todo]
        for fut in futures:
            o = fut.result()
            results.append(o)
            print(f"{o['point']}: " + (f"last/(F/B) {o['time_to_last_ready_over_floor']:.3f}, "
                                       f"wall {o['wall_s']:.0f} s" if "error" not in o else o["error"]),
                  file=sys.stderr, flush=True)
    print(header)
    for o in results:
        print(row(o))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if all(o.get("exit") == 0 for o in results) else 1


if __name__ == "__main__":
    sys.exit(main())

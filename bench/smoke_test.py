#!/usr/bin/env python3
"""Smoke test of the benchmark rig (ctest label "bench"): a short run with N = 4 and
F = 16 MiB, the direct baseline, and shardcast when its binaries are built.

  bench/rig --agents 4 --size 16MiB --rate 250mbit --baseline direct --json

Asserts, from the JSON object on the rig's last line:
  * the keys the issue names are there, with F, N and B as asked (B measured within
    0.85-1.0 of the nominal rate);
  * direct: every node done, origin bytes / F == N exactly (nginx's own log), and the
    time to the last node at least ~N x F/B (the origin link is shared);
  * shardcast (when built): every node ready, origin bytes / F == 1.000;
  * no namespace of the run is left behind.
With --zones Z (a second ctest, bench_rig_zones): N = 6 agents in Z zones, F = 64 MiB,
shardcast only; every node ready, origin bytes / F == 1.000, and the piece bytes the
agents received from other zones == (Z - 1) x F exactly (each piece entered each zone
once), with at least that much TCP payload counted across zones on the wire.
Exit 77 (ctest: skipped) when not root, or with --zones when shardcast is not built.
"""
import argparse
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRED = ["time_to_last_ready_over_floor", "p50_over_floor", "origin_bytes_over_F",
            "cross_zone_bytes_over_F", "recv_cpu_s_per_GB", "peak_agent_rss_bytes", "F", "B_bps", "N"]
N = 4
F = 16 << 20
RATE = 250_000_000

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default="", help="build directory with bin/shardcast*")
    ap.add_argument("--zones", type=int, default=0, help="the zones smoke run instead")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench smoke test skipped: the rig needs root (network namespaces)")
        return 77
    if args.zones:
        return zones_main(args)

    argv = [os.path.join(HERE, "rig"), "--agents", str(N), "--size", "16MiB", "--rate", "250mbit",
            "--baseline", "direct", "--json", "--timeout", "120"]
    obj = run_rig(argv, args)
    if obj is None:
        return 1
    for k in REQUIRED:
        check(k in obj, f"top-level key {k}")
    check(obj.get("F") == F and obj.get("N") == N, f"F = {obj.get('F')}, N = {obj.get('N')}")
    b = obj.get("B_bps") or 0
    check(0.85 * RATE <= b <= 1.0 * RATE, f"B measured {b / 1e6:.1f} Mbit/s is 0.85-1.0 x nominal")
    direct_checks(obj)

    if "shardcast" in obj.get("modes", {}):
        s = obj["modes"]["shardcast"]
        shardcast_checks(s, N, F)
        check(obj.get("mode") == "shardcast", "shardcast's figures are the top-level ones")
    else:
        why = obj.get("skipped", {}).get("shardcast", "not run")
        print(f"NOTE shardcast mode skipped ({why}); only the direct baseline was checked",
              flush=True)
    return finish()


def zones_main(args):
    n, f, z = 6, 64 << 20, args.zones
    argv = [os.path.join(HERE, "rig"), "--agents", str(n), "--size", "64MiB", "--rate", "250mbit",
            "--zones", str(z), "--json", "--timeout", "120"]
    obj = run_rig(argv, args)
    if obj is None:
        return 1
    s = obj.get("modes", {}).get("shardcast")
    if s is None:
        print(f"bench zones smoke test skipped: shardcast not run ({obj.get('skipped')})")
        return 77
    shardcast_checks(s, n, f)
    piece = s.get("cross_zone_piece_bytes_over_F")
    check(piece == z - 1, f"piece bytes from other zones / F = {piece} (must be Z - 1 = {z - 1})")
    wire = s.get("cross_zone_bytes_over_F") or 0
    check(wire >= z - 1, f"TCP payload across zones / F = {wire} >= the piece bytes")
    return finish()


def shardcast_checks(s, n, f):
    check(s.get("ok") is True, f"shardcast run completed ({s.get('error')})")
    check(s.get("nodes_ready") == n, f"shardcast: {s.get('nodes_ready')} of {n} nodes ready")
    check(s.get("origin_bytes") == f,
          f"shardcast: origin bytes / F = {s.get('origin_bytes_over_F')} (must be 1.000)")


def finish():
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


def run_rig(argv, args):
    """Runs the rig, checks it exits 0 and cleans up; its last line's JSON, or None."""
    if args.bin_dir:
        argv += ["--bin-dir", args.bin_dir]
    print("running: " + " ".join(argv), flush=True)
    rig = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)

    def forward(signum, _frame):
        rig.send_signal(signal.SIGTERM)  # the rig cleans up its namespaces on SIGTERM
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        out, _ = rig.communicate(timeout=280)
    except subprocess.TimeoutExpired:
        rig.terminate()
        out, _ = rig.communicate(timeout=30)
        check(False, "rig finished within 280 s")
    print(out, end="", flush=True)
    check(rig.returncode == 0, f"rig exits 0 (got {rig.returncode})")

    left = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, text=True).stdout
    check(f"scb-{rig.pid}-" not in left, "no namespace of the run is left behind")

    lines = [ln for ln in out.splitlines() if ln.strip()]
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        check(False, "the last line is one JSON object")
        return None


def direct_checks(obj):
    d = obj.get("modes", {}).get("direct", {})
    check(d.get("ok") is True, f"direct run completed ({d.get('error')})")
    check(d.get("nodes_ready") == N, f"direct: {d.get('nodes_ready')} of {N} nodes done")
    check(d.get("origin_bytes") == N * F, f"direct: origin bytes {d.get('origin_bytes')} == N x F")
    last = d.get("time_to_last_ready_over_floor") or 0
    check(0.9 * N <= last <= 4 * N, f"direct: last/(F/B) = {last} is about N (shared origin link)")
    check(d.get("cross_zone_bytes_over_F") == 0, "direct: no cross-zone bytes with one zone")
    check((d.get("recv_cpu_s_per_GB") or 0) > 0, "direct: receiver CPU was measured")
    check((d.get("peak_agent_rss_bytes") or 0) > 0, "direct: peak RSS was measured")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Validates the simulator against a rig run: reads the JSON object `bench/rig --json`
printed (a file holding the rig's output, or '-' for stdin), runs shardcast-sim with
the same N, F (split into the rig's shards), the measured B, piece size and agent
defaults, over several seeds, and prints the rig's and the simulator's times side by
side with the difference in %.

  sudo bench/rig --agents 16 --size 256MiB --rate 250mbit --baseline ceiling --json | tee rig.out
  bench/sim/validate.py rig.out [--bin-dir build] [--seeds 5] [--sim-args '--request-overhead 50ms']

Calibration (each one printed, none hidden):
  * B is the rig's measured goodput of one link (not the tc rate); the origin's link too.
  * The host's CPU: on a 2-core host the rig is CPU-bound at N = 16 (DESIGN §9), which no
    link model shows. The simulator caps all transfers together (--aggregate-rate) at
    cpus / (machine CPU seconds per GB delivered), that cost measured on ANOTHER rig run
    given with --calibrate-from (machine busy x cpus x time / (N x F)); calibrating on
    the run being predicted would be circular. Without --calibrate-from, and when the
    run has the `ceiling` mode, the ceiling's throughput (N x F / its time) is the cap:
    nginx and curl cost less CPU per byte than agents, so that cap is optimistic.
    --no-cpu-cap turns both off.
  * --efficiency: the goodput of many TCP flows sharing a tbf link (and of the agents
    on a busy host) as a fraction of the single-flow probe B. Calibrate it on one run
    (the ratio rig/sim of last-ready times at efficiency 1), check it on another.
  * --rtt: tbf queues of --latency-ms (20 ms) on each saturated link add queueing
    delay to every request; default 20ms here.
Exit 0 when the simulated time to last ready is within --tolerance (default 5 %) of
the rig's, 1 when not, 2 on bad input.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def find_sim(bin_dir):
    for d in ([bin_dir] if bin_dir else []) + [os.environ.get("SHARDCAST_BIN_DIR", ""),
                                                 os.path.join(REPO, "build")]:
        if d and os.access(os.path.join(d, "bin", "shardcast-sim"), os.X_OK):
            return os.path.join(d, "bin", "shardcast-sim")
    return None


def sim_args(rig, args):
    F, B, N = rig["F"], rig["B_bps"], rig["N"]
    eff = round(B * args.efficiency)
    argv = ["--nodes", str(N), "--size", str(F), "--rate", f"{eff}bit", "--files", str(args.shards),
            "--zones", str(rig.get("zones", 1)), "--piece-size", args.piece_size, "--rtt", args.rtt,
            "--origin-latency", args.origin_latency, "--start-delay", args.start_delay, "--json"]
    notes = [f"B = {B / 1e6:.1f} Mbit/s measured by the rig (one curl flow on an idle link)"
             + ("" if args.efficiency == 1 else
                f"; links and origin simulated at {args.efficiency:g} x B = {eff / 1e6:.1f} Mbit/s"),
             f"rtt {args.rtt} (tbf queueing), origin latency {args.origin_latency}, "
             f"start delay {args.start_delay}"]
    ceiling = rig.get("modes", {}).get("ceiling", {})
    if args.no_cpu_cap:
        return argv + args.extra, notes
    if args.calibrate_from:
        cal = last_json(open(args.calibrate_from).read()) or {}
        cs = cal.get("modes", {}).get("shardcast", {})
        cpus = cal.get("cpus") or 2
        if not cs.get("time_to_last_ready_s") or not cs.get("machine_busy_fraction"):
            raise SystemExit("validate.py: --calibrate-from has no shardcast run with machine busy")
        cost = cs["machine_busy_fraction"] * cpus * cs["time_to_last_ready_s"] / (cal["N"] * cal["F"] / 1e9)
        agg = cpus / cost * 1e9 * 8
        argv += ["--aggregate-rate", f"{round(agg)}bit"]
        notes.append(f"CPU cap {agg / 1e9:.2f} Gbit/s = {cpus} cpus / {cost:.2f} machine CPU s per GB "
                     f"delivered, measured on {os.path.basename(args.calibrate_from)} (N={cal['N']}, "
                     f"F={cal['F']})")
    elif ceiling.get("time_to_last_ready_s"):
        agg = N * F * 8 / ceiling["time_to_last_ready_s"]
        argv += ["--aggregate-rate", f"{round(agg)}bit"]
        notes.append(f"aggregate cap {agg / 1e9:.2f} Gbit/s = N x F / the rig's ceiling time "
                     f"({ceiling['time_to_last_ready_over_floor']:.3f} x F/B): the host's throughput")
    return argv + args.extra, notes


def main():
    ap = argparse.ArgumentParser(description="compare shardcast-sim with a bench/rig --json run")
    ap.add_argument("rig_output", help="file with the rig's output (its last JSON line), or -")
    ap.add_argument("--bin-dir", default="", help="build dir holding bin/shardcast-sim")
    ap.add_argument("--seeds", type=int, default=5, help="simulator runs (seeds 1..S), averaged")
    ap.add_argument("--piece-size", default="auto",
                    help="the rollout's piece size (rig --piece-size; auto: the controller's choice)")
    ap.add_argument("--shards", type=int, default=2, help="the rig's --shards")
    ap.add_argument("--rtt", default="20ms")
    ap.add_argument("--origin-latency", default="20ms")
    ap.add_argument("--start-delay", default="0ms")
    ap.add_argument("--calibrate-from", default="", help="another rig output: its CPU cost per GB caps the sim")
    ap.add_argument("--no-cpu-cap", action="store_true", help="no CPU cap at all")
    ap.add_argument("--efficiency", type=float, default=1.0,
                    help="simulated link rate / measured B: the goodput of many TCP flows sharing one "
                         "tbf link, calibrated on another run (default 1)")
    ap.add_argument("--tolerance", type=float, default=0.05)
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    ap.add_argument("--sim-args", default="", help="more shardcast-sim flags, e.g. '--request-overhead 50ms'")
    args = ap.parse_args()
    args.extra = shlex.split(args.sim_args)

    text = sys.stdin.read() if args.rig_output == "-" else open(args.rig_output).read()
    rig = last_json(text)
    if not rig or "F" not in rig:
        print("validate.py: no rig JSON object found (run bench/rig with --json)", file=sys.stderr)
        return 2
    shard = rig.get("modes", {}).get("shardcast")
    if not shard or not shard.get("time_to_last_ready_s"):
        print("validate.py: the rig output has no completed shardcast run", file=sys.stderr)
        return 2
    sim = find_sim(args.bin_dir)
    if not sim:
        print("validate.py: shardcast-sim not built (cmake --build build --target shardcast-sim, "
              "or pass --bin-dir)", file=sys.stderr)
        return 2
    base, notes = sim_args(rig, args)
    runs = []
    for seed in range(1, args.seeds + 1):
        out = subprocess.run([sim, *base, "--seed", str(seed)], capture_output=True, text=True, timeout=600)
        obj = last_json(out.stdout)
        if out.returncode not in (0, 1) or not obj:
            print(f"validate.py: shardcast-sim failed: {out.stderr.strip()[:300]}", file=sys.stderr)
            return 2
        runs.append(obj)
    floor = rig["F"] * 8 / rig["B_bps"]
    rig_last, rig_p50 = shard["time_to_last_ready_s"], shard["p50_s"]
    sim_last = statistics.mean(r["time_to_last_ready_s"] for r in runs)
    sim_p50 = statistics.mean(r["p50_s"] for r in runs)
    spread = (min(r["time_to_last_ready_s"] for r in runs), max(r["time_to_last_ready_s"] for r in runs))
    diff = (sim_last - rig_last) / rig_last
    diff50 = (sim_p50 - rig_p50) / rig_p50
    print(f"N = {rig['N']}, F = {rig['F']} bytes, B = {rig['B_bps'] / 1e6:.1f} Mbit/s, "
          f"floor F/B = {floor:.2f} s; simulator: mean of {len(runs)} seeds")
    for n in notes:
        print(f"  calibration: {n}")
    print(f"{'':24}{'rig':>10}{'sim':>10}{'diff':>9}")
    print(f"{'last ready (s)':24}{rig_last:>10.2f}{sim_last:>10.2f}{diff:>+9.1%}")
    print(f"{'last/(F/B)':24}{rig_last / floor:>10.3f}{sim_last / floor:>10.3f}")
    print(f"{'p50 (s)':24}{rig_p50:>10.2f}{sim_p50:>10.2f}{diff50:>+9.1%}")
    print(f"{'origin/F':24}{shard.get('origin_bytes_over_F') or 0:>10.3f}"
          f"{statistics.mean(r['origin_bytes_over_F'] for r in runs):>10.3f}")
    print(f"sim last ready over seeds: {spread[0]:.2f}-{spread[1]:.2f} s; "
          f"rig machine busy {shard.get('machine_busy_fraction')}, "
          f"recv CPU {shard.get('recv_cpu_s_per_GB')} s/GB")
    ok = abs(diff) <= args.tolerance
    print(("within" if ok else "OUTSIDE") + f" ±{args.tolerance:.0%}")
    if args.json:
        print(json.dumps({"rig_last_s": rig_last, "sim_last_s": round(sim_last, 4), "diff": round(diff, 4),
                          "rig_p50_s": rig_p50, "sim_p50_s": round(sim_p50, 4), "diff_p50": round(diff50, 4),
                          "floor_s": round(floor, 4), "sim_args": base, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""bench/rig's driver: parses flags, builds the namespaces, measures B, runs
shardcast and the requested baselines on the same rig in one run, prints the table
and (with --json) one JSON object as the last line, and removes everything it made,
also on failure and on Ctrl-C / SIGTERM.

Exit codes: 0 every requested mode completed, 1 a mode failed, 2 bad flags,
77 not root (the rig needs root; ctest treats 77 as "skipped").
"""
import argparse
import atexit
import os
import shutil
import signal
import sys
import tempfile
import traceback

from . import mode_bittorrent, mode_direct, mode_shardcast, report
from .context import ModeResult, RunContext
from . import calibrate
from .model import write_model, write_probe
from .procs import ProcessGroup
from .topology import Topology, sweep_leftovers
from .util import REPO, RigError, log, parse_rate, parse_size

BASELINES = ("direct", "bittorrent", "ceiling")


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="bench/rig",
        description="shardcast benchmark rig: N agents in network namespaces with rate-limited "
                    "links; runs shardcast and baselines on the same rig and prints "
                    "time-to-ready / (F/B), origin bytes / F and more.")
    ap.add_argument("--agents", type=int, default=16, help="N agents (default 16)")
    ap.add_argument("--size", default="1GiB", help="model bytes F: BYTES or e.g. 1GiB, 64MiB")
    ap.add_argument("--rate", default="250mbit", help="tc rate of every link (default 250mbit)")
    ap.add_argument("--zones", type=int, default=1, help="Z zones, agents assigned round-robin")
    ap.add_argument("--baseline", default="none",
                    help="none, direct, bittorrent, ceiling, all, or a comma list")
    ap.add_argument("--shardcast", choices=("auto", "on", "off"), default="auto",
                    help="auto: run shardcast when its binaries are built, else skip with a "
                         "message; on: missing binaries are an error; off: baselines only")
    ap.add_argument("--bin-dir", default=os.environ.get("SHARDCAST_BIN_DIR", ""),
                    help="build directory holding bin/shardcast* (default $SHARDCAST_BIN_DIR, "
                         "else <repo>/build)")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    ap.add_argument("--shards", type=int, default=2, help="safetensors shards of the model")
    ap.add_argument("--piece-size", default="", help="shardcast deploy --piece-size (default: CLI's)")
    ap.add_argument("--controller-arg", action="append", default=[], metavar="FLAG",
                    help="extra shardcast-controller flag, e.g. --controller-arg=--max-seeders=8 "
                         "(repeatable)")
    ap.add_argument("--agent-arg", action="append", default=[], metavar="FLAG",
                    help="extra shardcast-agent flag for every agent (repeatable)")
    ap.add_argument("--timeout", type=float, default=0,
                    help="seconds per mode (default: 4 x N x F/B + 60)")
    ap.add_argument("--subnet", default="10.203.0.0/16", help="private range used inside the rig")
    ap.add_argument("--burst", default="128KiB", help="tbf burst (>= 64 KiB, see DESIGN §9)")
    ap.add_argument("--latency-ms", type=int, default=20, help="tbf queue latency")
    ap.add_argument("--settle", type=float, default=1.0,
                    help="seconds between the agents being up and the deploy")
    ap.add_argument("--no-verify", action="store_true",
                    help="skip the SHA-256 check of every agent's files after the shardcast run")
    ap.add_argument("--workdir", default="", help="work directory (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args(argv)
    try:
        args.size_bytes = parse_size(args.size)
        args.rate_bps = parse_rate(args.rate)
        args.burst_bytes = parse_size(args.burst)
    except RigError as e:
        ap.error(str(e))
    if args.burst_bytes < 64 << 10:
        ap.error("--burst must be at least 64KiB (smaller bursts make the kernel segment GSO packets)")
    wanted = [b.strip() for b in args.baseline.split(",") if b.strip()]
    if wanted == ["all"]:
        wanted = list(BASELINES)
    if wanted == ["none"]:
        wanted = []
    bad = [b for b in wanted if b not in BASELINES]
    if bad:
        ap.error(f"unknown baseline(s) {bad}; choose from none, {', '.join(BASELINES)}, all")
    args.baselines = wanted
    if args.agents < 1 or args.agents > 1000:
        ap.error("--agents must be between 1 and 1000")
    if args.shards < 1:
        ap.error("--shards must be at least 1")
    return args


def find_bin_dir(args):
    candidates = [args.bin_dir] if args.bin_dir else [os.path.join(REPO, "build")]
    for c in candidates:
        if all(os.access(os.path.join(c, "bin", b), os.X_OK) for b in mode_shardcast.BINARIES):
            return c, None
    where = os.path.join(candidates[0], "bin")
    missing = [b for b in mode_shardcast.BINARIES if not os.access(os.path.join(where, b), os.X_OK)]
    return None, f"binaries not built: {', '.join(missing)} missing in {where} (use --bin-dir)"


class _Interrupted(BaseException):
    pass


def _on_signal(signum, _frame):
    raise _Interrupted(signal.Signals(signum).name)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        print("bench/rig: needs root (network namespaces, veth, tc); skipping", file=sys.stderr)
        return 77
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)

    modes = []
    skipped = {}
    bin_dir = None
    if args.shardcast != "off":
        bin_dir, why = find_bin_dir(args)
        if bin_dir:
            modes.append("shardcast")
        elif args.shardcast == "on":
            print(f"bench/rig: shardcast mode: {why}", file=sys.stderr)
            return 2
        else:
            skipped["shardcast"] = why
            log(f"shardcast mode skipped: {why}")
    modes += args.baselines
    if not modes:
        print("bench/rig: nothing to run (no shardcast binaries and --baseline none)", file=sys.stderr)
        return 2

    sweep_leftovers()
    group = ProcessGroup()
    topo = Topology(args.agents, args.rate_bps, zones=args.zones, subnet=args.subnet,
                    burst_bytes=args.burst_bytes, latency_ms=args.latency_ms)
    workdir = args.workdir or tempfile.mkdtemp(prefix=topo.prefix)
    os.makedirs(workdir, exist_ok=True)
    os.chmod(workdir, 0o755)  # nginx workers and opentracker run as nobody

    cleaned = []

    def cleanup():
        if cleaned:
            return
        cleaned.append(True)
        group.close(timeout=5)
        topo.destroy()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept {workdir}")
    atexit.register(cleanup)

    rows = []
    code = 0
    try:
        origin_root = os.path.join(workdir, "origin")
        log(f"writing a {args.size_bytes}-byte model ({args.shards} shards) in {origin_root}")
        files, digests = write_model(origin_root, args.size_bytes, args.shards)
        probe_path, probe_size = write_probe(origin_root, args.rate_bps)
        topo.create()
        floor_nominal = args.size_bytes * 8 / args.rate_bps
        timeout = args.timeout or 4 * args.agents * floor_nominal + 60
        ctx = RunContext(topo, group, workdir, origin_root, files, args.size_bytes, args.rate_bps,
                         timeout, bin_dir=bin_dir, piece_size=args.piece_size or None,
                         settle_s=args.settle, verify=not args.no_verify,
                         controller_args=args.controller_arg, agent_args=args.agent_arg)
        ctx.digests = digests
        ctx.B_bps, samples = mode_direct.measure_B(ctx, probe_path, probe_size)
        header = {"F": ctx.F, "B_bps": round(ctx.B_bps), "B_nominal_bps": args.rate_bps,
                  "B_samples_bps": [round(s) for s in samples], "N": args.agents,
                  "zones": args.zones, "floor_s": round(ctx.F * 8 / ctx.B_bps, 4),
                  "cpus": os.cpu_count(),
                  "page_cache_fill_cpu_s_per_GB": calibrate.page_cache_fill_cpu_s_per_GB(workdir)}
        for mode in modes:
            log(f"== {mode}: N={args.agents} F={args.size_bytes} (timeout {timeout:.0f}s)")
            try:
                if mode == "shardcast":
                    res = mode_shardcast.run(ctx)
                elif mode == "bittorrent":
                    res = mode_bittorrent.run(ctx)
                else:
                    res = mode_direct.run_curl_mode(ctx, mode)
            except RigError as e:
                res = ModeResult(mode)
                res.fail(str(e))
            except Exception as e:  # a bug in the rig: report it as this mode's failure
                log(traceback.format_exc())
                res = ModeResult(mode)
                res.fail(f"internal error: {e!r}")
            m = res.metrics(ctx)
            rows.append(m)
            if not m["ok"]:
                code = 1
            log(f"{mode}: last/(F/B) = {m['time_to_last_ready_over_floor']}, "
                f"origin/F = {m['origin_bytes_over_F']}")
        print(report.table(header, rows, skipped), flush=True)
        if args.json:
            print(report.json_line(header, rows, skipped), flush=True)
    except RigError as e:
        print(f"bench/rig: {e}", file=sys.stderr)
        code = 1
    except _Interrupted as e:
        print(f"bench/rig: interrupted ({e}); cleaning up", file=sys.stderr)
        code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cleanup()
    return code

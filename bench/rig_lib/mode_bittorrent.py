"""The BitTorrent baseline: one aria2c seed in the origin's namespace (so on the
origin's rate-limited link), opentracker in the controller's namespace, and N aria2c
leechers, one per agent namespace, started at once. Leechers keep seeding (--seed-time)
until every one is done; DHT, LPD and proxies are off, so peers are found only
through the tracker (and peer exchange).

Completion time of each leecher: aria2c runs --on-bt-download-complete (after the
last piece is verified, before seeding) which writes the wall-clock time to a file.
Origin bytes: the seed's own count of piece bytes uploaded (aria2c's JSON-RPC
uploadLength, asked with curl inside the origin's namespace on its own loopback),
like nginx's log for the HTTP modes; the origin link's TCP payload (nftables
counter, retransmissions included) is reported beside it.
"""
import json
import os
import re
import secrets
import shutil
import stat
import time
import urllib.parse

from .context import Counters, ModeResult
from .model import MODEL_DIR
from .procs import cpu_seconds, peak_rss, stop_all
from .servers import OpenTracker, wait_listening
import subprocess

from .util import RigError, log, ns_argv, wait_until
from .util import run as sh

TRACKER_PORT = 6969
RPC_PORT = 6800  # the seed's JSON-RPC, on the origin namespace's loopback
BT_PORT = 6881

HOOK = """#!/bin/sh
# aria2c --on-bt-download-complete hook: records when this leecher had every piece.
date +%s.%N > "{done}.tmp" && mv "{done}.tmp" "{done}"
"""


def piece_length_exp(size):
    """2^n piece length: about 1,000-2,000 pieces, between 256 KiB and 16 MiB."""
    n = 18
    while n < 24 and size / (1 << n) > 2000:
        n += 1
    return n


def aria2_common(seed_minutes):
    return ["aria2c", "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
            "--disable-ipv6=true", "--no-conf=true", "--all-proxy=", "--check-certificate=false",
            f"--listen-port={BT_PORT}", "--bt-max-peers=0", "--seed-ratio=0.0",
            f"--seed-time={seed_minutes:.2f}", "--file-allocation=none",
            "--console-log-level=warn", "--summary-interval=0", "--download-result=hide",
            "--show-console-readout=false",
            "--max-overall-upload-limit=0", "--max-overall-download-limit=0",
            "--bt-stop-timeout=0", "--auto-file-renaming=false", "--allow-overwrite=true"]


def make_torrent(ctx, bt_dir, announce):
    """Hard links of the model files (not the shardcast index) under bt_dir/model,
    and bt_dir/model.torrent. Returns (torrent path, info hash hex)."""
    src = os.path.join(ctx.origin_root, MODEL_DIR)
    content = os.path.join(bt_dir, "seed", MODEL_DIR)
    for p in ctx.files:
        dst = os.path.join(content, p)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst):
            os.link(os.path.join(src, p), dst)
    torrent = os.path.join(bt_dir, "model.torrent")
    if os.path.exists(torrent):
        os.unlink(torrent)
    sh(["mktorrent", "-a", announce, "-l", str(piece_length_exp(ctx.F)), "-n", MODEL_DIR,
         "-o", torrent, "-t", "2", content], timeout=600)
    r = sh(["aria2c", "-S", torrent])
    m = re.search(r"Info Hash:\s*([0-9a-fA-F]{40})", r.stdout)
    if not m:
        raise RigError(f"no info hash in `aria2c -S {torrent}`: {r.stdout[:500]}")
    os.chmod(torrent, 0o644)
    return torrent, m.group(1).lower()


def scrape_complete(ctx, tracker_ip, info_hash):
    """Seeders the tracker knows for info_hash (curl run inside the controller's ns)."""
    q = urllib.parse.quote_from_bytes(bytes.fromhex(info_hash))
    try:
        r = subprocess.run(ns_argv(ctx.topo.controller.ns,
                                   ["curl", "-sS", "--noproxy", "*", "--max-time", "3",
                                    f"http://{tracker_ip}:{TRACKER_PORT}/scrape?info_hash={q}"]),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL, timeout=10, env=ctx.env)
    except subprocess.TimeoutExpired:
        return 0
    m = re.search(rb"8:completei(\d+)e", r.stdout)
    return int(m.group(1)) if m else 0


def seed_upload_bytes(ctx, secret):
    """Piece bytes the seed uploaded so far, from its JSON-RPC on the origin namespace's
    own loopback (curl runs inside that namespace). None if it does not answer."""
    body = json.dumps({"jsonrpc": "2.0", "id": "rig", "method": "aria2.tellActive",
                       "params": [f"token:{secret}", ["uploadLength"]]})
    r = subprocess.run(ns_argv(ctx.topo.origin.ns,
                               ["curl", "-sS", "--noproxy", "*", "--max-time", "5", "-d", body,
                                f"http://127.0.0.1:{RPC_PORT}/jsonrpc"]),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, timeout=15, env=ctx.env)
    try:
        return sum(int(t["uploadLength"]) for t in json.loads(r.stdout)["result"])
    except (ValueError, KeyError, TypeError):
        return None


def run(ctx):
    """Runs the baseline on ctx's rig; returns a ModeResult."""
    res = ModeResult("bittorrent")
    topo = ctx.topo
    mdir = ctx.mode_dir("bittorrent")
    tracker = seeder = None
    leechers = {}
    seed_minutes = ctx.timeout_s / 60 + 5
    try:
        ctl = topo.controller
        announce = f"http://{ctl.ip}:{TRACKER_PORT}/announce"
        torrent, info_hash = make_torrent(ctx, mdir, announce)
        tracker = OpenTracker(ctx.group, ctl.ns, ctl.ip, TRACKER_PORT, mdir, [info_hash])
        rpc_secret = secrets.token_hex(16)
        seeder = ctx.group.start(
            "aria2c-seed", topo.origin.ns,
            aria2_common(seed_minutes) + ["--bt-seed-unverified=true", "--check-integrity=false",
                                          "--enable-rpc=true", "--rpc-listen-all=false",
                                          f"--rpc-listen-port={RPC_PORT}",
                                          f"--rpc-secret={rpc_secret}",
                                          f"--dir={os.path.join(mdir, 'seed')}", torrent],
            os.path.join(mdir, "aria2c-seed.log"), env=ctx.env)
        wait_listening(topo.origin.ns, BT_PORT, seeder, "aria2c seed")
        log(f"bittorrent: torrent {info_hash}, seed listening; waiting for its announce")
        wait_until(lambda: _alive_or_raise(seeder) and scrape_complete(ctx, ctl.ip, info_hash) >= 1,
                   30, "the seed to announce itself to the tracker", interval=0.2)
        done_files = {}
        argvs = {}
        for a in topo.agents:
            d = os.path.join(mdir, a.name)
            os.makedirs(d, exist_ok=True)
            done = os.path.join(d, "done")
            hook = os.path.join(d, "on-complete.sh")
            with open(hook, "w") as f:
                f.write(HOOK.format(done=done))
            os.chmod(hook, stat.S_IRWXU)
            done_files[a.name] = done
            argvs[a.name] = aria2_common(seed_minutes) + [
                f"--dir={os.path.join(d, 'files')}", f"--on-bt-download-complete={hook}",
                "--bt-tracker-connect-timeout=10", "--bt-tracker-timeout=10", torrent]
        counters = Counters(topo)
        t0_mono, t0_wall = time.monotonic(), time.time()
        for a in topo.agents:
            leechers[a.name] = ctx.group.start(f"aria2c-{a.name}", a.ns, argvs[a.name],
                                               os.path.join(mdir, f"aria2c-{a.name}.log"),
                                               env=ctx.env)
        deadline = t0_mono + ctx.timeout_s
        pending = set(leechers)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                if os.path.exists(done_files[name]):
                    with open(done_files[name]) as f:
                        res.times[name] = max(0.0, float(f.read().strip()) - t0_wall)
                    pending.discard(name)
                elif not leechers[name].alive():
                    res.times[name] = None
                    res.fail(f"aria2c in {name} exited {leechers[name].exit_code} before "
                             f"finishing: {leechers[name].log_tail(500).strip()}")
                    pending.discard(name)
            time.sleep(0.01)
        for name in pending:
            res.times[name] = None
            res.fail(f"{name} not done after {ctx.timeout_s:.0f}s")
        # Receivers' CPU and memory at the moment the last one finished.
        cpu = [cpu_seconds(p.pid) for p in leechers.values() if p.alive()]
        res.recv_cpu_s = sum(c for c in cpu if c is not None) + \
            sum(p.cpu_seconds() or 0 for p in leechers.values() if not p.alive())
        res.peak_rss = max((peak_rss(p.pid) or p.peak_rss() or 0) for p in leechers.values())
        uploaded = seed_upload_bytes(ctx, rpc_secret)
        counters.finish(res)
        res.origin_bytes = uploaded
        res.origin_bytes_method = ("the seed's own count of piece bytes uploaded (aria2c RPC "
                                   "uploadLength, asked inside the origin's namespace)")
        if uploaded is None:
            res.notes.append("the seed's RPC did not answer; origin bytes from the origin link's "
                             "TCP payload (includes retransmissions)")
        res.extra["piece_length"] = 1 << piece_length_exp(ctx.F)
        # aria2c verified every piece against the torrent's SHA-1s; check the sizes too.
        for a in topo.agents:
            for p, size in ctx.files.items():
                f = os.path.join(mdir, a.name, "files", MODEL_DIR, p)
                got = os.path.getsize(f) if os.path.exists(f) else -1
                if res.times.get(a.name) is not None and got != size:
                    res.fail(f"{a.name}: {p} has {got} of {size} bytes")
                    res.times[a.name] = None
        res.ok = res.error is None
    finally:
        stop_all(list(leechers.values()), timeout=5)
        stop_all([seeder], timeout=5)
        if tracker:
            tracker.stop()
        for a in topo.agents:
            shutil.rmtree(os.path.join(mdir, a.name), ignore_errors=True)
        shutil.rmtree(os.path.join(mdir, "seed"), ignore_errors=True)
    return res


def _alive_or_raise(p):
    if not p.alive():
        raise RigError(f"{p.name} exited {p.exit_code}: {p.log_tail(800)}")
    return True


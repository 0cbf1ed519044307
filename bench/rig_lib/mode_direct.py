"""HTTP runs with curl clients: the measurement of B, the "direct" baseline (every
agent pulls the whole model from the origin at once) and the rig's "ceiling"
(every agent pre-seeded and serving with nginx, agent i fetching from agent i+1,
N flows at once: the best the rig itself can do; DESIGN §9).

Every curl runs inside an agent's namespace; the driver only watches the processes
and reads nginx's log files afterwards.
"""
import os
import shutil
import signal
import time

from .context import Counters, ModeResult
from .procs import stop_all
from .model import MODEL_DIR
from .servers import NsNginx
from .util import RigError, log, ns_argv, run

ORIGIN_PORT = 80
PEER_NGINX_PORT = 8080


def curl_argv(urls_and_dests):
    argv = ["curl", "-sS", "--fail", "--noproxy", "*", "--create-dirs",
            "--connect-timeout", "10"]
    for url, dest in urls_and_dests:
        argv += ["-o", dest, url]
    return argv


def measure_B(ctx, probe_path, probe_size, rounds=2):
    """Goodput of one link: agent a0 downloads the probe file from the origin (both
    links limited at the nominal rate) to /dev/null, timed by curl from the first to
    the last byte. Returns bits/s (the mean of `rounds` downloads) and the samples."""
    a0 = ctx.topo.agents[0]
    nginx = NsNginx(ctx.group, ctx.topo.origin.ns, ctx.topo.origin.ip, ORIGIN_PORT,
                    ctx.origin_root, ctx.mode_dir("probe"), name="nginx-probe")
    samples = []
    try:
        for _ in range(rounds):
            r = run(ns_argv(a0.ns, ["curl", "-sS", "--fail", "--noproxy", "*", "-o", "/dev/null",
                                    "-w", "%{size_download} %{time_total} %{time_starttransfer}",
                                    nginx.url(probe_path)]),
                    timeout=max(60, probe_size * 8 / ctx.rate_bps * 10))
            size, total, start = r.stdout.split()
            if int(size) != probe_size:
                raise RigError(f"probe downloaded {size} of {probe_size} bytes")
            samples.append(int(size) * 8 / (float(total) - float(start)))
    finally:
        nginx.stop()
    b = sum(samples) / len(samples)
    log(f"B = {b / 1e6:.1f} Mbit/s measured ({b / ctx.rate_bps:.3f} x nominal "
        f"{ctx.rate_bps / 1e6:.0f} Mbit/s; samples {', '.join(f'{s / 1e6:.1f}' for s in samples)})")
    return b, samples


def run_curl_mode(ctx, mode):
    """mode 'direct' or 'ceiling'. Returns a ModeResult."""
    assert mode in ("direct", "ceiling")
    res = ModeResult(mode)
    topo = ctx.topo
    mdir = ctx.mode_dir(mode)
    servers = []
    clients = {}
    try:
        if mode == "direct":
            origin = NsNginx(ctx.group, topo.origin.ns, topo.origin.ip, ORIGIN_PORT,
                             ctx.origin_root, mdir, name="nginx-origin")
            servers.append(origin)
            source_of = {a.name: origin for a in topo.agents}
        else:
            for a in topo.agents:  # pre-seeded: each serves the model from the page cache
                servers.append(NsNginx(ctx.group, a.ns, a.ip, PEER_NGINX_PORT, ctx.origin_root,
                                       mdir, name=f"nginx-{a.name}", workers=1))
            n = len(topo.agents)
            source_of = {a.name: servers[(i + 1) % n] for i, a in enumerate(topo.agents)}
        counters = Counters(topo)
        t0 = time.monotonic()
        for a in topo.agents:
            dest = os.path.join(mdir, a.name, "files")
            src = source_of[a.name]
            pairs = [(src.url(f"{MODEL_DIR}/{p}"), os.path.join(dest, p)) for p in ctx.files]
            clients[a.name] = ctx.group.start(f"curl-{a.name}", a.ns, curl_argv(pairs),
                                              os.path.join(mdir, f"curl-{a.name}.log"),
                                              env=ctx.env)
        deadline = t0 + ctx.timeout_s
        pending = dict(clients)
        polls = 0
        while pending and time.monotonic() < deadline:
            polls += 1
            for name, p in list(pending.items()):
                if polls % 10 == 1:
                    p.sample_rss()  # curl's RSS is known only while it runs
                if p.try_reap():
                    del pending[name]
                    if p.exit_code == 0:
                        res.times[name] = p.exit_at - t0
                    else:
                        res.times[name] = None
                        res.fail(f"curl in {name} exited {p.exit_code}: {p.log_tail(500).strip()}")
            time.sleep(0.005)
        for name in pending:
            res.times[name] = None
            res.fail(f"{name} not done after {ctx.timeout_s:.0f}s")
            clients[name].stop()
        counters.finish(res)
        res.recv_cpu_s = sum(p.cpu_seconds() or 0 for p in clients.values())
        res.peak_rss = max((p.peak_rss() or 0) for p in clients.values())
        stop_all([s.proc for s in servers], sig=signal.SIGQUIT, timeout=15)  # flushes logs
        if mode == "direct":
            res.origin_bytes = servers[0].bytes_served(f"/{MODEL_DIR}/")
            res.origin_bytes_method = "nginx access log"
        else:
            res.origin_bytes = 0
            res.origin_bytes_method = "none (no origin in the ceiling run)"
            res.extra["peer_bytes_over_F"] = round(
                sum(s.bytes_served(f"/{MODEL_DIR}/") for s in servers) / ctx.F, 4)
        # Every curl must have written every byte of every file.
        for a in topo.agents:
            for p, size in ctx.files.items():
                f = os.path.join(mdir, a.name, "files", p)
                got = os.path.getsize(f) if os.path.exists(f) else -1
                if res.times.get(a.name) is not None and got != size:
                    res.fail(f"{a.name}: {p} has {got} of {size} bytes")
                    res.times[a.name] = None
        res.ok = res.error is None
    finally:
        stop_all(list(clients.values()), timeout=5)
        stop_all([s.proc for s in servers], sig=signal.SIGQUIT, timeout=15)
        for a in topo.agents:
            shutil.rmtree(os.path.join(mdir, a.name), ignore_errors=True)
    return res

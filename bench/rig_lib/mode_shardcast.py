"""The shardcast run: the controller in its namespace, one agent per agent namespace
(region "bench", zone z<k>), nginx as the origin in the origin's namespace, then
`shardcast deploy NAME:V --source http://<origin>/model/ --wait -o json` run inside
the controller's namespace. Flags follow tests/harness/cluster.py (start_controller,
start_agent), with namespace addresses instead of loopback.

Per-node ready time: the agent's own log line "rollout R: published NAME:V" (its
timestamp, ms) relative to the deploy's start; when a log line is missing, the time
the driver saw the node's published directory appear (polled every 10 ms).
Receiver CPU: utime + stime of each agent process (/proc/<pid>/stat) between the
deploy's start and the moment the last node was ready; peak RSS: VmHWM.
Origin bytes: nginx's access log (agents' User-Agent), as in the integration tests.
"""
import datetime
import json
import os
import re
import shutil
import time

from .context import Counters, ModeResult
from .model import MODEL_DIR
from .procs import cpu_seconds, peak_rss, stop_all
from .servers import NsNginx
from .util import RigError, harness, log, ns_argv, run as sh, wait_until

BINARIES = ("shardcast-controller", "shardcast-agent", "shardcast")
CONTROLLER_PORT = 7400
AGENT_PORT = 7600
ORIGIN_PORT = 80
REGION = "bench"
MODEL_NAME = "bench-model"
MODEL_VERSION = "v1"
_TS = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z\s")


def log_ready_time(log_text, t0_wall):
    """Seconds from t0_wall to the agent's 'published NAME:V' log line, or None."""
    needle = f"published {MODEL_NAME}:{MODEL_VERSION}"
    for line in reversed(log_text.splitlines()):
        if needle in line:
            m = _TS.match(line)
            if not m:
                return None
            ts = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
            return ts.timestamp() - t0_wall
    return None


_PUBLISHED_BYTES = re.compile(r"published \S+ \((\d+) bytes from the origin, (\d+) from peers"
                              r"(?:, (\d+) received from other zones)?\)")


def log_published_bytes(log_text):
    """(origin, peers, other_zones) bytes from the agent's 'published' line; other_zones
    is None for an agent that does not log it; None when there is no such line."""
    for line in reversed(log_text.splitlines()):
        m = _PUBLISHED_BYTES.search(line)
        if m and f"published {MODEL_NAME}:{MODEL_VERSION}" in line:
            return (int(m.group(1)), int(m.group(2)),
                    None if m.group(3) is None else int(m.group(3)))
    return None


def last_json_object(text):
    """The last top-level JSON object printed on stdout (the CLI's -o json output)."""
    dec = json.JSONDecoder()
    found = None
    i = 0
    while True:
        j = text.find("{", i)
        if j < 0:
            return found
        try:
            obj, end = dec.raw_decode(text, j)
            found, i = obj, end
        except ValueError:
            i = j + 1


def _wait_ready_file(proc, path, what, timeout=30):
    def ready():
        if not proc.alive():
            raise RigError(f"{what} exited {proc.exit_code}:\n{proc.log_tail()}")
        if os.path.exists(path):
            with open(path) as f:
                return f.read().strip() or None
        return None
    return wait_until(ready, timeout, f"{what} to write its ready file", interval=0.05)


def run(ctx):
    """Runs shardcast on ctx's rig; returns a ModeResult."""
    res = ModeResult("shardcast")
    topo = ctx.topo
    mdir = ctx.mode_dir("shardcast")
    bindir = os.path.join(ctx.bin_dir, "bin")
    cli = os.path.join(bindir, "shardcast")
    agents = {}
    controller = origin = deploy = None
    try:
        model_root = os.path.join(ctx.origin_root, MODEL_DIR)
        # Run inside the origin's namespace: it only reads and writes files, and this way
        # nothing the rig runs can ever reach the network from the root namespace.
        index = sh(ns_argv(topo.origin.ns, [cli, "index", model_root]), check=False, timeout=600)
        if index.returncode != 0:
            res.notes.append(f"`shardcast index` exited {index.returncode}; deploying without "
                             f"publisher checksums: {(index.stderr or '').strip()[:200]}")
        origin = NsNginx(ctx.group, topo.origin.ns, topo.origin.ip, ORIGIN_PORT, ctx.origin_root,
                         mdir, name="nginx-origin")
        ctl = topo.controller
        ready = os.path.join(mdir, "controller.ready")
        controller = ctx.group.start(
            "controller", ctl.ns,
            [os.path.join(bindir, "shardcast-controller"), "--listen", f"{ctl.ip}:{CONTROLLER_PORT}",
             "--ready-file", ready, "--data-dir", os.path.join(mdir, "controller"),
             "--log-level", "info"] + ctx.controller_args,
            os.path.join(mdir, "controller.log"), env=ctx.env)
        controller_url = "http://" + _wait_ready_file(controller, ready, "shardcast-controller")
        for a in topo.agents:
            data = os.path.join(mdir, "agents", a.name)
            os.makedirs(data, exist_ok=True)
            ready = os.path.join(mdir, a.name + ".ready")
            agents[a.name] = {
                "node": a, "data": data, "ready": ready,
                "proc": ctx.group.start(
                    f"agent-{a.name}", a.ns,
                    [os.path.join(bindir, "shardcast-agent"), "--name", a.name, "--region", REGION,
                     "--zone", f"z{a.zone}", "--controller", controller_url, "--data-dir", data,
                     "--listen", f"{a.ip}:{AGENT_PORT}", "--advertise-addr", f"{a.ip}:{AGENT_PORT}",
                     "--ready-file", ready, "--log-level", "info"] + ctx.agent_args,
                    os.path.join(mdir, f"agent-{a.name}.log"), env=ctx.env)}
        for name, ag in agents.items():
            ag["addr"] = _wait_ready_file(ag["proc"], ag["ready"], f"agent {name}")
        log(f"shardcast: controller at {controller_url}, {len(agents)} agents up")
        time.sleep(ctx.settle_s)  # let every agent register before the rollout is planned

        argv = [cli, "deploy", f"{MODEL_NAME}:{MODEL_VERSION}", "--source",
                origin.url(MODEL_DIR + "/"), "--controller", controller_url, "--wait", "-o", "json"]
        if ctx.piece_size:
            argv += ["--piece-size", ctx.piece_size]
        cpu0 = {n: cpu_seconds(ag["proc"].pid) or 0.0 for n, ag in agents.items()}
        counters = Counters(topo)
        t0_mono, t0_wall = time.monotonic(), time.time()
        deploy = ctx.group.start("deploy", ctl.ns, argv, os.path.join(mdir, "deploy.out"),
                                 env=ctx.env)
        published = {n: os.path.join(ag["data"], "models", MODEL_NAME, MODEL_VERSION)
                     for n, ag in agents.items()}
        seen = {}
        deadline = t0_mono + ctx.timeout_s
        while len(seen) < len(agents) and time.monotonic() < deadline:
            for n, path in published.items():
                if n not in seen and os.path.isdir(path):
                    seen[n] = time.monotonic() - t0_mono
            if not deploy.alive() and deploy.exit_code != 0:
                break  # the rollout failed or degraded: stop waiting
            for n, ag in agents.items():
                if n not in seen and not ag["proc"].alive():
                    raise RigError(f"agent {n} exited {ag['proc'].exit_code}:\n"
                                   f"{ag['proc'].log_tail()}")
            time.sleep(0.01)
        res.recv_cpu_s = sum(max(0.0, (cpu_seconds(ag["proc"].pid) or 0.0) - cpu0[n])
                             for n, ag in agents.items())
        res.peak_rss = max((peak_rss(ag["proc"].pid) or 0) for ag in agents.values())
        counters.finish(res)

        # The deploy's own verdict (-o json: the final RolloutStatus).
        wait_until(lambda: not deploy.alive(), 30, "shardcast deploy --wait to exit", interval=0.05)
        out = deploy.log_text()
        status = last_json_object(out) or {}
        res.extra["rollout_id"] = status.get("id")
        res.extra["rollout_state"] = status.get("state")
        res.extra["deploy_exit"] = deploy.exit_code
        res.extra["corrupt_reports"] = status.get("corrupt_reports")
        nodes = {n.get("node"): n for n in status.get("nodes", []) if isinstance(n, dict)}
        if deploy.exit_code != 0 or status.get("state") != "ready":
            res.fail(f"deploy exited {deploy.exit_code}, rollout state {status.get('state')}: "
                     f"{status.get('message') or out[-500:]}")
        if nodes:
            res.extra["agent_reported_origin_bytes_over_F"] = round(
                sum(int(n.get("bytes_from_origin", 0)) for n in nodes.values()) / ctx.F, 4)
        from_logs = 0
        xzone_piece_bytes = 0
        for n, ag in agents.items():
            counts = log_published_bytes(ag["proc"].log_text())
            if counts is None or counts[2] is None:
                xzone_piece_bytes = None
            elif xzone_piece_bytes is not None:
                xzone_piece_bytes += counts[2]
            t = log_ready_time(ag["proc"].log_text(), t0_wall)
            if t is not None and t >= 0:
                from_logs += 1
            else:
                t = seen.get(n)
            if n not in seen:
                t = None
                res.fail(f"{n} never published {MODEL_NAME}:{MODEL_VERSION} "
                         f"(controller says {nodes.get(n, {}).get('state')})")
            res.times[n] = t
        if ctx.topo.zones > 1 and xzone_piece_bytes is not None:
            # What the agents received from other zones' peers, in piece bytes: the
            # application's share of cross_zone_bytes (which adds HTTP and retransmits).
            res.extra["cross_zone_piece_bytes_over_F"] = round(xzone_piece_bytes / ctx.F, 4)
        res.extra["ready_time_source"] = (f"agent log timestamps for {from_logs}/{len(agents)} "
                                          f"nodes, published-dir polling for the rest")

        origin.stop()
        by_region = origin.origin_bytes_by_region(f"/{MODEL_DIR}/")
        res.origin_bytes = sum(by_region.values())
        res.origin_bytes_method = "nginx access log (shardcast-agent requests)"
        other = origin.bytes_served(f"/{MODEL_DIR}/") - res.origin_bytes
        if other:
            res.notes.append(f"{other} model bytes went to clients other than agents")
        if ctx.verify and not res.error:
            for n, path in published.items():
                problems = harness.compare_model(path, ctx.digests)
                if problems:
                    res.fail(f"{n}: published files differ from the source: {problems[:3]}")
                    res.times[n] = None
        res.ok = res.error is None
    finally:
        stop_all([deploy], timeout=5)
        stop_all([ag["proc"] for ag in agents.values()], timeout=15)
        stop_all([controller], timeout=10)
        if origin:
            origin.stop()
        shutil.rmtree(os.path.join(mdir, "agents"), ignore_errors=True)
    return res

"""What every mode of a run shares (RunContext), and what a mode returns (ModeResult),
with the figures of the issue computed from it (ModeResult.metrics).

RunContext owns nothing that needs closing itself: the topology and the process
group are closed by the driver (rig_lib.cli). Single-threaded.
"""
import os
import statistics
import time

from .procs import MachineCpu
from .topology import IP_TCP_HEADER_BYTES
from .util import RigError, log

GB = 1e9  # "per GB" figures use 10^9 bytes


def child_env():
    """The environment of every process the rig starts: no proxy variables, so that
    curl and aria2c talk only to the rig's own addresses."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["LC_ALL"] = "C"
    return env


class RunContext:
    def __init__(self, topo, group, workdir, origin_root, files, size, rate_bps, timeout_s,
                 bin_dir=None, piece_size=None, settle_s=1.0, verify=True,
                 controller_args=(), agent_args=()):
        self.topo = topo
        self.group = group
        self.workdir = workdir
        self.origin_root = origin_root
        self.files = files            # {relative path: size}
        self.F = size
        self.rate_bps = rate_bps      # nominal tc rate
        self.B_bps = None             # measured goodput of one link (set by the probe)
        self.timeout_s = timeout_s
        self.bin_dir = bin_dir
        self.piece_size = piece_size
        self.settle_s = settle_s
        self.controller_args = list(controller_args)  # extra flags for the controller
        self.agent_args = list(agent_args)            # extra flags for every agent
        self.verify = verify
        self.env = child_env()

    @property
    def N(self):
        return len(self.topo.agents)

    def mode_dir(self, mode):
        d = os.path.join(self.workdir, "modes", mode)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        return d

    def agent_dir(self, mode, agent):
        d = os.path.join(self.mode_dir(mode), agent.name)
        os.makedirs(d, exist_ok=True)
        return d


class Counters:
    """Counters read at a mode's start and end: cross-zone and origin-link bytes
    (nftables, inside the namespaces) and the machine's CPU."""

    def __init__(self, topo):
        self.topo = topo
        self.xz0 = topo.cross_zone_counters()
        self.or0 = topo.origin_counters()
        self.cpu = MachineCpu().start()
        self.t0 = time.monotonic()

    def finish(self, result):
        xz1 = self.topo.cross_zone_counters()
        or1 = self.topo.origin_counters()
        result.busy_fraction = self.cpu.stop()
        b, p = xz1[0] - self.xz0[0], xz1[1] - self.xz0[1]
        result.cross_zone_ip_bytes = b
        result.cross_zone_bytes = max(0, b - p * IP_TCP_HEADER_BYTES)
        b, p = or1[0] - self.or0[0], or1[1] - self.or0[1]
        result.origin_link_bytes = max(0, b - p * IP_TCP_HEADER_BYTES)
        result.wall_s = time.monotonic() - self.t0


class ModeResult:
    """One mode's raw measurements. times: {agent name: seconds from the mode's
    start until that node had every byte, or None if it never did}."""

    def __init__(self, mode):
        self.mode = mode
        self.ok = False
        self.error = None
        self.times = {}
        self.origin_bytes = None         # counted by the origin itself (nginx log)
        self.origin_bytes_method = None
        self.origin_link_bytes = None    # TCP payload the origin's namespace sent to agents
        self.cross_zone_bytes = None
        self.cross_zone_ip_bytes = None
        self.recv_cpu_s = None
        self.peak_rss = None
        self.busy_fraction = None
        self.wall_s = None
        self.notes = []
        self.extra = {}

    def fail(self, msg):
        self.ok = False
        self.error = msg if not self.error else self.error + "; " + msg
        log(f"{self.mode}: {msg}")

    def metrics(self, ctx):
        F, B, N = ctx.F, ctx.B_bps, ctx.N
        floor = F * 8 / B
        done = [t for t in self.times.values() if t is not None]
        complete = len(done) == N and N > 0
        last = max(done) if complete else None
        p50 = statistics.median(done) if complete else None
        origin = self.origin_bytes if self.origin_bytes is not None else self.origin_link_bytes
        r = lambda v, d=4: None if v is None else round(v, d)  # noqa: E731
        m = {
            "mode": self.mode,
            "ok": bool(self.ok and complete),
            "error": self.error,
            "F": F,
            "B_bps": round(B),
            "B_nominal_bps": ctx.rate_bps,
            "N": N,
            "zones": ctx.topo.zones,
            "floor_s": r(floor),
            "time_to_last_ready_s": r(last),
            "p50_s": r(p50),
            "time_to_last_ready_over_floor": r(None if last is None else last / floor),
            "p50_over_floor": r(None if p50 is None else p50 / floor),
            "origin_bytes": origin,
            "origin_bytes_over_F": r(None if origin is None else origin / F),
            "origin_bytes_method": self.origin_bytes_method,
            "origin_link_payload_bytes_over_F": r(None if self.origin_link_bytes is None
                                                  else self.origin_link_bytes / F),
            "cross_zone_bytes": self.cross_zone_bytes,
            "cross_zone_bytes_over_F": r(None if self.cross_zone_bytes is None
                                         else self.cross_zone_bytes / F),
            "recv_cpu_s": r(self.recv_cpu_s, 3),
            "recv_cpu_s_per_GB": r(None if self.recv_cpu_s is None else self.recv_cpu_s / (N * F / GB), 3),
            "machine_busy_fraction": r(self.busy_fraction, 3),
            "peak_agent_rss_bytes": self.peak_rss,
            "nodes_ready": len(done),
            "ready_s": {k: r(v) for k, v in sorted(self.times.items(), key=lambda kv: _node_key(kv[0]))},
            "wall_s": r(self.wall_s, 2),
        }
        if self.notes:
            m["notes"] = self.notes
        m.update(self.extra)
        return m


def _node_key(name):
    return (len(name), name)


def poll_until(step, timeout_s, what, interval=0.01):
    """Calls step() until it returns True; RigError after timeout_s (bounded loop)."""
    deadline = time.monotonic() + timeout_s
    while not step():
        if time.monotonic() > deadline:
            raise RigError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(interval)

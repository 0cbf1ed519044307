"""The rig's network: a bridge in its own namespace, and one namespace per node
(origin, controller, N agents), each joined to the bridge by a veth pair, with
`tc tbf` rate limits on both directions of every agent link and of the origin link.

Every interface and address lives inside a namespace the rig made: veth pairs are
created directly inside the bridge namespace with their peer moved into the node's
namespace, so nothing ever appears in the root namespace. Names carry the prefix
`scb-<pid>-`; `sweep_leftovers()` removes what a crashed earlier run left behind.

Addresses (default subnet 10.203.0.0/16): origin .0.1, controller .0.2; agent k of
zone z is 10.203.(1+z).(1+k). Cross-zone bytes are counted per agent by an nftables
output-hook counter (inside the agent's namespace) on packets to every other zone's
/24. (This kernel has no tc classifiers or actions, so tc cannot count per destination.)

Ownership: a Topology owns its namespaces; destroy() (idempotent) removes them.
Not thread-safe; used by the single driver thread.
"""
import glob
import ipaddress
import json
import os
import re
import shutil
import signal
import tempfile
import time

from .util import RigError, log, ns_argv, run

PREFIX_ROOT = "scb-"
BRIDGE = "br0"
NODE_IF = "eth0"
NFT_TABLE = "scrig"
# IPv4 (20) + TCP with timestamps (32): netfilter's output hook sees each (GSO) skb
# once with one set of headers, so IP bytes - packets x 52 is the TCP payload
# (pure ACKs count as zero; ACKs carrying SACK blocks make it a few bytes off).
IP_TCP_HEADER_BYTES = 52


class Node:
    """One namespace on the bridge: name ('origin', 'ctl', 'a0'...), ns, ip, zone."""

    def __init__(self, name, ns, ip, zone=None, index=None):
        self.name = name
        self.ns = ns
        self.ip = ip
        self.zone = zone
        self.index = index

    @property
    def bridge_if(self):
        return "v-" + self.name  # <= 15 chars for any agent index below 10^12


class Topology:
    def __init__(self, agents, rate_bps, zones=1, subnet="10.203.0.0/16", burst_bytes=128 << 10,
                 latency_ms=20, prefix=None, limit_controller=False):
        if agents < 1:
            raise RigError("--agents must be at least 1")
        if zones < 1 or zones > 250:
            raise RigError("--zones must be between 1 and 250")
        net = ipaddress.ip_network(subnet)
        if net.version != 4 or net.prefixlen > 16 or not net.is_private:
            raise RigError(f"--subnet must be a private IPv4 /16 or larger, got {subnet}")
        per_zone = -(-agents // zones)
        if per_zone > 250:
            raise RigError(f"at most 250 agents per zone ({agents} agents in {zones} zones)")
        self.net = net
        self.rate_bps = rate_bps
        self.burst = burst_bytes
        self.latency_ms = latency_ms
        self.zones = zones
        self.limit_controller = limit_controller
        self.prefix = prefix or f"{PREFIX_ROOT}{os.getpid()}-"
        base = int(net.network_address)
        ip = lambda third, fourth: str(ipaddress.ip_address(base + (third << 8) + fourth))  # noqa: E731
        self.bridge_ns = self.prefix + "br"
        self.origin = Node("origin", self.prefix + "origin", ip(0, 1))
        self.controller = Node("ctl", self.prefix + "ctl", ip(0, 2))
        self.agents = []
        counts = [0] * zones
        for i in range(agents):
            z = i % zones  # round-robin, so zone sizes differ by at most one
            self.agents.append(Node(f"a{i}", self.prefix + f"a{i}", ip(1 + z, 1 + counts[z]), z, i))
            counts[z] += 1
        self.created = []  # namespaces actually created, in order
        self.prefixlen = net.prefixlen

    # ----- construction -------------------------------------------------------------
    def nodes(self):
        return [self.origin, self.controller, *self.agents]

    def zone_subnet(self, z):
        base = int(self.net.network_address)
        return f"{ipaddress.ip_address(base + ((1 + z) << 8))}/24"

    def _tbf(self, ns, dev):
        run(ns_argv(ns, ["tc", "qdisc", "replace", "dev", dev, "root", "tbf",
                         "rate", f"{self.rate_bps}bit", "burst", str(self.burst),
                         "latency", f"{self.latency_ms}ms"]))

    def _add_ns(self, ns):
        run(["ip", "netns", "add", ns])
        self.created.append(ns)
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        # No IPv6 chatter (DAD, router solicitations) on the rig's links.
        run(ns_argv(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]), check=False)
        run(ns_argv(ns, ["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]), check=False)

    def create(self):
        log(f"creating {len(self.agents) + 3} namespaces with prefix {self.prefix}")
        self._add_ns(self.bridge_ns)
        run(["ip", "-n", self.bridge_ns, "link", "add", BRIDGE, "type", "bridge",
             "stp_state", "0", "forward_delay", "0"])
        run(["ip", "-n", self.bridge_ns, "link", "set", BRIDGE, "up"])
        for node in self.nodes():
            self._add_ns(node.ns)
            run(["ip", "-n", self.bridge_ns, "link", "add", node.bridge_if, "type", "veth",
                 "peer", "name", NODE_IF, "netns", node.ns])
            run(["ip", "-n", self.bridge_ns, "link", "set", node.bridge_if, "master", BRIDGE, "up"])
            run(["ip", "-n", node.ns, "addr", "add", f"{node.ip}/{self.prefixlen}", "dev", NODE_IF])
            run(["ip", "-n", node.ns, "link", "set", NODE_IF, "up"])
            if node is not self.controller or self.limit_controller:
                self._tbf(self.bridge_ns, node.bridge_if)  # toward the node: its download
                self._tbf(node.ns, NODE_IF)                # from the node: its upload
        lo = self.zone_subnet(0).split("/")[0]
        hi = str(self.net.broadcast_address)
        self._nft_counter(self.origin, f"ip daddr {lo}-{hi}")  # origin -> any agent
        if self.zones > 1:
            for a in self.agents:
                others = ", ".join(self.zone_subnet(z) for z in range(self.zones) if z != a.zone)
                self._nft_counter(a, f"ip daddr {{ {others} }}")

    def _nft_counter(self, node, match):
        """One nftables counter in node's namespace on the packets it sends that match."""
        run(ns_argv(node.ns, ["nft", "-f", "-"]), input_text=(
            f"table ip {NFT_TABLE} {{\n"
            f"  chain out {{ type filter hook output priority 0; policy accept;\n"
            f"    {match} counter\n  }}\n}}\n"))

    @staticmethod
    def _read_nft_counter(node):
        r = run(ns_argv(node.ns, ["nft", "-j", "list", "table", "ip", NFT_TABLE]))
        b = p = 0
        for item in json.loads(r.stdout).get("nftables", []):
            for expr in (item.get("rule") or {}).get("expr", []):
                if "counter" in expr:
                    b += int(expr["counter"]["bytes"])
                    p += int(expr["counter"]["packets"])
        return b, p

    # ----- counters -----------------------------------------------------------------
    def cross_zone_counters(self):
        """(IP bytes, IP packets) sent by all agents to agents of other zones so far."""
        total_bytes = total_pkts = 0
        if self.zones <= 1:
            return 0, 0
        for a in self.agents:
            b, p = self._read_nft_counter(a)
            total_bytes += b
            total_pkts += p
        return total_bytes, total_pkts

    def origin_counters(self):
        """(IP bytes, IP packets) the origin's namespace sent to agents so far."""
        return self._read_nft_counter(self.origin)

    def link_counters(self, node):
        """Wire counters of the node's own interface: dict rx_bytes, tx_bytes, rx_packets,
        tx_packets (read inside the node's namespace)."""
        r = run(["ip", "-n", node.ns, "-s", "-j", "link", "show", "dev", NODE_IF])
        st = json.loads(r.stdout)[0]["stats64"]
        return {"rx_bytes": st["rx"]["bytes"], "rx_packets": st["rx"]["packets"],
                "tx_bytes": st["tx"]["bytes"], "tx_packets": st["tx"]["packets"]}

    # ----- teardown -----------------------------------------------------------------
    def destroy(self):
        """Kills whatever still runs inside the rig's namespaces (all started by this
        rig), then deletes the namespaces; deleting them removes every veth."""
        for ns in reversed(self.created):
            _delete_ns(ns)
        self.created = []


def _ns_pids(ns):
    r = run(["ip", "netns", "pids", ns], check=False, timeout=10)
    return [int(p) for p in r.stdout.split() if p.isdigit()] if r.returncode == 0 else []


def _delete_ns(ns):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _ns_pids(ns)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and _ns_pids(ns):
            time.sleep(0.05)
    r = run(["ip", "netns", "del", ns], check=False, timeout=20)
    if r.returncode != 0 and "No such file" not in (r.stderr or ""):
        log(f"warning: could not delete namespace {ns}: {r.stderr.strip()}")


def _pid_is_live_rig(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().decode(errors="replace")
    except OSError:
        return False
    return "rig" in cmd


def list_rig_namespaces():
    r = run(["ip", "netns", "list"], check=False)
    names = []
    for line in (r.stdout or "").splitlines():
        name = line.split()[0] if line.split() else ""
        if re.match(rf"^{re.escape(PREFIX_ROOT)}\d+-", name):
            names.append(name)
    return names


def sweep_leftovers():
    """Removes namespaces of earlier rig runs whose driver is gone (crash, kill -9).
    Namespaces of a rig that still runs are left alone. Returns the names removed."""
    removed = []
    for name in list_rig_namespaces():
        pid = int(re.match(rf"^{re.escape(PREFIX_ROOT)}(\d+)-", name).group(1))
        # Our own pid's prefix can only be a dead earlier process's (pid reuse): we sweep
        # before creating anything.
        if pid != os.getpid() and _pid_is_live_rig(pid):
            continue
        _delete_ns(name)
        removed.append(name)
    if removed:
        log(f"removed {len(removed)} leftover namespaces of crashed runs: {' '.join(removed)}")
    # Their default work directories too (tempfile.mkdtemp(prefix="scb-<pid>-")).
    for d in glob.glob(os.path.join(tempfile.gettempdir(), PREFIX_ROOT + "*-*")):
        m = re.match(rf"^{re.escape(PREFIX_ROOT)}(\d+)-", os.path.basename(d))
        if m and os.path.isdir(d) and (int(m.group(1)) == os.getpid()
                                       or not _pid_is_live_rig(int(m.group(1)))):
            shutil.rmtree(d, ignore_errors=True)
            log(f"removed leftover work directory {d}")
    return removed

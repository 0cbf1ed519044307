#!/usr/bin/env python3
"""Agent resume (issue 5, item 2): an agent pulling a model from a rate-limited
origin (nginx limit_rate: real pacing) is killed with SIGKILL at ~50%, restarted,
and must keep every verified piece (its persisted bitfield, re-hashed against the
accepted hashes on start) and fetch only the rest:

  bytes fetched after restart <= bytes missing at the kill + one piece per
  request that may be in flight

measured twice: from the agent's own counters (its row in the controller's
rollout status) and from the origin's access log (nginx). The published model
must equal the source.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, compare_model, make_model, wait_for  # noqa: E402
from checks import check, finish, test_args  # noqa: E402


MIB = 1 << 20
PIECE = MIB
FILES = {  # whole pieces, so missing bytes = missing pieces x PIECE
    "model-00001-of-00002.safetensors": 24 * MIB,
    "model-00002-of-00002.safetensors": 16 * MIB,
}
ORIGIN_CONCURRENCY = 4
MAX_INFLIGHT = 8


def read_bitfield(path):
    with open(path, "rb") as f:
        raw = f.read()
    nl = raw.index(b"\n")
    header = json.loads(raw[:nl])
    bits = raw[nl + 1:]
    n = header["pieces"]
    have = sum(1 for i in range(n) if bits[i >> 3] & (0x80 >> (i & 7)))
    return n, have


def log_size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def origin_bytes_since(access_log, offset):
    total = 0
    with open(access_log, "rb") as f:
        f.seek(offset)
        for line in f.read().decode(errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) == 5 and parts[0].startswith("shardcast-agent/") and parts[1] == "GET" \
                    and parts[2] in ("200", "206") and not parts[4].endswith("shardcast-index.json"):
                total += int(parts[3])
    return total


def main():
    args = test_args()
    with Cluster(args.bin_dir, keep=args.keep) as c:
        origin_root = os.path.join(c.dir, "origin")
        digests = make_model(os.path.join(origin_root, "big"), FILES)
        total = sum(FILES.values())
        # 4 connections x 2 MiB/s: the 40 MiB model takes ~5 s.
        nginx = c.start_origin(origin_root, limit_rate="2m")
        c.start_controller()
        c.start_agent("a1", "east", "east-a", "--origin-concurrency", str(ORIGIN_CONCURRENCY),
                      "--max-inflight", str(MAX_INFLIGHT))
        r = c.cli("deploy", "big:v1", "--source", nginx.url("big/"), "--piece-size", "1MiB",
                  "-o", "json", stderr=subprocess.DEVNULL)
        rid = json.loads(r.stdout)["id"]

        def half():
            for n in c.rollout(rid)["nodes"]:
                if n["node"] == "a1" and n["bytes_done"] >= total // 2:
                    return n
            return None
        row = wait_for(half, 120, "a1 to reach 50%", interval=0.1)
        c.agents["a1"]["proc"].stop(signal.SIGKILL)
        print(f"     killed a1 with SIGKILL at {row['bytes_done'] / total:.0%} reported")

        pieces_file = os.path.join(c.agents["a1"]["data"], "partial", "big", ".v1.pieces")
        n, have = read_bitfield(pieces_file)
        missing = (n - have) * PIECE
        print(f"     on disk after the kill: {have}/{n} pieces verified; missing {missing} bytes")
        check(0 < have < n, "the kill came mid-download with verified pieces on disk")

        # nginx logs each aborted request once it notices the closed connection:
        # wait until the access log stops growing, then count from there on.
        last = [log_size(nginx.access_log), time.monotonic()]

        def settled():
            size = log_size(nginx.access_log)
            if size != last[0]:
                last[0], last[1] = size, time.monotonic()
            return time.monotonic() - last[1] > 1.5
        wait_for(settled, 30, "nginx to log the aborted requests", interval=0.1)
        offset = log_size(nginx.access_log)

        c.restart_agent("a1")
        node = c.wait_node_state(rid, "a1", ("ready", "failed"), timeout=180)
        check(node["state"] == "ready", f"a1 is ready after the restart ({node.get('message', '')})")
        problems = compare_model(c.model_dir("a1", "big", "v1"), digests)
        check(not problems, f"the published files equal the source {problems}")

        allowance = MAX_INFLIGHT * PIECE
        agent_after = node["bytes_from_origin"] + node["bytes_from_peers"]
        print(f"     agent counters after restart: {agent_after} bytes fetched; missing {missing}; "
              f"allowance {allowance}")
        check(agent_after <= missing + allowance,
              f"agent counters: fetched after restart {agent_after} <= missing {missing} + {allowance}")
        check(agent_after >= missing, f"agent counters: it fetched the missing bytes ({agent_after})")
        log = c.agents["a1"]["proc"].log_text()
        check(f"resume check: {have} pieces kept" in log,
              f"the agent re-hashed and kept all {have} resumed pieces")

        nginx.stop()
        origin_after = origin_bytes_since(nginx.access_log, offset)
        print(f"     origin log after restart: {origin_after} bytes; missing {missing}")
        check(origin_after <= missing + allowance,
              f"origin log: fetched after restart {origin_after} <= missing {missing} + {allowance}")
    return finish()


if __name__ == "__main__":
    sys.exit(main())

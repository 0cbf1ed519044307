#!/usr/bin/env python3
"""Durable controller (issue 6, item 1): the controller runs on its journal
(the default state store, snapshots every few records so compaction happens
mid-rollout too); four agents in two regions pull a model from a rate-limited
nginx origin. When every region has some but not all pieces accepted, the
controller is killed with SIGKILL, kept down for a while, and restarted on the
same port and data dir.

Asserts:
  * the kill came mid-rollout, and origin transfers went on while the controller
    was down (nginx's access log grew);
  * the restarted controller restored the rollout from its journal, reused the
    stripe plans (no region planned again, no piece moved) and the agents
    re-reported to it;
  * the rollout completes: every agent ready, every agent's files equal the
    source (SHA-256);
  * origin bytes per region (nginx's log) <= 1.02 x the model size.
"""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, make_model, wait_for  # noqa: E402
from checks import (check, check_origin_once_per_region, check_published, finish,  # noqa: E402
                    test_args)


MIB = 1 << 20
FILES = {
    "model-00001-of-00002.safetensors": 27 * MIB + 4321,
    "model-00002-of-00002.safetensors": 20 * MIB,
    "config.json": b'{"architectures": ["LlamaForCausalLM"]}\n',
}
REGIONS = {"east": ["e1", "e2"], "west": ["w1", "w2"]}
MODEL, VERSION = "crash-model", "v1"
NODE_TIMEOUT_MS = 5000


def accepted_by_region(status):
    return {r["name"]: r["pieces_accepted"] for r in status["regions"]}


def log_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def file_size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def check_flags(c, data_dir):
    """--check-config creates nothing; a second controller on a data dir in use
    fails fast with one line saying why."""
    ctl = os.path.join(c.bin, "shardcast-controller")

    def run(*argv):
        return subprocess.run([ctl, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=30)
    r = run("--check-config")
    check(r.returncode == 2 and r.stderr.strip() == "shardcast-controller: --data-dir is required "
          "by the journal state store (or use --state-store memory)",
          f"no --data-dir: exit 2 with one line ({r.returncode}: {r.stderr.strip()})")
    missing = os.path.join(c.dir, "not-yet")
    r = run("--check-config", "--data-dir", missing)
    check(r.returncode == 0 and not os.path.exists(missing),
          f"--check-config accepts a missing data dir and creates nothing ({r.stderr.strip()})")
    r = run("--check-config", "--data-dir", os.path.join(c.dir, "controller.ready"))
    check(r.returncode == 2 and "is not a directory" in r.stderr,
          f"a data dir that is a file is refused ({r.stderr.strip()})")
    r = run("--listen", "127.0.0.1:0", "--data-dir", data_dir)
    check(r.returncode == 1 and "another shardcast-controller is using --data-dir" in r.stderr
          and r.stderr.count("\n") == 1,
          f"a second controller on the same data dir fails fast ({r.stderr.strip()})")


def main():
    args = test_args()
    with Cluster(args.bin_dir, keep=args.keep) as c:
        origin_root = os.path.join(c.dir, "origin")
        digests = make_model(os.path.join(origin_root, MODEL), FILES)
        total = sum(len(v) if isinstance(v, bytes) else v for v in FILES.values())
        # Two requests per seeder at 1 MiB/s each: the model takes ~12 s per region.
        nginx = c.start_origin(origin_root, limit_rate="1m")
        c.start_controller("--node-timeout-ms", str(NODE_TIMEOUT_MS), "--snapshot-every", "8")
        data_dir = os.path.join(c.dir, "controller")
        for region, names in REGIONS.items():
            for n in names:
                c.start_agent(n, region, region + "-a", "--origin-concurrency", "2")

        r = c.cli("deploy", f"{MODEL}:{VERSION}", "--source", nginx.url(MODEL + "/"),
                  "--regions", "east,west", "--piece-size", "1MiB", "-o", "json",
                  stderr=subprocess.DEVNULL)
        rid = json.loads(r.stdout)["id"]
        pieces = json.loads(r.stdout)["piece_count"]

        check_flags(c, data_dir)

        def midway():
            acc = accepted_by_region(c.rollout(rid))
            return acc if len(acc) == 2 and min(acc.values()) >= pieces // 5 else None
        at_kill = wait_for(midway, 120, "every region to have a fifth of the pieces", interval=0.1)
        c.controller.stop(signal.SIGKILL)
        print(f"     killed the controller with SIGKILL; accepted pieces {at_kill} of {pieces}")
        check(max(at_kill.values()) < pieces, "the kill came mid-rollout")

        # Down for a while: origin transfers that were scheduled go on. Wait until
        # about one request per seeder completed (each takes ~1 s at this rate).
        lines_at_kill = log_lines(nginx.access_log)
        wait_for(lambda: log_lines(nginx.access_log) >= lines_at_kill + 4, 30,
                 "origin requests to complete while the controller is down", interval=0.1)
        check(log_lines(nginx.access_log) >= lines_at_kill + 4,
              "origin transfers went on while the controller was down")

        log_offset = file_size(c.controller.log_path)
        c.restart_controller()
        print(f"     restarted the controller on {c.controller_url} with data dir {data_dir}")

        def ended():
            st = c.rollout(rid)
            return st if st["state"] != "in_progress" else None
        final = wait_for(ended, 240, "the rollout to end", interval=0.2)
        check(final["state"] == "ready", f"the rollout is ready ({final['state']} {final.get('message', '')})")
        states = {n["node"]: n["state"] for n in final["nodes"]}
        names = [n for ns in REGIONS.values() for n in ns]
        check(all(states.get(n) == "ready" for n in names), f"every agent is ready {states}")
        check(accepted_by_region(final) == {"east": pieces, "west": pieces},
              f"every piece accepted in both regions {accepted_by_region(final)}")
        check_published(c, names, MODEL, VERSION, digests)

        with open(c.controller.log_path, "rb") as f:
            f.seek(log_offset)
            after = f.read().decode(errors="replace")
        check("restored 1 rollouts (1 in progress)" in after,
              "the restarted controller restored the rollout from its journal")
        check(" planned over " not in after, "no region was planned again after the restart")
        check("unfinished pieces of gone seeders" not in after, "no stripe piece moved")
        agent_logs = "".join(c.agents[n]["proc"].log_text() for n in names)
        check("reachable again; re-reporting" in agent_logs, "agents re-reported after the outage")
        check(os.path.exists(os.path.join(data_dir, "snapshot")), "the journal took snapshots")
        c.controller.stop()
        check_origin_once_per_region(nginx, f"/{MODEL}/", list(REGIONS), total, max_ratio=1.02)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

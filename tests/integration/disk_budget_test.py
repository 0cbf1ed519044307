#!/usr/bin/env python3
"""Disk budget and eviction (issue 5, item 3). One agent with a budget that holds
two 8 MiB models:

  * m1 and m2 are deployed; m1 is then used (prewarm, lease released), so m2 is
    the least recently used;
  * a third rollout (m3) evicts m2 — the LRU unleased version — and nothing else;
  * with m1 and m3 leased, a fourth (m4) cannot fit: the node ends failed with
    reason no_space and a message with the numbers; nothing of m4 is written;
  * every published model is still complete and equal to its source.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, compare_model, make_model  # noqa: E402
from checks import check, finish, test_args  # noqa: E402


MIB = 1 << 20
MODEL_BYTES = 8 * MIB
BUDGET = 20 * MIB


def main():
    args = test_args()
    with Cluster(args.bin_dir, keep=args.keep) as c:
        origin_root = os.path.join(c.dir, "origin")
        digests = {}
        for m in ("m1", "m2", "m3", "m4"):
            digests[m] = make_model(os.path.join(origin_root, m), {"weights.bin": MODEL_BYTES})
        nginx = c.start_origin(origin_root)
        c.start_controller()
        c.start_agent("d1", "east", "east-a", "--disk-budget", str(BUDGET))

        def deploy(m):
            r = c.cli("deploy", f"{m}:v1", "--source", nginx.url(f"{m}/"), "--piece-size", "1MiB",
                      "--wait", "-o", "json", check=False, stderr=subprocess.DEVNULL)
            return r.returncode, json.loads(r.stdout) if r.stdout.strip() else {}

        def present(m):
            return os.path.isdir(c.model_dir("d1", m, "v1"))

        for m in ("m1", "m2"):
            rc, _ = deploy(m)
            check(rc == 0, f"{m} deployed and ready (exit {rc})")
        # Use m1 now: m2 becomes the least recently used.
        p = c.prewarm("d1", "m1:v1", "--warm", "none", "--lease-id", "use-m1")
        check(p.returncode == 0, f"prewarm m1 ({p.stderr.strip()[-200:]})")
        subprocess.run([os.path.join(c.bin, "shardcast"), "release", "use-m1", "--socket",
                        c.agents["d1"]["socket"]], check=True, capture_output=True)

        rc, _ = deploy("m3")
        check(rc == 0, f"m3 deployed and ready (exit {rc})")
        check(not present("m2"), "m2 (least recently used, unleased) was evicted")
        check(present("m1") and present("m3"), "m1 and m3 are published")
        _, metrics = c.local_api("d1", "GET", "/metrics")
        check("shardcast_agent_evictions_total 1" in metrics, "evictions_total is 1")

        for m in ("m1", "m3"):
            p = c.prewarm("d1", f"{m}:v1", "--warm", "none", "--lease-id", f"pod-{m}",
                          "--lease-ttl", "0")
            check(p.returncode == 0, f"{m} leased by pod-{m}")
        rc, status = deploy("m4")
        check(rc != 0, f"m4's rollout does not succeed (exit {rc})")
        row = next((n for n in status.get("nodes", []) if n["node"] == "d1"), {})
        msg = row.get("message", "")
        print(f"     d1 on m4: {row.get('state')} ({row.get('reason')}): {msg}")
        check(row.get("state") == "failed" and row.get("reason") == "no_space",
              "d1 ends failed with reason no_space")
        want = (f"need {MODEL_BYTES} bytes; disk budget {BUDGET} bytes, used {2 * MODEL_BYTES} "
                f"(leased {2 * MODEL_BYTES}), evictable 0")
        check(want in msg, f"the message has the numbers ('{want}')")
        check(not present("m4"), "nothing of m4 is published")
        check(not os.path.exists(os.path.join(c.agents["d1"]["data"], "partial", "m4", "v1")),
              "nothing of m4 was written to partial/")
        p = c.prewarm("d1", "m4:v1", "--wait", "--timeout", "30s", "--lease-id", "pod-m4")
        lines = [l for l in p.stderr.splitlines() if l.startswith("shardcast: error")]
        check(p.returncode != 0 and len(lines) == 1 and "no space" in lines[0],
              f"prewarm of m4 fails with one no-space line ({lines})")
        for m in ("m1", "m3"):
            problems = compare_model(c.model_dir("d1", m, "v1"), digests[m])
            check(not problems, f"{m} is complete and equal to its source {problems}")
        _, models = c.local_api("d1", "GET", "/v1/models")
        states = {m["model"]: m["state"] for m in models["models"]}
        check(states.get("m1:v1") == "ready" and states.get("m3:v1") == "ready"
              and "m2:v1" not in states and states.get("m4:v1") == "failed",
              f"GET /v1/models: {states}")
    return finish()


if __name__ == "__main__":
    sys.exit(main())

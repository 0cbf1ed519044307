#!/usr/bin/env python3
"""An origin object overwritten during a rollout (issue 3): a slow nginx origin
(limit_rate) serves a two-file model to two agents; while they pull the first
file, the second file is replaced by new content of the same size (a new inode
and mtime, so a new ETag — what an S3 overwrite does).

Asserts:
  * the rollout ends failed, and its message names the object and says it changed;
  * the failing node's row carries reason origin_changed and names the object;
  * no agent published the model (no mixed content anywhere), and no agent crashed.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, http_json, make_model, wait_for  # noqa: E402
from checks import check, finish, test_args  # noqa: E402


MIB = 1 << 20
CHANGED = "model-00002-of-00002.safetensors"
FILES = {"model-00001-of-00002.safetensors": 8 * MIB, CHANGED: 8 * MIB}
AGENTS = ["a1", "a2"]


def overwrite(path):
    """Same size, new bytes, new inode, later mtime (nginx's ETag is mtime-size)."""
    size = os.path.getsize(path)
    mtime = os.path.getmtime(path)
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(os.urandom(size))
    os.utime(tmp, (mtime + 100, mtime + 100))
    os.replace(tmp, path)


def main():
    args = test_args()

    with Cluster(args.bin_dir, keep=args.keep) as c:
        origin_root = os.path.join(c.dir, "origin")
        model_root = os.path.join(origin_root, "ow")
        make_model(model_root, FILES)
        # 1 MB/s per request: 16 one-MiB pieces over 2 agents x 2 requests take ~4 s.
        nginx = c.start_origin(origin_root, limit_rate="1m")
        c.start_controller()
        for n in AGENTS:
            c.start_agent(n, "east", "east-a", "--origin-concurrency", "2")

        r = c.cli("deploy", "ow:v1", "--source", nginx.url("ow/"), "--piece-size", "1MiB",
                  "-o", "json")
        import json
        rid = json.loads(r.stdout)["id"]

        # Once the first pieces are in, replace the second file.
        def started():
            return any(n["bytes_from_origin"] > 0 for n in c.rollout(rid)["nodes"])
        wait_for(started, 60, "the first origin pieces", interval=0.05)
        before = c.rollout(rid)
        overwrite(os.path.join(model_root, CHANGED))
        t0 = time.monotonic()
        check(before["state"] == "in_progress", f"overwritten mid-rollout ({before['state']})")

        final = wait_for(lambda: (lambda s: s if s["state"] not in ("in_progress",) else None)(
            c.rollout(rid)), 120, "the rollout to end", interval=0.2)
        print(f"rollout ended {final['state']} after {time.monotonic() - t0:.1f}s: {final['message']}")
        check(final["state"] == "failed", f"the rollout failed ({final['state']})")
        check(CHANGED in final["message"] and "changed" in final["message"],
              f"the rollout message names {CHANGED} and says it changed")
        changed_rows = [n for n in final["nodes"] if n.get("reason") == "origin_changed"]
        check(len(changed_rows) >= 1, "a node failed with reason origin_changed")
        check(all(CHANGED in n.get("message", "") for n in changed_rows),
              "the node message names the object")

        # Agents stop on a failed rollout; none published anything.
        for n in AGENTS:
            d = c.model_dir(n, "ow", "v1")
            check(not os.path.exists(d), f"{n}: nothing published at {d}")
            check(c.agents[n]["proc"].alive(), f"{n} is still running")
        status, body = http_json("GET", f"{c.controller_url}/v1/rollouts/{rid}")
        check(status == 200 and body["state"] == "failed", "GET /v1/rollouts/{id} says failed")

    return finish()


if __name__ == "__main__":
    sys.exit(main())

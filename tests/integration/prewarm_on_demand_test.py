#!/usr/bin/env python3
"""Pre-warm on demand (issue 5, item 1): a rollout targets region east only; on a
node in west, which no rollout targets, `shardcast prewarm MODEL --wait` makes the
agent join the model's rollout on demand (it becomes west's seeder), and returns
the path of the verified, published model, with the agent reporting >= 99% of it
resident in the page cache right after the command returns.

Also asserts: the files equal the source; west read each byte from the origin
exactly once; GET /v1/models lists the lease; `shardcast release` drops it; an
unknown model and an unreachable agent each end non-zero with one clear line.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, compare_model, make_model  # noqa: E402
from checks import check, finish, test_args  # noqa: E402


MIB = 1 << 20
FILES = {
    "model-00001-of-00002.safetensors": 13 * MIB + 777,
    "model-00002-of-00002.safetensors": 6 * MIB,
    "config.json": b'{"hidden_size": 4096}\n',
}


def main():
    args = test_args()
    with Cluster(args.bin_dir, keep=args.keep) as c:
        origin_root = os.path.join(c.dir, "origin")
        digests = make_model(os.path.join(origin_root, "llama-test"), FILES)
        total = sum(len(v) if isinstance(v, bytes) else v for v in FILES.values())
        nginx = c.start_origin(origin_root)
        c.start_controller()
        for n in ("e1", "e2"):
            c.start_agent(n, "east", "east-a")
        c.start_agent("w1", "west", "west-a")
        r = c.cli("deploy", "llama-test:v1", "--source", nginx.url("llama-test/"),
                  "--regions", "east", "--piece-size", "1MiB", "--wait", "-o", "json",
                  check=False, stderr=subprocess.DEVNULL)
        check(r.returncode == 0, f"deploy to east only exits 0 (got {r.returncode})")
        check(not os.path.exists(c.model_dir("w1", "llama-test", "v1")),
              "w1 (west) holds nothing before prewarm")

        p = c.prewarm("w1", "llama-test:v1", "--wait", "--timeout", "3m", "--lease-id", "pod-1",
                      "--lease-ttl", "10m")
        # Measured by the agent (mincore) right after the client returned.
        status, models = c.local_api("w1", "GET", "/v1/models")
        check(p.returncode == 0, f"prewarm exits 0 (got {p.returncode}; stderr: {p.stderr[-500:]})")
        path = p.stdout.strip()
        want = os.path.abspath(c.model_dir("w1", "llama-test", "v1"))
        check(path == want, f"prewarm prints the model's path ({path!r} == {want!r})")
        problems = compare_model(path, digests)
        check(not problems, f"the published files equal the source {problems}")
        check("prewarm:" in p.stderr, "progress went to stderr")
        check(status == 200, f"GET /v1/models answers 200 ({status})")
        entry = next((m for m in models.get("models", []) if m["model"] == "llama-test:v1"), {})
        resident = entry.get("resident_percent", -1)
        print(f"     residency right after prewarm: {resident:.2f}%")
        check(entry.get("state") == "ready", f"the model is ready in GET /v1/models ({entry})")
        check(resident >= 99.0, f"residency >= 99% right after prewarm ({resident:.2f}%)")
        check(entry.get("leases") == ["pod-1"], f"the lease is listed ({entry.get('leases')})")
        check(entry.get("bytes") == total, f"bytes {entry.get('bytes')} == {total}")

        rid = r.stdout and __import__("json").loads(r.stdout)["id"]
        row = next((n for n in c.rollout(rid)["nodes"] if n["node"] == "w1"), None)
        check(row is not None and row["state"] == "ready", f"w1 joined rollout {rid} and is ready")

        # Prewarm again: already there, answers at once with the same path.
        p2 = c.prewarm("w1", "llama-test:v1", "--warm", "none", "--lease-id", "pod-2")
        check(p2.returncode == 0 and p2.stdout.strip() == want, "a second prewarm returns at once")

        rel = subprocess.run([os.path.join(c.bin, "shardcast"), "release", "pod-1", "--socket",
                              c.agents["w1"]["socket"]], capture_output=True, text=True)
        check(rel.returncode == 0, f"release exits 0 ({rel.stderr.strip()})")
        _, models = c.local_api("w1", "GET", "/v1/models")
        entry = next((m for m in models["models"] if m["model"] == "llama-test:v1"), {})
        check(entry.get("leases") == ["pod-2"], f"pod-1's lease is gone ({entry.get('leases')})")
        rel = subprocess.run([os.path.join(c.bin, "shardcast"), "release", "pod-1", "--socket",
                              c.agents["w1"]["socket"]], capture_output=True, text=True)
        check(rel.returncode != 0 and "no lease" in rel.stderr, "releasing it twice fails clearly")

        # Clear one-line errors.
        p = c.prewarm("w1", "never-deployed:v9", "--wait", "--timeout", "30s")
        lines = [l for l in p.stderr.splitlines() if l.startswith("shardcast: error")]
        check(p.returncode != 0 and len(lines) == 1 and "deploy it first" in lines[0],
              f"unknown model: non-zero with one clear line ({p.stderr.strip()[-300:]})")
        p = subprocess.run([os.path.join(c.bin, "shardcast"), "prewarm", "llama-test:v1",
                            "--socket", os.path.join(c.dir, "nope.sock"), "--wait"],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and "cannot reach the shardcast agent" in p.stderr,
              f"unreachable agent: non-zero with a clear line ({p.stderr.strip()[-200:]})")

        status, metrics = c.local_api("w1", "GET", "/metrics")
        check(status == 200 and "shardcast_agent_prewarm_requests_total" in metrics,
              "GET /metrics serves shardcast_agent_* counters")

        nginx.stop()
        by_region = nginx.origin_bytes_by_region("/llama-test/")
        check(by_region.get("west", 0) == total,
              f"west read each byte from the origin once ({by_region.get('west', 0)} / {total})")
        check(by_region.get("east", 0) == total, f"east too ({by_region.get('east', 0)} / {total})")
    return finish()


if __name__ == "__main__":
    sys.exit(main())

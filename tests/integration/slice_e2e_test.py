#!/usr/bin/env python3
"""End-to-end slice (issue 2): a real nginx origin, a real controller and six real
agents in two regions distribute a model; then a peer that serves corrupted bytes
(with a hash hint that matches its corrupted bytes) joins, and a late node must
detect it, refetch from honest peers, and publish only verified bytes.

Asserts:
  * every agent's published files are byte-identical to the source (SHA-256);
  * origin bytes per region (from nginx's access log) == model size, exactly;
  * the corrupted peer is detected, reported to the controller, and its bytes are
    never published.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, compare_model, make_model, wait_for  # noqa: E402
from checks import check, check_origin_once_per_region, finish, test_args  # noqa: E402


MIB = 1 << 20
FILES = {
    "model-00001-of-00002.safetensors": 23 * MIB + 12345,  # not a multiple of the piece size
    "model-00002-of-00002.safetensors": 9 * MIB,
    "config.json": b'{"architectures": ["LlamaForCausalLM"], "hidden_size": 4096}\n',
    "tokenizer/tokenizer_config.json": b'{"model_max_length": 8192}\n',
    "empty.txt": b"",
}
REGIONS = {"east": ["e1", "e2", "e3"], "west": ["w1", "w2", "w3"]}


def main():
    args = test_args()

    with Cluster(args.bin_dir, keep=args.keep) as c:
        origin_root = os.path.join(c.dir, "origin")
        model_root = os.path.join(origin_root, "llama-test")
        digests = make_model(model_root, FILES)
        total = sum(len(v) if isinstance(v, bytes) else v for v in FILES.values())
        # The origin publishes an index with checksums, written by `shardcast index`.
        subprocess.run([os.path.join(c.bin, "shardcast"), "index", model_root], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        nginx = c.start_origin(origin_root)
        c.start_controller()
        for region, names in REGIONS.items():
            for n in names:
                c.start_agent(n, region, region + "-a")

        r = c.cli("deploy", "llama-test:v1", "--source", nginx.url("llama-test/"),
                  "--regions", "east,west", "--piece-size", "1MiB", "--wait", "-o", "json",
                  check=False, stderr=subprocess.DEVNULL)
        check(r.returncode == 0, f"deploy --wait exits 0 (got {r.returncode})")
        import json
        rollout = json.loads(r.stdout)
        rid = rollout["id"]
        check(rollout["state"] == "ready", f"rollout {rid} is ready")
        check(rollout["total_bytes"] == total, f"manifest size {rollout['total_bytes']} == {total}")

        for region, names in REGIONS.items():
            for n in names:
                problems = compare_model(c.model_dir(n, "llama-test", "v1"), digests)
                check(not problems, f"{n}: published files equal the source {problems}")
                partial = os.path.join(c.agents[n]["data"], "partial", "llama-test", "v1")
                check(not os.path.exists(partial), f"{n}: nothing left in partial/")

        # A peer that lies about bytes and hash joins east in its own zone, then a
        # late node in the same zone: same-zone peers are preferred, so the late
        # node asks the liar first and must detect it.
        c.start_agent("liar", "east", "east-b", "--corrupt-serving-for-test")
        c.wait_node_state(rid, "liar", ("ready",), timeout=120)
        c.start_agent("late", "east", "east-b")
        node = c.wait_node_state(rid, "late", ("ready", "failed"), timeout=120)
        check(node["state"] == "ready", f"late node is ready ({node.get('reason', '')})")
        problems = compare_model(c.model_dir("late", "llama-test", "v1"), digests)
        check(not problems, f"late: published files equal the source {problems}")
        status = c.rollout(rid)
        check(status["corrupt_reports"] >= 1,
              f"controller counted corrupt pieces from the liar ({status['corrupt_reports']})")
        late_log = c.agents["late"]["proc"].log_text()
        check("liar" in late_log and "failed verification" in late_log,
              "late's log names the liar and the failed verification")
        check(node["bytes_from_origin"] == 0, "late pulled nothing from the origin")

        # Count origin bytes from nginx's own log after a graceful stop.
        check_origin_once_per_region(nginx, "/llama-test/", REGIONS, total)

    return finish()


if __name__ == "__main__":
    sys.exit(main())

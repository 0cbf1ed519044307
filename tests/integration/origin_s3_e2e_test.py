#!/usr/bin/env python3
"""S3 origin end to end (issue 3): a real S3-compatible server (s3rver) behind the
harness's counting nginx (reverse-proxy mode), a controller and two regions of
agents. The source is given to `shardcast deploy` as an s3:// prefix with
--source-endpoint (the nginx in front of s3rver), --source-region and
--source-credentials; the controller and the agents resolve the credentials
name from their environment (SHARDCAST_CRED_<NAME>_*), never from the rollout.

Asserts:
  * deploy --wait exits 0 and the rollout is ready;
  * every agent's files equal the uploaded objects (SHA-256);
  * origin bytes per region, counted by nginx from the agents' User-Agent, == F
    exactly (GET 200/206 of model objects only);
  * the rollout stores no secret (the credentials name only), and no log shows it.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, make_model  # noqa: E402
from checks import check, check_origin_once_per_region, check_published, finish, test_args  # noqa: E402


from s3rver import ACCESS_KEY, S3rver  # noqa: E402

MIB = 1 << 20
BUCKET = "models"
PREFIX = "llama-s3/"
FILES = {
    "model-00001-of-00002.safetensors": 9 * MIB + 777,
    "model-00002-of-00002.safetensors": 5 * MIB,
    "config.json": b'{"architectures": ["LlamaForCausalLM"]}\n',
    "tokenizer/tokenizer.json": b'{"version": "1.0"}\n',
}
REGIONS = {"east": ["e1", "e2", "e3"], "west": ["w1", "w2"]}
# s3rver checks the access key id only, so the secret can be any value: a distinct
# one lets the test prove that it never reaches the rollout or a log.
SECRET = "shardcast-e2e-secret-Zq81"
CRED_ENV = {"SHARDCAST_CRED_S3RVER_ACCESS_KEY_ID": ACCESS_KEY,
            "SHARDCAST_CRED_S3RVER_SECRET_ACCESS_KEY": SECRET}


def main():
    args = test_args()

    with Cluster(args.bin_dir, keep=args.keep) as c:
        local = os.path.join(c.dir, "upload")
        digests = make_model(local, FILES)
        total = sum(len(v) if isinstance(v, bytes) else v for v in FILES.values())
        s3 = c.add_extra(S3rver(c.dir, BUCKET))
        for rel in FILES:
            with open(os.path.join(local, rel), "rb") as f:
                s3.put(PREFIX + rel, f.read())
        nginx = c.start_origin(None, upstream=f"127.0.0.1:{s3.port}")

        c.start_controller(env=CRED_ENV)
        for region, names in REGIONS.items():
            for n in names:
                c.start_agent(n, region, region + "-a", env=CRED_ENV)

        r = c.cli("deploy", "llama-s3:v1", "--source", f"s3://{BUCKET}/{PREFIX}",
                  "--source-endpoint", nginx.url().rstrip("/"), "--source-region", "us-east-1",
                  "--source-addressing", "path", "--source-credentials", "s3rver",
                  "--regions", "east,west", "--piece-size", "1MiB", "--wait", "-o", "json",
                  check=False, stderr=subprocess.PIPE, timeout=300)
        check(r.returncode == 0, f"deploy --wait exits 0 (got {r.returncode})"
                                 + ("" if r.returncode == 0 else f": {r.stderr[-800:]}"))
        rollout = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
        check(rollout.get("state") == "ready", f"rollout is ready ({rollout.get('state')}: "
                                               f"{rollout.get('message', '')})")
        check(rollout.get("total_bytes") == total, f"manifest size {rollout.get('total_bytes')} == {total}")
        src = (rollout.get("sources") or [{}])[0]
        check(isinstance(src, dict) and src.get("credentials") == "s3rver"
              and src.get("endpoint") == nginx.url().rstrip("/"),
              f"the rollout's source carries the endpoint and the credentials name {src}")
        check(SECRET not in json.dumps(rollout), "no secret in the rollout")

        for names in REGIONS.values():
            check_published(c, names, "llama-s3", "v1", digests)

        logs = c.controller.log_text() + "".join(a["proc"].log_text() for a in c.agents.values())
        check(SECRET not in logs, "no secret in the controller's or the agents' logs")

        check_origin_once_per_region(nginx, f"/{BUCKET}/{PREFIX}", REGIONS, total)

    return finish()


if __name__ == "__main__":
    sys.exit(main())

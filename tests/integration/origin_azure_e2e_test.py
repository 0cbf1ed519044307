#!/usr/bin/env python3
"""Azure Blob origin end to end (issue 3): a real Azure Storage emulator (Azurite,
which checks Shared Key signatures) behind the harness's counting nginx
(reverse-proxy mode), a controller and two regions of agents. The source is an
az:// prefix with --source-endpoint (the nginx in front of Azurite) and
--source-credentials; the controller and the agents resolve the credentials name
from their environment (SHARDCAST_CRED_<NAME>_AZURE_ACCOUNT_KEY), never from the
rollout.

Asserts:
  * deploy --wait exits 0 and the rollout is ready;
  * every agent's files equal the uploaded blobs (SHA-256);
  * origin bytes per region, counted by nginx from the agents' User-Agent, == F
    exactly (GET 200/206 of model blobs only);
  * the account key reaches neither the rollout nor any log.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from azurite import ACCOUNT, KEY, Azurite  # noqa: E402
from cluster import Cluster, make_model  # noqa: E402
from checks import check, check_origin_once_per_region, check_published, finish, test_args  # noqa: E402


MIB = 1 << 20
CONTAINER = "models"
PREFIX = "llama-az/"
FILES = {
    "model-00001-of-00002.safetensors": 7 * MIB + 4321,
    "model-00002-of-00002.safetensors": 4 * MIB,
    "config.json": b'{"architectures": ["LlamaForCausalLM"]}\n',
    "tokenizer/tokenizer.json": b'{"version": "1.0"}\n',
}
REGIONS = {"east": ["e1", "e2", "e3"], "west": ["w1", "w2"]}
CRED_ENV = {"SHARDCAST_CRED_AZURITE_AZURE_ACCOUNT_KEY": KEY}


def main():
    args = test_args()

    with Cluster(args.bin_dir, keep=args.keep) as c:
        local = os.path.join(c.dir, "upload")
        digests = make_model(local, FILES)
        total = sum(len(v) if isinstance(v, bytes) else v for v in FILES.values())
        az = c.add_extra(Azurite(c.dir))
        az.create_container(CONTAINER)
        for rel in FILES:
            with open(os.path.join(local, rel), "rb") as f:
                az.put(CONTAINER, PREFIX + rel, f.read())
        nginx = c.start_origin(None, upstream=f"127.0.0.1:{az.port}")

        c.start_controller(env=CRED_ENV)
        for region, names in REGIONS.items():
            for n in names:
                c.start_agent(n, region, region + "-a", env=CRED_ENV)

        endpoint = nginx.url(ACCOUNT)
        r = c.cli("deploy", "llama-az:v1", "--source", f"az://{ACCOUNT}/{CONTAINER}/{PREFIX}",
                  "--source-endpoint", endpoint, "--source-credentials", "azurite",
                  "--regions", "east,west", "--piece-size", "1MiB", "--wait", "-o", "json",
                  check=False, stderr=subprocess.PIPE, timeout=300)
        check(r.returncode == 0, f"deploy --wait exits 0 (got {r.returncode})"
                                 + ("" if r.returncode == 0 else f": {r.stderr[-800:]}"))
        rollout = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
        check(rollout.get("state") == "ready", f"rollout is ready ({rollout.get('state')}: "
                                               f"{rollout.get('message', '')})")
        check(rollout.get("total_bytes") == total, f"manifest size {rollout.get('total_bytes')} == {total}")
        check(KEY not in json.dumps(rollout), "no account key in the rollout")

        for names in REGIONS.values():
            check_published(c, names, "llama-az", "v1", digests)

        logs = c.controller.log_text() + "".join(a["proc"].log_text() for a in c.agents.values())
        check(KEY not in logs, "no account key in the controller's or the agents' logs")

        check_origin_once_per_region(nginx, f"/{ACCOUNT}/{CONTAINER}/{PREFIX}", REGIONS, total)

    return finish()


if __name__ == "__main__":
    sys.exit(main())

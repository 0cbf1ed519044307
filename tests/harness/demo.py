#!/usr/bin/env python3
"""scripts/demo: a local shardcast cluster end to end.

Generates a model of several files (~512 MiB: one file > 256 MiB, some small JSON
files), serves it with nginx on loopback, starts a controller and 6 agents in 2
regions, deploys with `shardcast deploy --wait` (which draws progress per region),
then prints origin bytes / model bytes per region from nginx's access log and
checks every agent's files against the source's SHA-256. Exit 0 only if all holds.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from cluster import Cluster, compare_model, make_model  # noqa: E402

MIB = 1 << 20


def model_files(total_mib):
    big = total_mib * 300 // 512
    rest = total_mib - big
    return {
        "model-00001-of-00003.safetensors": big * MIB,
        "model-00002-of-00003.safetensors": (rest // 2) * MIB,
        "model-00003-of-00003.safetensors": (rest - rest // 2) * MIB - 4096 + 77,
        "config.json": json.dumps({"architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
                                   "num_hidden_layers": 32}).encode() + b"\n",
        "generation_config.json": b'{"temperature": 0.6, "top_p": 0.9}\n',
        "tokenizer.json": json.dumps({"version": "1.0", "model": {"type": "BPE"}}).encode(),
        "model.safetensors.index.json": b'{"metadata": {"total_size": 0}, "weight_map": {}}\n',
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--size", type=int, default=512, help="model size in MiB (default 512)")
    ap.add_argument("--keep", action="store_true", help="keep the demo's temp dir")
    args = ap.parse_args()

    regions = {"us-east": ["node-1", "node-2", "node-3"], "eu-west": ["node-4", "node-5", "node-6"]}
    ok = True
    with Cluster(args.bin_dir, keep=args.keep) as c:
        print(f"==> demo dir {c.dir}")
        files = model_files(args.size)
        total = sum(len(v) if isinstance(v, bytes) else v for v in files.values())
        print(f"==> generating model demo-llama:v1, {len(files)} files, {total / MIB:.1f} MiB")
        origin_root = os.path.join(c.dir, "origin")
        digests = make_model(os.path.join(origin_root, "demo-llama"), files)
        nginx = c.start_origin(origin_root)
        print(f"==> nginx origin at {nginx.url('demo-llama/')}")
        url = c.start_controller()
        print(f"==> controller at {url}")
        for region, names in regions.items():
            for n in names:
                c.start_agent(n, region, region + "-a")
        print(f"==> 6 agents: {', '.join(f'{r}: ' + ' '.join(n) for r, n in regions.items())}")
        print("==> shardcast deploy demo-llama:v1 --wait")
        t0 = time.monotonic()
        r = c.cli("deploy", "demo-llama:v1", "--source", nginx.url("demo-llama/"), "--wait",
                  "-o", "json", check=False)
        elapsed = time.monotonic() - t0
        if r.returncode != 0:
            print(f"FAIL deploy exited {r.returncode}")
            return 1
        rollout = json.loads(r.stdout)
        print(f"==> rollout {rollout['id']} {rollout['state']} in {elapsed:.1f} s "
              f"({6 * total / MIB / elapsed:.0f} MiB/s delivered to 6 nodes)")
        nginx.stop()
        by_region = nginx.origin_bytes_by_region("/demo-llama/")
        print("==> origin bytes per region (nginx access log, $body_bytes_sent)")
        for region in regions:
            got = by_region.get(region, 0)
            good = got == total
            ok &= good
            print(f"    {region:8s} {got:>12d} / {total} = {got / total:.3f}  {'ok' if good else 'FAIL'}")
        print("==> every agent's files against the source's SHA-256")
        for names in regions.values():
            for n in names:
                problems = compare_model(c.model_dir(n, "demo-llama", "v1"), digests)
                ok &= not problems
                print(f"    {n}: {len(digests)} files {'match' if not problems else 'FAIL ' + '; '.join(problems)}")
    print("==> demo passed" if ok else "==> demo FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

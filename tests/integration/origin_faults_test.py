#!/usr/bin/env python3
"""Origin faults (issue 3): a real nginx origin behind a fault-injecting proxy
(tests/harness/faulty_proxy.py) that answers 503 and 429 with Retry-After for a
while (the first ranged GETs, then every few) and cuts connections mid-piece. A
rollout to four agents in two regions must still complete:

  * deploy --wait exits 0 and every agent's files equal the source;
  * the proxy really answered 503s and 429s and cut connections mid-body;
  * the agents waited at least Retry-After (1 s) after each injected 503/429;
  * origin bytes per region, counted by nginx (behind the proxy), are >= F and
    <= 1.02 x F: a cut piece resumes from the byte it reached. (Starting cut
    pieces over would cost MAX_DROPS x DROP_AFTER, about 15% of F here.)
  * the region's origin budget holds: with --max-origin-requests-per-region 4
    and two seeders each allowed 3 (--origin-concurrency), at most 4 ranged GETs
    of a region are ever in flight at the proxy, and at least 2 are (nginx sends
    each connection at 8 MB/s, so a 1 MiB piece takes over 100 ms and parallel
    requests overlap even on a loaded machine).
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, compare_model, make_model  # noqa: E402
from checks import check, finish, test_args  # noqa: E402


from faulty_proxy import FaultyProxy  # noqa: E402

MIB = 1 << 20
FILES = {
    "model-00001-of-00002.safetensors": 14 * MIB + 4321,
    "model-00002-of-00002.safetensors": 10 * MIB,
    "config.json": b'{"hidden_size": 4096}\n',
}
REGIONS = {"east": ["e1", "e2"], "west": ["w1", "w2"]}
DROP_AFTER = 600 * 1024  # bytes of a 1 MiB piece sent before the cut
MAX_DROPS = 6
BUDGET = 4  # origin requests per region at once (2 seeders x 3 would be 6)


def main():
    args = test_args()

    with Cluster(args.bin_dir, keep=args.keep) as c:
        origin_root = os.path.join(c.dir, "origin")
        model_root = os.path.join(origin_root, "faulty")
        digests = make_model(model_root, FILES)
        total = sum(len(v) if isinstance(v, bytes) else v for v in FILES.values())
        subprocess.run([os.path.join(c.bin, "shardcast"), "index", model_root], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        nginx = c.start_origin(origin_root, limit_rate="8m")
        proxy = c.add_extra(FaultyProxy("127.0.0.1", nginx.port, fail_first=12, fail_every=9,
                                        retry_after="1", drop_every=4, drop_after=DROP_AFTER,
                                        max_drops=MAX_DROPS, path_prefix="/faulty/").start())
        c.start_controller("--max-origin-requests-per-region", str(BUDGET))
        for region, names in REGIONS.items():
            for n in names:
                c.start_agent(n, region, region + "-a", "--origin-concurrency", "3")

        r = c.cli("deploy", "faulty:v1", "--source", proxy.url("faulty/"),
                  "--regions", "east,west", "--piece-size", "1MiB", "--wait", "-o", "json",
                  check=False, stderr=subprocess.DEVNULL, timeout=300)
        check(r.returncode == 0, f"deploy --wait exits 0 (got {r.returncode})")
        rollout = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
        check(rollout.get("state") == "ready",
              f"rollout is ready ({rollout.get('state')}: {rollout.get('message', '')})")
        for names in REGIONS.values():
            for n in names:
                problems = compare_model(c.model_dir(n, "faulty", "v1"), digests)
                check(not problems, f"{n}: published files equal the source {problems}")

        stats = proxy.stats()
        print(f"proxy: {stats}")
        check(stats["503"] > 0 and stats["429"] > 0, "the proxy answered 503 and 429")
        check(stats["dropped"] == MAX_DROPS, f"the proxy cut {MAX_DROPS} pieces mid-body")

        inflight = proxy.max_in_flight()
        print(f"most ranged GETs in flight per region: {inflight}")
        for region in REGIONS:
            got = inflight.get(region, 0)
            check(2 <= got <= BUDGET, f"{region}: at most {BUDGET} origin requests at once ({got})")

        # Every injected 503/429 was followed by a wait of at least Retry-After.
        waits, resumed = [], 0
        for names in REGIONS.values():
            for n in names:
                log = c.agents[n]["proc"].log_text()
                for line in log.splitlines():
                    m = re.search(r"retrying in (\d+) ms\): .*HTTP (503|429)", line)
                    if m:
                        waits.append(int(m.group(1)))
                    if re.search(r"resumed at byte \d+", line) or (
                            "bytes received" in line and " 0 of " not in line):
                        resumed += 1
        check(len(waits) >= 12, f"agents logged their 503/429 retries ({len(waits)})")
        check(all(w >= 1000 for w in waits), f"every such retry waited >= Retry-After 1 s {sorted(waits)[:5]}")
        check(resumed >= MAX_DROPS, f"cut pieces were resumed ({resumed} log lines)")

        nginx.stop()
        by_region = nginx.origin_bytes_by_region("/faulty/")
        for region in REGIONS:
            got = by_region.get(region, 0)
            print(f"origin bytes {region}: {got} / {total} = {got / total:.4f}")
            check(total <= got <= 1.02 * total,
                  f"origin bytes {region} within [F, 1.02 F]: {got / total:.4f}")

    return finish()


if __name__ == "__main__":
    sys.exit(main())

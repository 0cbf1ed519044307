#!/usr/bin/env python3
"""Controller HA (issue 6, item 3): a real etcd, two controller replicas
(--state-store etcd), a rate-limited nginx origin (limit_rate: real pacing) and
agents that know both replicas (--controller A,B). The rollout is deployed
through the leader; the leader is killed with SIGKILL mid-rollout.

Asserts:
  * a follower answers reads (GET /v1/rollouts, /v1/rollouts/{id}) itself from the
    replicated state, before and after the leader dies, and writes with 503
    not_leader naming the leader;
  * the other replica is the leader (/healthz role=leader) within the lease TTL
    + 2 s of the kill;
  * the rollout completes; every agent's files equal the source (SHA-256);
  * origin bytes per region (nginx's log) <= 1.02 x the model size;
  * at no time did two replicas assign origin duties, from etcd's own history:
    every commit (each version of the commit marker) and every version of every
    stripe key was written under the leader key that etcd held at that very
    revision, by the replica that held it; the two terms are ordered, and the
    old leader wrote nothing after the new one was elected;
  * and from the replicas' logs: each logs "elected leader (lease L, rev R)"; all
    of A's stripe assignments precede the kill, all of B's follow its election,
    and B's election follows the kill: the leadership intervals do not overlap.

A region (north) whose only agent starts after the takeover makes the new
leader write a stripe plan too, so both terms' writes are checked.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, http_json, make_model, wait_for  # noqa: E402
from checks import check, check_published, finish, test_args  # noqa: E402
from etcd import Etcd, etcd_available  # noqa: E402

MIB = 1 << 20
FILES = {
    "model-00001-of-00002.safetensors": 20 * MIB + 4321,
    "model-00002-of-00002.safetensors": 12 * MIB,
    "config.json": b'{"hidden_size": 4096}\n',
}
TTL_S = 3
PREFIX = "/shardcast-ha/"
EARLY = {"e1": "east", "e2": "east", "w1": "west"}
LATE = {"n1": "north"}


def log_time(line):
    """Wall-clock seconds of a log line "2026-11-25T21:02:24.549Z INFO ..."."""
    stamp = line.split(" ", 1)[0]
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def log_lines(proc, pattern):
    return [(log_time(l), l) for l in proc.log_text().splitlines() if re.search(pattern, l)]


def start_replica(c, name, etcd):
    ready = os.path.join(c.dir, name + ".ready")
    argv = [os.path.join(c.bin, "shardcast-controller"), "--listen", "127.0.0.1:0",
            "--ready-file", ready, "--state-store", "etcd", "--etcd-endpoints", etcd.url,
            "--etcd-prefix", PREFIX, "--leader-lease-ttl", f"{TTL_S}s",
            "--node-timeout-ms", "5000"]
    proc, addr = c._start("controller-" + name, argv, ready)
    return proc, "http://" + addr


def role(url):
    try:
        status, body = http_json("GET", url + "/healthz", timeout=2)
    except OSError:
        return None
    return body.get("role") if status == 200 and isinstance(body, dict) else None


def http_with_headers(method, url):
    """(status, parsed JSON body, headers) of a request without a body."""
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), dict(e.headers)


def get_rollout(url, rid):
    status, body = http_json("GET", f"{url}/v1/rollouts/{rid}", timeout=5)
    return body if status == 200 else None


def check_history(etcd, replica_ids):
    """Every commit and every stripe write was made by the leader of that revision."""
    marker = etcd.history(PREFIX + "commit")
    check(len(marker) > 0, f"etcd holds the history of {len(marker)} commits")
    writers = {}  # commit revision -> (replica, leader_rev)
    bad = []
    for m in marker:
        rev = m["mod_revision"]
        value = json.loads(m["value"])
        leader = etcd.get(PREFIX + "leader", rev)
        holder = json.loads(leader["value"])["id"] if leader else None
        writers[rev] = (value["replica"], value["leader_rev"])
        if leader is None or leader["create_revision"] != value["leader_rev"] or holder != value["replica"]:
            bad.append((rev, value, leader))
    check(not bad, f"each of {len(marker)} commits was made under the leader key it names "
                   f"(held by its writer at that revision) {bad[:3]}")

    terms = sorted({w for w in writers.values()}, key=lambda t: t[1])
    check(len(terms) == 2 and terms[0][0] == replica_ids["a"] and terms[1][0] == replica_ids["b"],
          f"two terms wrote, A's then B's: {terms}")
    if len(terms) == 2:
        b_elected = terms[1][1]
        late_a = [r for r, w in writers.items() if w == terms[0] and r > b_elected]
        check(not late_a, f"A wrote nothing after B's election at revision {b_elected} {late_a}")

    stripe_writes = []
    for kv in etcd.prefix(PREFIX + "state/stripes/"):
        for version in etcd.history(kv["key"]):
            rev = version["mod_revision"]
            stripe_writes.append((rev, kv["key"][len(PREFIX + "state/"):], writers.get(rev)))
    unknown = [w for w in stripe_writes if w[2] is None]
    check(stripe_writes and not unknown,
          f"each of {len(stripe_writes)} stripe writes is one of those commits {unknown[:3]}")
    by = {}
    for rev, key, w in sorted(stripe_writes):
        if w:
            by.setdefault(w[0], []).append(f"{key}@{rev}")
    print(f"     stripe writes by replica: {by}")
    check(replica_ids["a"] in by and replica_ids["b"] in by,
          "both leaders assigned origin duties (A at deploy, B for the late region)")


def main():
    args = test_args()
    if not etcd_available():
        print("SKIPPED: etcd not found (scripts/install-deps installs etcd-server)")
        return 0
    with Cluster(args.bin_dir, keep=args.keep) as c:
        etcd = c.add_extra(Etcd(c.dir))
        origin_root = os.path.join(c.dir, "origin")
        digests = make_model(os.path.join(origin_root, "big"), FILES)
        total = sum(len(v) if isinstance(v, bytes) else v for v in FILES.values())
        # 512 KiB/s per connection: the west seeder (4 connections) needs ~16 s.
        nginx = c.start_origin(origin_root, limit_rate="512k")

        proc_a, url_a = start_replica(c, "a", etcd)
        wait_for(lambda: role(url_a) == "leader", 10, "replica A to lead")
        proc_b, url_b = start_replica(c, "b", etcd)
        check(role(url_b) == "follower", "replica B starts as a follower")
        status, body, headers = http_with_headers("GET", url_b + "/v1/rollouts")
        check(status == 200 and body == {"rollouts": []} and headers.get("X-Shardcast-Follower-Revision"),
              f"the follower answers reads itself, from the replicated state ({status}, revision "
              f"{headers.get('X-Shardcast-Follower-Revision')})")
        status, body, _ = http_with_headers("POST", url_b + "/v1/rollouts/ro-x:cancel")
        check(status == 503 and body["error"]["code"] == "not_leader" and body["error"]["leader"] == url_a,
              f"the follower answers writes with 503 not_leader naming the leader ({status})")

        c.controller_url = url_a + "," + url_b  # agents and the CLI get both replicas
        for name, region in EARLY.items():
            c.start_agent(name, region, region + "-a")
        r = c.cli("deploy", "big:v1", "--source", nginx.url("big/"), "--piece-size", "1MiB",
                  "-o", "json", stderr=subprocess.DEVNULL)
        rid = json.loads(r.stdout)["id"]

        def progressed():
            ro = get_rollout(url_a, rid)
            done = sum(n["bytes_done"] for n in ro["nodes"]) if ro else 0
            return done >= 0.25 * total * len(EARLY) and done
        done = wait_for(progressed, 120, "25% progress", interval=0.1)
        # Reads from the follower: the leader's committed state, at most a second old.
        ro_b = wait_for(lambda: get_rollout(url_b, rid), 5, "the follower to show the rollout")
        check(ro_b["id"] == rid and ro_b["state"] == "in_progress" and ro_b["piece_count"] > 0,
              f"the follower shows the rollout ({ro_b['state']}, {ro_b['piece_count']} pieces)")
        status, body, _ = http_with_headers("GET", url_b + "/v1/rollouts/ro-unknown")
        check(status == 503 and body["error"]["code"] == "not_leader" and body["error"]["leader"] == url_a,
              f"a rollout the follower does not know is the leader's to answer ({status})")
        kill_wall = time.time()
        kill_mono = time.monotonic()
        proc_a.stop(signal.SIGKILL)
        print(f"     killed leader A with SIGKILL at {done / (total * len(EARLY)):.0%} of the bytes")
        ro_b = get_rollout(url_b, rid)
        check(ro_b is not None and ro_b["id"] == rid,
              f"with the leader dead, B still answers reads (role {role(url_b)})")

        wait_for(lambda: role(url_b) == "leader", TTL_S + 10, "replica B to lead")
        takeover = time.monotonic() - kill_mono
        print(f"     takeover: B answers role=leader {takeover:.2f} s after the kill (TTL {TTL_S} s)")
        check(takeover <= TTL_S + 2, f"takeover within lease TTL + 2 s ({takeover:.2f} s)")

        ro = get_rollout(url_b, rid)
        check(ro is not None and ro["state"] == "in_progress",
              f"the new leader serves the rollout, still in progress ({ro and ro['state']})")
        for name, region in LATE.items():
            c.start_agent(name, region, region + "-a")

        def finished():
            ro = get_rollout(url_b, rid)
            return ro if ro and ro["state"] not in ("in_progress",) else None
        ro = wait_for(finished, 300, "the rollout to finish", interval=0.2)
        check(ro["state"] == "ready", f"the rollout completes: {ro['state']} {ro.get('message', '')}")

        names = list(EARLY) + list(LATE)
        check_published(c, names, "big", "v1", digests)
        nginx.stop()
        by_region = nginx.origin_bytes_by_region("/big/")
        for region in sorted(set(EARLY.values()) | set(LATE.values())):
            got = by_region.get(region, 0)
            check(total <= got <= 1.02 * total,
                  f"origin bytes {region}: {got} / {total} = {got / total:.3f} (<= 1.02)")

        elected_a = log_lines(proc_a, r"elected leader \(lease \d+, rev \d+")
        elected_b = log_lines(proc_b, r"elected leader \(lease \d+, rev \d+")
        check(len(elected_a) == 1 and len(elected_b) == 1,
              f"each replica was elected once ({len(elected_a)}, {len(elected_b)})")
        ids = {}
        for key, lines in (("a", elected_a), ("b", elected_b)):
            if lines:
                ids[key] = lines[0][1].rsplit(" as ", 1)[1].strip()
        if len(ids) == 2:
            check_history(etcd, ids)
            t_b = elected_b[0][0]
            # A region's plan: at deploy ("N regions planned", N > 0), on first contact
            # ("planned over"), or moved from a gone seeder.
            stripes = r"[1-9]\d* regions planned|planned over|unfinished pieces of gone seeders"
            a_assign = log_lines(proc_a, stripes)
            b_assign = log_lines(proc_b, stripes)
            check(a_assign and all(t <= kill_wall for t, _ in a_assign),
                  f"A's {len(a_assign)} stripe assignments all precede the kill")
            check(b_assign and all(t >= t_b for t, _ in b_assign),
                  f"B's {len(b_assign)} stripe assignments all follow its election")
            check(t_b >= kill_wall - 0.01,
                  f"B was elected {t_b - kill_wall:.2f} s after A was killed: the leadership "
                  "intervals do not overlap")
    return finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Node topology and leases that follow pods (issue 8, item 4), against a
STAND-IN Kubernetes API: there is no API server (and no cluster) on this machine,
so tests/harness/kube_api.py answers GET /api/v1/nodes/NAME and the paginated pod
list (fieldSelector=spec.nodeName=NAME) over HTTPS with a self-signed certificate
made by `openssl req` in the test's temp dir (the agent verifies it through
--kube-ca-file), checks the bearer token, and answers 401/403/404 like the real
API. A real controller, real agents and an nginx origin run on loopback.

Asserts:
  * --check-config with the agent's Kubernetes flags prints "config ok" and makes
    no request;
  * 401 (wrong token), 403 (RBAC), 404 (unknown node) and a CA that does not
    match each make the agent exit 1 with one clear error line, before it
    registers; the token is never printed;
  * an agent with --kubernetes (API address from KUBERNETES_SERVICE_HOST/PORT)
    registers with the Node's region, zone and labels: a rollout to that region
    with a selector on a Node label reaches it and the controller reports its
    region and zone; on a second agent --region and --labels override the Node;
  * pod-gone expiry: leases whose id is a pod UID are dropped once the pod leaves
    the node's pod list (or ends Succeeded), and only then; a lease of a listed
    pod and a lease with a non-UID id ("manual") stay; a partial list (a later
    page failing) drops nothing; the agent follows `continue` pages and keeps
    working after the token file rotates.
"""
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, make_model, wait_for  # noqa: E402
from checks import check, finish, test_args  # noqa: E402
from kube_api import KubeApiStandIn, make_self_signed_cert  # noqa: E402

MIB = 1 << 20
REGION, ZONE_A, ZONE_B = "us-test-1", "us-test-1a", "us-test-1b"


def write_token(path, token):
    """Replaces the token file atomically, as the kubelet does when it rotates."""
    with open(path + ".tmp", "w") as f:
        f.write(token + "\n")
    os.replace(path + ".tmp", path)


class KubeAgents:
    """Starts agents with --kubernetes against the stand-in."""

    def __init__(self, c, api, token_file):
        self.c, self.api, self.token_file = c, api, token_file

    def argv(self, name, *extra, kube_api=True, ca=None):
        data = os.path.join(self.c.dir, "agents", name)
        argv = [os.path.join(self.c.bin, "shardcast-agent"), "--name", name, "--kubernetes",
                "--controller", self.c.controller_url, "--data-dir", data,
                "--listen", "127.0.0.1:0", "--ready-file", os.path.join(self.c.dir, name + ".ready"),
                "--local-socket", os.path.join(self.c.dir, name + ".sock"),
                "--kube-token-file", self.token_file, "--kube-ca-file", ca or self.api.cert,
                "--pod-sweep-interval", "200ms", *extra]
        if kube_api:
            argv += ["--kube-api", self.api.url()]
        return argv

    def env(self):
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                "KUBERNETES_SERVICE_PORT": str(self.api.port)}

    def start(self, name, *extra, kube_api=True):
        argv = self.argv(name, *extra, kube_api=kube_api)
        ready = os.path.join(self.c.dir, name + ".ready")
        p, addr = self.c._start("agent-" + name, argv, ready, env=self.env())
        self.c.agents[name] = {"proc": p, "data": argv[argv.index("--data-dir") + 1],
                               "socket": os.path.join(self.c.dir, name + ".sock"), "addr": addr,
                               "argv": argv, "ready": ready, "env": self.env()}
        return p

    def run(self, argv, timeout=60):
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, **self.env()))


def leases_of(c, agent, model):
    status, body = c.local_api(agent, "GET", "/v1/models")
    if status != 200:
        return None
    entry = next((m for m in body.get("models", []) if m["model"] == model), None)
    return set(entry["leases"]) if entry else set()


def check_start_failure(k, what, argv, wants, secrets):
    r = k.run(argv)
    out = r.stdout + r.stderr
    errors = [line for line in out.splitlines() if " ERROR " in line]
    print(f"     {what}: {errors[-1] if errors else out.strip()[-300:]}")
    check(r.returncode == 1, f"{what}: the agent exits 1 (got {r.returncode})")
    check(len(errors) == 1 and all(w in errors[0] for w in wants),
          f"{what}: one error line saying {wants}")
    check("registered with the controller" not in out, f"{what}: it did not register")
    check(not any(s in out for s in secrets), f"{what}: the token is not printed")


def check_errors(c, k, api, token_file, secrets):
    bad_token = os.path.join(c.dir, "bad-token")
    write_token(bad_token, "not-the-token")
    argv = k.argv("gpu-node-1")
    argv[argv.index("--kube-token-file") + 1] = bad_token
    check_start_failure(k, "401", argv, ["refused the service account token",
                                         "check the token mount"], secrets)
    check_start_failure(k, "403", k.argv("gpu-node-3"),
                        ["RBAC: the agent's ServiceAccount needs get nodes / list pods",
                         "cannot get resource"], secrets)
    check_start_failure(k, "404", k.argv("no-such-node"),
                        ["node no-such-node not found",
                         "--name must be the Kubernetes node name"], secrets)
    other_ca, _ = make_self_signed_cert(c.dir, "other-ca")
    check_start_failure(k, "wrong CA", k.argv("gpu-node-1", ca=other_ca),
                        ["cannot reach the Kubernetes API", "--kube-ca-file"], secrets)


def check_topology(c, k, origin):
    k.start("gpu-node-1", kube_api=False)  # the API address from KUBERNETES_SERVICE_*
    k.start("gpu-node-2", "--region", "eu-override", "--labels", "pool=batch")
    r = c.cli("deploy", "m:v1", "--source", origin.url("m/"), "--regions", REGION,
              "--selector", "nvidia.com/gpu.product=H100", "--piece-size", "1MiB", "--wait",
              "-o", "json", check=False, stderr=subprocess.DEVNULL)
    check(r.returncode == 0, f"a rollout to {REGION} with a Node-label selector is ready "
                             f"(exit {r.returncode})")
    rid = __import__("json").loads(r.stdout)["id"] if r.stdout.strip() else None
    nodes = c.rollout(rid)["nodes"] if rid else []
    print(f"     {[(n['node'], n.get('region'), n.get('zone')) for n in nodes]}")
    check([n["node"] for n in nodes] == ["gpu-node-1"],
          "it targets gpu-node-1 only (gpu-node-2's --region overrides its Node's region)")
    check(nodes and nodes[0].get("region") == REGION and nodes[0].get("zone") == ZONE_A,
          f"gpu-node-1 registered with the Node's region {REGION} and zone {ZONE_A}")
    r = c.cli("deploy", "m:v1", "--source", origin.url("m/"), "--regions", "eu-override",
              "--selector", "nvidia.com/gpu.product=A100,pool=batch", "--piece-size", "1MiB",
              "--wait", "-o", "json", check=False, stderr=subprocess.DEVNULL)
    rid = __import__("json").loads(r.stdout)["id"] if r.stdout.strip() else None
    nodes = c.rollout(rid)["nodes"] if rid else []
    check(r.returncode == 0 and [n["node"] for n in nodes] == ["gpu-node-2"],
          f"gpu-node-2 is in region eu-override (the flag) with the Node's label and the "
          f"--labels one (exit {r.returncode}, nodes {[n['node'] for n in nodes]})")
    check(nodes and nodes[0].get("zone") == ZONE_B, "gpu-node-2 keeps the Node's zone")


def wait_sweeps(api, n, what):
    start = api.listings()
    wait_for(lambda: api.listings() >= start + n, 20, what)


def check_pod_leases(c, k, api, token_file, secrets):
    gone, live, partial, done = (str(uuid.uuid4()) for _ in range(4))
    for uid in (gone, live, partial, done, str(uuid.uuid4())):
        api.add_pod(uid, "gpu-node-1")
    api.add_pod(str(uuid.uuid4()), "gpu-node-2")
    for lease in (gone, live, partial, done, "manual"):
        p = c.prewarm("gpu-node-1", "m:v1", "--warm", "none", "--lease-id", lease)
        check(p.returncode == 0, f"prewarm with lease {lease} ({p.stderr.strip()[-200:]})")
    everyone = {gone, live, partial, done, "manual"}
    check(leases_of(c, "gpu-node-1", "m:v1") == everyone, "the five leases are listed")

    write_token(token_file, secrets[1])  # the kubelet rotates the projected token
    api.set_token(secrets[1])
    wait_sweeps(api, 3, "three pod listings with the rotated token")
    check(leases_of(c, "gpu-node-1", "m:v1") == everyone,
          "while every pod is listed, every lease stays")
    pods = [q for path, q, ok in api.seen() if path == "/api/v1/pods" and ok]
    check(all(q.get("fieldSelector") in ("spec.nodeName=gpu-node-1", "spec.nodeName=gpu-node-2")
              and q.get("limit") for q in pods) and
          any(q.get("fieldSelector") == "spec.nodeName=gpu-node-1" for q in pods),
          "each agent lists its own node's pods, with a limit")
    check(any("continue" in q for q in pods), "the agent follows metadata.continue pages")

    api.remove_pod(gone)
    api.set_phase(done, "Succeeded")
    wait_for(lambda: not ({gone, done} & (leases_of(c, "gpu-node-1", "m:v1") or set())), 20,
             "the leases of the deleted and the Succeeded pod to be dropped")
    check(leases_of(c, "gpu-node-1", "m:v1") == {live, partial, "manual"},
          "a pod gone from the node loses its lease (also a Succeeded one); the rest stay")
    log = c.agents["gpu-node-1"]["proc"].log_text()
    check(f"lease {gone} dropped: pod {gone} is no longer on node gpu-node-1 (it held m:v1)" in log,
          "the agent logs each drop with the pod UID and the model")

    api.set_fail_pages_after_first(True)
    api.remove_pod(partial)
    wait_sweeps(api, 5, "five partial pod listings")
    check(partial in leases_of(c, "gpu-node-1", "m:v1"),
          "a partial pod list (a later page failing) drops nothing")
    api.set_fail_pages_after_first(False)
    wait_for(lambda: partial not in leases_of(c, "gpu-node-1", "m:v1"), 20,
             "the lease to be dropped once a whole list is read")
    wait_sweeps(api, 3, "three more pod listings")
    check(leases_of(c, "gpu-node-1", "m:v1") == {live, "manual"},
          "the listed pod's lease and the non-UID lease stay")
    logs = "".join(a["proc"].log_text() for a in c.agents.values())
    check(not any(s in logs for s in secrets), "no agent log holds a token")


def main():
    args = test_args()
    with Cluster(args.bin_dir, keep=args.keep) as c:
        secrets = ["sa-token-" + uuid.uuid4().hex, "sa-token-rotated-" + uuid.uuid4().hex]
        api = c.add_extra(KubeApiStandIn(c.dir, secrets[0]))
        token_file = os.path.join(c.dir, "serviceaccount", "token")
        os.makedirs(os.path.dirname(token_file))
        write_token(token_file, secrets[0])
        api.nodes["gpu-node-1"] = {
            "topology.kubernetes.io/region": REGION, "topology.kubernetes.io/zone": ZONE_A,
            "failure-domain.beta.kubernetes.io/region": REGION,
            "beta.kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "gpu-node-1",
            "nvidia.com/gpu.product": "H100"}
        api.nodes["gpu-node-2"] = {
            "topology.kubernetes.io/region": REGION, "topology.kubernetes.io/zone": ZONE_B,
            "nvidia.com/gpu.product": "A100"}
        api.forbidden.add("gpu-node-3")

        origin_root = os.path.join(c.dir, "origin")
        make_model(os.path.join(origin_root, "m"), {"weights.bin": 3 * MIB + 5})
        origin = c.start_origin(origin_root)
        c.start_controller()
        k = KubeAgents(c, api, token_file)

        before = len(api.seen())
        r = k.run(k.argv("gpu-node-1", "--check-config", kube_api=False))
        check(r.returncode == 0 and r.stdout.strip() == "config ok",
              f"--check-config prints 'config ok' ({r.returncode}: {r.stderr.strip()})")
        check(len(api.seen()) == before, "--check-config makes no request")

        check_errors(c, k, api, token_file, secrets)
        check_topology(c, k, origin)
        check_pod_leases(c, k, api, token_file, secrets)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The Helm chart (issue 8), with the real helm and the Kubernetes OpenAPI schemas:

- `helm lint --strict` and `helm template` pass for the default values and for every
  tests/helm/values/*.yaml that is not broken-*; every rendered object validates with
  kubernetes-models (tests/helm/validate.js: types, required fields, enums, unknown
  fields), and what each value file is about shows in the objects (HA on etcd, existing
  Secrets, hostNetwork + GPU tolerations, a disk budget on a custom data dir, ...);
- every broken-*.yaml is rejected by `helm lint --strict` and `helm template` with a short
  message that names the bad field (the file's `# expect-error:` line);
- the chart's kubeVersion range is enforced;
- the examples/ manifests validate the same way;
- validate.js itself fails on a wrong type and on an unknown field (so a pass means
  something).
"""
import copy
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
sys.path.insert(0, os.path.dirname(__file__))
from checks import check, finish, test_args  # noqa: E402
import chart_tools as ct  # noqa: E402

STANDARD_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                   "app.kubernetes.io/version", "app.kubernetes.io/managed-by",
                   "helm.sh/chart")


def arg_list(c):
    return list(c.get("command", [])) + list(c.get("args", []))


def check_common(name, objects):
    """Rules every rendering must keep, whatever the values."""
    for o in objects:
        labels = o["metadata"].get("labels", {})
        missing = [k for k in STANDARD_LABELS if k not in labels]
        check(not missing, f"{name}: {o['kind']}/{o['metadata']['name']} carries the "
                           f"standard labels {missing or ''}")
    workloads = ct.find(objects, "Deployment") + ct.find(objects, "DaemonSet")
    check(len(workloads) == 2, f"{name}: one controller Deployment and one agent DaemonSet")
    for w in workloads:
        sel = w["spec"]["selector"]["matchLabels"]
        pod_labels = w["spec"]["template"]["metadata"]["labels"]
        check(all(pod_labels.get(k) == v for k, v in sel.items()),
              f"{name}: {w['kind']} selector matches its pod labels")
        for c in w["spec"]["template"]["spec"]["containers"]:
            check("livenessProbe" in c and "readinessProbe" in c,
                  f"{name}: {w['kind']}/{c['name']} has liveness and readiness probes")
    deploy = ct.find(objects, "Deployment")[0]
    ctrl = ct.container(deploy, "controller")
    check(ctrl["livenessProbe"].get("httpGet", {}).get("path") == "/healthz" and
          ctrl["readinessProbe"].get("httpGet", {}).get("path") == "/healthz",
          f"{name}: controller probes GET /healthz")
    agent_c = ct.container(ct.find(objects, "DaemonSet")[0], "agent")
    check(all(agent_c[p].get("httpGet", {}).get("path") == "/healthz" and agent_c[p]["httpGet"].get("port") == "peer"
              for p in ("startupProbe", "livenessProbe", "readinessProbe")),
          f"{name}: agent probes GET /healthz on the peer port")
    ds = ct.find(objects, "DaemonSet")[0]
    agent = ct.container(ds, "agent")
    args = arg_list(agent)
    check("--name=$(NODE_NAME)" in args, f"{name}: agent --name from the downward API")
    env = {e["name"]: e for e in agent.get("env", [])}
    check(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
          == "spec.nodeName", f"{name}: NODE_NAME is spec.nodeName")
    us = ds["spec"]["updateStrategy"]
    check(us["type"] == "RollingUpdate" and "maxUnavailable" in us["rollingUpdate"],
          f"{name}: agent RollingUpdate with maxUnavailable")
    hostpaths = {v["name"]: v["hostPath"]["path"] for v in ds["spec"]["template"]["spec"]["volumes"]
                 if "hostPath" in v}
    check({"data", "socket"} <= set(hostpaths), f"{name}: agent data and socket dirs are hostPaths")
    return deploy, ctrl, ds, agent, args


def expect_default(objects, deploy, ctrl, ds, agent, args):
    name = "default values"
    cargs = arg_list(ctrl)
    check("--state-store=journal" in cargs and any(a.startswith("--data-dir=") for a in cargs),
          f"{name}: controller uses the journal with --data-dir")
    check(deploy["spec"]["strategy"]["type"] == "Recreate", f"{name}: journal Deployment is Recreate")
    check(len(ct.find(objects, "PersistentVolumeClaim")) == 1, f"{name}: a PVC for the journal")
    check(len(ct.find(objects, "PodDisruptionBudget")) == 1, f"{name}: a PodDisruptionBudget")
    check({"ClusterRole", "ClusterRoleBinding"} <= {o["kind"] for o in objects},
          f"{name}: RBAC for the agent")
    role = ct.find(objects, "ClusterRole")[0]
    rules = {(r["resources"][0], tuple(r["verbs"])) for r in role["rules"]}
    check(rules == {("nodes", ("get",)), ("pods", ("list",))},
          f"{name}: the agent may get nodes and list pods, nothing else {sorted(rules)}")
    check("--kubernetes" in args, f"{name}: agent reads its Node (--kubernetes)")
    secrets = ct.find(objects, "Secret")
    check(len(secrets) == 1 and {"api-token", "cluster-token"} <= set(secrets[0].get("data", {})),
          f"{name}: the chart makes the API and cluster tokens")
    check(any(a.startswith("--token-file=") for a in cargs) and
          any(a.startswith("--controller-token-file=") for a in args) and
          any(a.startswith("--cluster-token-file=") for a in args),
          f"{name}: both binaries get their token files")
    tol = ds["spec"]["template"]["spec"].get("tolerations", [])
    check(any(t.get("key") == "nvidia.com/gpu" for t in tol), f"{name}: agent tolerates nvidia.com/gpu")


def expect_ha_etcd(objects, deploy, ctrl, ds, agent, args):
    name = "ha-etcd.yaml"
    cargs = arg_list(ctrl)
    check(deploy["spec"]["replicas"] == 3, f"{name}: 3 controller replicas")
    check("--state-store=etcd" in cargs and any(a.startswith("--etcd-endpoints=https://") for a in cargs)
          and "--advertise-url=http://$(POD_IP):7400" in cargs,
          f"{name}: etcd state store, endpoints and an advertise URL from the pod IP")
    tls_dir = "/var/run/secrets/shardcast/etcd-tls"
    check(f"--etcd-ca-file={tls_dir}/ca.crt" in cargs and f"--etcd-cert-file={tls_dir}/tls.crt" in cargs and
          f"--etcd-key-file={tls_dir}/tls.key" in cargs, f"{name}: etcd TLS files from the mounted Secret")
    vols = {v["name"]: v for v in deploy["spec"]["template"]["spec"]["volumes"]}
    cmounts = {m["name"]: m for m in ctrl.get("volumeMounts", [])}
    check(vols.get("etcd-tls", {}).get("secret", {}).get("secretName") == "etcd-client-tls" and
          vols["etcd-tls"]["secret"].get("defaultMode") == 0o440 and
          cmounts.get("etcd-tls", {}).get("mountPath") == tls_dir and cmounts["etcd-tls"].get("readOnly") is True,
          f"{name}: the etcd client TLS Secret is mounted read-only")
    check(not any(a.startswith("--data-dir") for a in cargs), f"{name}: no journal --data-dir")
    check(not ct.find(objects, "PersistentVolumeClaim"), f"{name}: no PVC")
    check(deploy["spec"]["strategy"]["type"] == "RollingUpdate", f"{name}: rolling update")
    cred_secrets = [s for s in ct.find(objects, "Secret") if "-cred-" in s["metadata"]["name"]]
    check(len(cred_secrets) == 2, f"{name}: one Secret per origin credential")
    mounts = [m["mountPath"] for m in agent["volumeMounts"]]
    check("/var/run/secrets/shardcast/prod-s3" in mounts and
          "/var/run/secrets/shardcast/azure.models" in mounts,
          f"{name}: credentials mounted under SHARDCAST_CREDENTIALS_DIR/<name>")
    check("--region=us-east-1" in args, f"{name}: --region override")


def expect_existing_secrets(objects, deploy, ctrl, ds, agent, args):
    name = "existing-secrets.yaml"
    check(not ct.find(objects, "Secret"), f"{name}: the chart creates no Secret")
    vols = {v["name"]: v for v in ds["spec"]["template"]["spec"]["volumes"]}
    check(vols["api-token"]["secret"]["secretName"] == "shardcast-api" and
          vols["api-token"]["secret"]["items"][0]["key"] == "token" and
          vols["cluster-token"]["secret"]["secretName"] == "shardcast-peers",
          f"{name}: tokens come from the named Secrets and keys")
    check(vols["cred-1"]["secret"]["secretName"] == "shardcast-gcs", f"{name}: credential Secret by name")


def expect_hostnetwork_gpu(objects, deploy, ctrl, ds, agent, args):
    name = "hostnetwork-gpu.yaml"
    spec = ds["spec"]["template"]["spec"]
    check(spec.get("hostNetwork") is True and spec.get("dnsPolicy") == "ClusterFirstWithHostNet",
          f"{name}: hostNetwork with ClusterFirstWithHostNet")
    check(spec.get("nodeSelector") == {"nvidia.com/gpu.present": "true"}, f"{name}: GPU nodeSelector")
    check(len(spec.get("tolerations", [])) == 2 and "affinity" in spec, f"{name}: tolerations and affinity")
    check("--listen=0.0.0.0:17401" in args, f"{name}: agent port")
    check(ct.container(ds, "metrics-proxy") is not None, f"{name}: metrics proxy sidecar")
    sm = ct.find(objects, "ServiceMonitor")
    check(len(sm) == 2 and all(m["metadata"]["labels"].get("release") == "prometheus" for m in sm),
          f"{name}: ServiceMonitors for the agents and the controller, with the Prometheus selector label")
    ctl_labels = deploy["spec"]["selector"]["matchLabels"]
    ctl_svc = [v for v in ct.find(objects, "Service") if v["spec"]["selector"] == ctl_labels]
    ctl_sm = [m for m in sm if m["spec"]["selector"]["matchLabels"] == ctl_labels]
    check(len(ctl_sm) == 1 and len(ctl_svc) == 1 and
          ctl_labels.items() <= ctl_svc[0]["metadata"]["labels"].items() and
          ctl_sm[0]["spec"]["endpoints"][0].get("port") == ctl_svc[0]["spec"]["ports"][0]["name"] and
          ctl_sm[0]["spec"]["endpoints"][0]["path"] == "/metrics",
          f"{name}: the controller's ServiceMonitor scrapes /metrics on its API port")
    conf = ct.find(objects, "ConfigMap")[0]["data"]["nginx.conf"]
    check("location = /metrics" in conf and "unix:/run/shardcast/agent.sock:/metrics" in conf and
          "return 404" in conf, f"{name}: the proxy forwards only /metrics to the socket")


def expect_disk_budget(objects, deploy, ctrl, ds, agent, args):
    name = "disk-budget.yaml"
    check("--disk-budget=80%" in args and "--data-dir=/mnt/nvme0/shardcast" in args,
          f"{name}: --disk-budget and a custom --data-dir")
    vols = {v["name"]: v for v in ds["spec"]["template"]["spec"]["volumes"]}
    check(vols["data"]["hostPath"]["path"] == "/mnt/nvme0/shardcast" and
          vols["socket"]["hostPath"]["path"] == "/run/shardcast-prod", f"{name}: hostPaths follow the values")
    check("--local-socket=/run/shardcast-prod/agent.sock" in args, f"{name}: socket path")
    check(not ct.find(objects, "PersistentVolumeClaim"), f"{name}: existingClaim: no PVC made")
    claim = [v for v in deploy["spec"]["template"]["spec"]["volumes"] if v["name"] == "data"][0]
    check(claim["persistentVolumeClaim"]["claimName"] == "shardcast-journal", f"{name}: the existing claim")


def expect_ipv6_memory(objects, deploy, ctrl, ds, agent, args):
    name = "ipv6-memory.yaml"
    cargs = arg_list(ctrl)
    check("--state-store=memory" in cargs and "--listen=[::]:7400" in cargs, f"{name}: memory, IPv6 listen")
    check("--advertise-addr=[$(POD_IP)]:7401" in args, f"{name}: bracketed IPv6 peer address")
    check("--kubernetes" not in args and not ct.find(objects, "ClusterRole"), f"{name}: no Kubernetes API use")
    check(not any("token" in a for a in cargs + args), f"{name}: no token flags")
    check(all(o["metadata"]["name"].startswith("sc") for o in objects), f"{name}: fullnameOverride")


EXPECT = {
    None: expect_default,
    "ha-etcd.yaml": expect_ha_etcd,
    "existing-secrets.yaml": expect_existing_secrets,
    "hostnetwork-gpu.yaml": expect_hostnetwork_gpu,
    "disk-budget.yaml": expect_disk_budget,
    "ipv6-memory.yaml": expect_ipv6_memory,
}


def check_values_file(values_file):
    name = ct.label(values_file)
    p = ct.lint(values_file)
    check(p.returncode == 0, f"{name}: helm lint --strict {p.stdout.strip()[-300:] if p.returncode else ''}")
    try:
        rc, out, objects = ct.render_objects(values_file)
    except RuntimeError as e:
        check(False, str(e))
        return 0
    print(out.rstrip())
    check(rc == 0, f"{name}: every rendered object validates ({len(objects)} objects)")
    deploy, ctrl, ds, agent, args = check_common(name, objects)
    key = None if values_file is None else os.path.basename(values_file)
    if key in EXPECT:
        EXPECT[key](objects, deploy, ctrl, ds, agent, args)
    return len(objects)


def check_broken(values_file):
    name = os.path.basename(values_file)
    with open(values_file) as f:
        expected = [l.split(":", 1)[1].strip() for l in f if l.startswith("# expect-error:")]
    if not check(len(expected) == 1, f"{name}: names its expected error"):
        return
    p = ct.lint(values_file)
    check(p.returncode != 0 and expected[0] in p.stdout + p.stderr,
          f"{name}: helm lint --strict rejects it naming {expected[0]}")
    p = ct.template(values_file)
    msg = p.stderr.strip()
    lines = [l for l in msg.splitlines() if l.strip()]
    check(p.returncode != 0 and expected[0] in msg and len(lines) <= 4,
          f"{name}: helm template rejects it in a few lines naming {expected[0]}: {lines}")


def check_notes():
    """NOTES.txt renders (helm install --dry-run=client needs no cluster)."""
    for values_file in [None, os.path.join(ct.VALUES_DIR, "ipv6-memory.yaml")]:
        args = ["install", ct.RELEASE, ct.CHART, "--namespace", ct.NAMESPACE, "--dry-run=client"]
        if values_file:
            args += ["-f", values_file]
        p = ct.helm(*args)
        notes = p.stdout.split("NOTES:", 1)[-1]
        url = "http://sc-controller.shardcast.svc:7400" if values_file else \
            "http://sc-shardcast-controller.shardcast.svc:7400"
        check(p.returncode == 0 and url in notes and "shardcast deploy" in notes and
              (values_file is None) == ("WARNING" not in notes),
              f"NOTES.txt ({ct.label(values_file)}): controller URL, deploy hint, warnings for open APIs")


def check_kube_version():
    p = ct.template(None, "--kube-version", "1.24.0")
    check(p.returncode != 0 and "kubeVersion" in p.stderr, "kubeVersion: Kubernetes 1.24 is refused")
    p = ct.template(None, "--kube-version", "1.25.0")
    check(p.returncode == 0, "kubeVersion: Kubernetes 1.25 is accepted")


def check_examples():
    names = sorted(n for n in os.listdir(ct.EXAMPLES_DIR) if n.endswith(".yaml"))
    check(len(names) >= 1, f"examples: {names}")
    for n in names:
        with open(os.path.join(ct.EXAMPLES_DIR, n)) as f:
            rc, out, objects = ct.validate(f.read())
        print(out.rstrip())
        check(rc == 0 and objects, f"examples/{n}: {len(objects)} objects validate")
        for o in objects:
            if o.get("kind") != "Deployment":
                continue
            spec = o["spec"]["template"]["spec"]
            init = [c for c in spec.get("initContainers", []) if "prewarm" in arg_list(c)]
            check(len(init) == 1, f"examples/{n}: a shardcast prewarm initContainer")
            if not init:
                continue
            a = arg_list(init[0])
            mounts = {m["name"]: m for m in init[0]["volumeMounts"]}
            root = [x.split("=", 1)[1] for x in a if x.startswith("--models-root=")]
            models_mount = [m for m in mounts.values() if root and m["mountPath"] == root[0]]
            check("--wait" in a and models_mount and models_mount[0].get("readOnly") is True,
                  f"examples/{n}: --wait, --models-root is the read-only models mount")
            env = {e["name"]: e for e in init[0].get("env", [])}
            check("--lease-id=$(POD_UID)" in a and env.get("POD_UID", {}).get("valueFrom", {})
                  .get("fieldRef", {}).get("fieldPath") == "metadata.uid",
                  f"examples/{n}: lease id is the pod UID from the downward API")
            pre = [c for c in spec["containers"]
                   if "shardcast release" in json.dumps(c.get("lifecycle", {}).get("preStop", {}))]
            check(len(pre) == 1, f"examples/{n}: a preStop runs shardcast release")
            hp = [v for v in spec["volumes"] if "hostPath" in v]
            check(any(v["hostPath"]["path"].endswith("/models") for v in hp),
                  f"examples/{n}: models come from a hostPath")


def check_validator_fails():
    """validate.js must reject a wrong type and an unknown field, naming kind/name and path."""
    rc, _, objects = ct.render_objects(None)
    ds = copy.deepcopy(ct.find(objects, "DaemonSet")[0])
    ds["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "peer"
    rc, out, _ = ct.validate(json.dumps(ds))
    check(rc == 1 and f"DaemonSet/{ds['metadata']['name']}" in out and
          "/spec/template/spec/containers/0/ports/0/containerPort" in out,
          "validate.js rejects a wrong type with kind/name and path")
    ds = copy.deepcopy(ct.find(objects, "DaemonSet")[0])
    ds["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    rc, out, _ = ct.validate(json.dumps(ds))
    check(rc == 1 and "/spec/template/spec/containers/0/readinesProbe" in out,
          "validate.js rejects an unknown field with its path")


def main():
    test_args()
    ct.require_tools()
    p = ct.helm("version", "--short")
    print(f"helm {p.stdout.strip()}", flush=True)
    counts = {}
    for values_file in [None] + ct.good_value_files():
        counts[ct.label(values_file)] = check_values_file(values_file)
    check(len(counts) >= 5, f"default values and at least 4 value files ({len(counts)})")
    for values_file in ct.broken_value_files():
        check_broken(values_file)
    check(len(ct.broken_value_files()) >= 1, "at least one broken value file")
    check_kube_version()
    check_notes()
    check_examples()
    check_validator_fails()
    print("objects validated per values file: " + json.dumps(counts))
    return finish()


if __name__ == "__main__":
    sys.exit(main())

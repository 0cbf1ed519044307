#!/usr/bin/env python3
"""The chart cannot drift from the binaries (issue 8).

For the default values and every tests/helm/values/*.yaml that renders, the controller's
and the agent's command line and environment are taken from the manifests `helm
template` renders and run against the built binaries with --check-config:

- $(VAR) is expanded as the kubelet does, with made-up downward-API values (node name,
  pod IP, pod UID) and the KUBERNETES_SERVICE_* variables every pod gets;
- every volume mount becomes a directory under a temp root (Secrets become their files:
  token files, origin credential files; the service-account token and CA appear where
  Kubernetes mounts them), and every path flag (--*-file, --*-dir, --*-socket,
  --*-bundle) is rewritten to that root. A path flag outside every mount fails the test;
- each binary must exit 0 (the agent prints "config ok").

A bad flag value and a missing token file must each exit non-zero with one line that
names the flag. The example's `shardcast prewarm` initContainer and preStop release run
against the real CLI (they must get past flag parsing to "cannot reach the agent"), and
the chart's metrics-proxy nginx configuration, run by the real nginx, serves the real
agent's GET /metrics from its unix socket and nothing else.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
sys.path.insert(0, os.path.dirname(__file__))
from checks import check, finish, test_args  # noqa: E402
import chart_tools as ct  # noqa: E402

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
FAKE_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
FAKE_CRED_KEYS = ("access_key_id", "secret_access_key")
PATH_FLAG_SUFFIXES = ("-file", "-dir", "-socket", "-bundle")
KUBERNETES_ENV = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def field_values(ipv6):
    return {"spec.nodeName": "gpu-node-1", "status.podIP": "fd00::17" if ipv6 else "10.244.1.17",
            "metadata.uid": "6f1c9a52-3b1e-4c55-9a43-0c1d5e0b7a10", "metadata.name": "pod-0",
            "metadata.namespace": ct.NAMESPACE, "status.hostIP": "10.0.0.5"}


def expand(text, env):
    """Kubernetes $(VAR) expansion: defined variables are replaced, $$ becomes $."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", sub, text)


class Sandbox:
    """One container of a rendered pod, laid out under a temp root."""

    def __init__(self, root, pod_spec, container, objects, ipv6=False):
        self.root = root
        self.problems = []
        volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
        self.mounts = {}
        for m in container.get("volumeMounts", []):
            self.mounts[m["mountPath"]] = volumes.get(m["name"], {})
        if pod_spec.get("automountServiceAccountToken", True) and SA_DIR not in self.mounts:
            self.mounts[SA_DIR] = {"serviceAccountToken": True}
        for path, vol in self.mounts.items():
            self._materialize(path, vol, objects)
        self.env = dict(KUBERNETES_ENV)
        fields = field_values(ipv6)
        for e in container.get("env", []):
            if "value" in e:
                self.env[e["name"]] = self.map_value(expand(e["value"], self.env))
            elif "fieldRef" in e.get("valueFrom", {}):
                self.env[e["name"]] = fields[e["valueFrom"]["fieldRef"]["fieldPath"]]
            else:
                self.env[e["name"]] = "from-a-secret-or-configmap"

    def host(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def _materialize(self, path, vol, objects):
        d = self.host(path)
        os.makedirs(d, exist_ok=True)
        files = {}
        if vol.get("serviceAccountToken"):
            files = {"token": "eyJhbGciOiJSUzI1NiJ9.fake.token", "ca.crt": FAKE_PEM,
                     "namespace": ct.NAMESPACE}
        elif "secret" in vol:
            s = vol["secret"]
            if s.get("items"):
                files = {i["path"]: f"fake-{i['key']}-0123456789abcdef" for i in s["items"]}
            else:
                made = [o for o in objects if o["kind"] == "Secret" and
                        o["metadata"]["name"] == s["secretName"]]
                keys = made[0].get("data", {}).keys() if made else FAKE_CRED_KEYS
                files = {k: f"fake-{k}" for k in keys}
        elif "configMap" in vol:
            made = [o for o in objects if o["kind"] == "ConfigMap" and
                    o["metadata"]["name"] == vol["configMap"]["name"]]
            files = made[0].get("data", {}) if made else {}
        for name, content in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            with open(os.path.join(d, name), "w") as f:
                f.write(content)

    def map_path(self, path):
        """The host path of an in-container absolute path, or None if no mount holds it."""
        best = None
        for m in self.mounts:
            if path == m or path.startswith(m.rstrip("/") + "/"):
                if best is None or len(m) > len(best):
                    best = m
        return None if best is None else self.host(path)

    def map_value(self, value):
        if value.startswith("/"):
            mapped = self.map_path(value)
            return mapped if mapped else value
        return value

    def argv(self, container, bin_dir):
        raw = [expand(a, self.env) for a in container.get("command", []) + container.get("args", [])]
        out = [os.path.join(bin_dir, "bin", os.path.basename(raw[0]))]
        for a in raw[1:]:
            if re.search(r"\$\([A-Za-z_]", a):
                self.problems.append(f"{a} names a variable the container does not define")
            if a.startswith("--") and "=" in a:
                flag, value = a.split("=", 1)
                if flag.endswith(PATH_FLAG_SUFFIXES):
                    mapped = self.map_path(value)
                    if mapped is None:
                        self.problems.append(f"{flag}={value} is outside every volume mount")
                    else:
                        a = f"{flag}={mapped}"
            out.append(a)
        return out

    def process_env(self):
        env = dict(self.env)
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        env["HOSTNAME"] = "pod-0"
        return env


def run(argv, env, timeout=30):
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def one_line(p):
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    return len(lines) == 1, lines


def check_workload(name, objects, kind, cname, bin_dir, ipv6):
    """Runs one rendered container with --check-config; returns (sandbox, argv, env)."""
    workload = ct.find(objects, kind)[0]
    pod = workload["spec"]["template"]["spec"]
    c = ct.container(workload, cname)
    root = tempfile.mkdtemp(prefix=f"drift-{cname}-")
    box = Sandbox(root, pod, c, objects, ipv6)
    argv = box.argv(c, bin_dir)
    check(not box.problems, f"{name}: {cname} path flags are inside its mounts {box.problems}")
    if not check(os.access(argv[0], os.X_OK), f"{name}: {argv[0]} is built"):
        return box, argv, box.process_env()
    p = run(argv + ["--check-config"], box.process_env())
    ok = p.returncode == 0 and (cname != "agent" or "config ok" in p.stdout)
    check(ok, f"{name}: {cname} --check-config accepts the chart's flags "
              f"(exit {p.returncode}) {p.stderr.strip()[:400]}")
    if not ok:
        print("   argv: " + " ".join(argv[1:]))
    return box, argv, box.process_env()


def check_bad_values(box, argv, env, cname):
    def replaced(flag, value):
        out = [a for a in argv if not a.startswith(flag + "=")]
        return out + [f"{flag}={value}"]
    if cname == "agent":
        cases = [("--disk-budget", "80 percent"), ("--pod-sweep-interval", "soon"),
                 ("--socket-mode", "rw")]
    else:
        cases = [("--state-store", "postgres"), ("--max-seeders", "0"), ("--listen", "nowhere")]
    for flag, value in cases:
        p = run(replaced(flag, value) + ["--check-config"], env)
        single, lines = one_line(p)
        check(p.returncode != 0 and single and flag in lines[0],
              f"{cname}: {flag}={value!r} exits {p.returncode} with one line naming the flag {lines}")
    token_flag = "--controller-token-file" if cname == "agent" else "--token-file"
    token = [a.split("=", 1)[1] for a in argv if a.startswith(token_flag + "=")]
    if token:
        os.rename(token[0], token[0] + ".moved")
        p = run(argv + ["--check-config"], env)
        os.rename(token[0] + ".moved", token[0])
        single, lines = one_line(p)
        check(p.returncode != 0 and single and (token_flag in lines[0] or token[0] in lines[0]),
              f"{cname}: a missing token file exits {p.returncode} with one line naming it {lines}")


def check_example(bin_dir):
    path = os.path.join(ct.EXAMPLES_DIR, "vllm-prewarm.yaml")
    with open(path) as f:
        rc, _, objects = ct.validate(f.read())
    deploy = ct.find(objects, "Deployment")[0]
    pod = deploy["spec"]["template"]["spec"]
    init = [c for c in pod.get("initContainers", []) if c.get("command", [""])[0] == "shardcast"][0]
    root = tempfile.mkdtemp(prefix="drift-example-")
    try:
        box = Sandbox(root, pod, init, objects)
        argv = box.argv(init, bin_dir)
        check(not box.problems, f"example: prewarm path flags inside its mounts {box.problems}")
        env = box.process_env()
        p = run(argv, env)
        check(p.returncode == 1 and "cannot reach the shardcast agent" in p.stderr and
              box.host("/run/shardcast/agent.sock") in p.stderr,
              f"example: the CLI accepts the prewarm initContainer's flags and dials the "
              f"mounted socket (exit {p.returncode}) {p.stderr.strip()[-200:]}")
        p = run(argv + ["--no-such-flag"], env)
        check(p.returncode == 64, f"example: an unknown prewarm flag is a usage error ({p.returncode})")
        holder = [c for c in pod["containers"] if c.get("lifecycle", {}).get("preStop")][0]
        box2 = Sandbox(tempfile.mkdtemp(dir=root), pod, holder, objects)
        script = holder["lifecycle"]["preStop"]["exec"]["command"][-1]
        for m in sorted(box2.mounts, key=len, reverse=True):
            script = script.replace(m + "/", box2.host(m) + "/")
        env = box2.process_env()
        env["PATH"] = os.path.join(bin_dir, "bin") + ":" + env["PATH"]
        p = run(["/bin/sh", "-c", script], env)
        check(p.returncode == 1 and "release 6f1c9a52-3b1e-4c55-9a43-0c1d5e0b7a10" in p.stderr and
              "cannot reach the shardcast agent" in p.stderr,
              f"example: the preStop releases the pod UID's lease (exit {p.returncode}) "
              f"{p.stderr.strip()[-200:]}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url):
    req = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return 0, str(e)


def wait_until(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def check_metrics_proxy(bin_dir):
    """The chart's nginx sidecar config, run by the real nginx, in front of a real agent."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not check(os.access(nginx, os.X_OK), "metrics proxy: nginx is installed"):
        return
    values = os.path.join(ct.VALUES_DIR, "hostnetwork-gpu.yaml")
    _, _, objects = ct.render_objects(values)
    ds = ct.find(objects, "DaemonSet")[0]
    pod = ds["spec"]["template"]["spec"]
    proxy = ct.container(ds, "metrics-proxy")
    root = tempfile.mkdtemp(prefix="drift-proxy-")
    os.chmod(root, 0o755)  # nginx workers run as nobody, like the sidecar's uid 101
    agent = ngx = None
    try:
        box = Sandbox(root, pod, proxy, objects)
        conf_path = box.host("/etc/nginx/nginx.conf") + "/nginx.conf"
        with open(conf_path) as f:
            template = f.read()
        socket_dir = [m for m in box.mounts if "socket" in str(box.mounts[m])][0]
        # One pass, so a rewritten path (under the temp root) is not rewritten again.
        template = re.sub("(" + re.escape(socket_dir) + "|/tmp)/",
                          lambda m: box.host(m.group(1)) + "/", template)
        # The sidecar runs as a non-root uid in group 0, the socket's group.
        template = "user nobody root;\n" + template
        sock = box.host(socket_dir) + "/agent.sock"
        os.makedirs(os.path.join(root, "agent-data"))
        log = open(os.path.join(root, "agent.log"), "wb")
        agent = subprocess.Popen([os.path.join(bin_dir, "bin", "shardcast-agent"), "--name", "n1",
                                  "--data-dir", os.path.join(root, "agent-data"),
                                  "--local-socket", sock, "--listen", "127.0.0.1:0",
                                  "--controller", "http://127.0.0.1:9"],
                                 stdout=log, stderr=subprocess.STDOUT)
        check(wait_until(lambda: os.path.exists(sock), 15), "metrics proxy: the agent serves its socket")
        ngx_log = os.path.join(root, "nginx.log")
        # A port free a moment ago may be taken by a parallel test before nginx
        # binds it: a start that exits is retried on a new port.
        for _ in range(5):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            with open(conf_path, "w") as f:
                f.write(re.sub(r"listen \d+;", f"listen 127.0.0.1:{port};", template))
            with open(ngx_log, "wb") as nl:
                ngx = subprocess.Popen([nginx, "-p", root, "-c", conf_path, "-g", "daemon off;"],
                                       stdout=subprocess.DEVNULL, stderr=nl)
            if wait_until(lambda: ngx.poll() is not None or http("GET", url + "/")[0] == 404, 15) \
                    and ngx.poll() is None:
                break
        check(ngx.poll() is None and http("GET", url + "/")[0] == 404, "metrics proxy: nginx starts")
        status, body = http("GET", url + "/metrics")
        if not check(status == 200 and "shardcast_agent_disk_budget_bytes" in body,
                     f"metrics proxy: GET /metrics is the agent's Prometheus text ({status})"):
            with open(ngx_log, errors="replace") as f:
                print("   nginx: " + f.read()[-600:])
        for method, path in (("GET", "/v1/models"), ("POST", "/v1/prewarm"), ("POST", "/metrics")):
            status, _ = http(method, url + path)
            check(status in (403, 404, 405), f"metrics proxy: {method} {path} is refused ({status})")
    finally:
        for p in (ngx, agent):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(timeout=15)
        shutil.rmtree(root, ignore_errors=True)


def main():
    args = test_args()
    ct.require_tools()
    bin_dir = os.path.abspath(args.bin_dir)
    roots = []
    try:
        for values_file in [None] + ct.good_value_files():
            name = ct.label(values_file)
            try:
                _, _, objects = ct.render_objects(values_file)
            except RuntimeError as e:
                check(False, str(e))
                continue
            ipv6 = "[$(POD_IP)]" in str(objects)
            for kind, cname in (("Deployment", "controller"), ("DaemonSet", "agent")):
                box, argv, env = check_workload(name, objects, kind, cname, bin_dir, ipv6)
                roots.append(box.root)
                if values_file is None and os.access(argv[0], os.X_OK):
                    check_bad_values(box, argv, env, cname)
        check_example(bin_dir)
        check_metrics_proxy(bin_dir)
    finally:
        for r in roots:
            shutil.rmtree(r, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())

"""Real-process test harness for shardcast: an nginx origin, a controller and
agents on loopback, each a real process started from the build's bin/ folder.

Used by the integration tests and by scripts/demo, so both exercise exactly the
same path. Every process is stopped and every temp dir removed by Cluster.close()
(also on failure: use `with Cluster(...) as c:`).
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class HarnessError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.05):
    """Polls predicate() until it returns a truthy value; raises after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise HarnessError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def http_json(method, url, body=None, timeout=30):
    """Returns (status, parsed JSON or raw text)."""
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        status = e.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def make_model(root, files, seed=1):
    """Writes a model: files maps relative path -> size in bytes (or bytes content).
    Returns {path: sha256}. Large files get random bytes."""
    digests = {}
    for rel, spec in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        h = hashlib.sha256()
        with open(path, "wb") as f:
            if isinstance(spec, (bytes, bytearray)):
                f.write(spec)
                h.update(spec)
            else:
                left = spec
                while left > 0:
                    chunk = os.urandom(min(left, 8 << 20))
                    f.write(chunk)
                    h.update(chunk)
                    left -= len(chunk)
        digests[rel] = h.hexdigest()
    return digests


class Process:
    """A child process with its stderr in a log file."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


class Nginx:
    """nginx serving `root` on loopback; its access log counts origin bytes per
    region from the agents' User-Agent (DESIGN §5, §9).

    Reverse-proxy mode (`upstream="127.0.0.1:PORT"`, root unused): nginx forwards
    every request to that server (s3rver, Azurite) unchanged (Host, signature
    headers, Range) and its log counts the bytes it sent back, so origin bytes are
    counted the same way for every origin. `limit_rate` ("2m") slows each
    response (a slow origin, for tests that act mid-rollout)."""

    LOG_FORMAT = "$http_user_agent\\t$request_method\\t$status\\t$body_bytes_sent\\t$uri"

    def __init__(self, root, workdir, autoindex=True, limit_rate=None, upstream=None, name="nginx"):
        self.root = root
        self.limit_rate = limit_rate
        # With limit_rate, a small socket send buffer keeps loopback from taking a
        # whole response into kernel buffers at once, so the pacing is real.
        self.sndbuf = "sndbuf=65536" if limit_rate else ""
        self.upstream = upstream
        self.dir = os.path.join(workdir, name)
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        self.access_log = os.path.join(self.dir, "logs", "access.log")
        self.port = None
        self.proc = None
        for _ in range(5):
            self.port = free_port()
            conf = os.path.join(self.dir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(self._config(autoindex))
            self.proc = Process("nginx", [NGINX, "-p", self.dir, "-c", conf],
                                os.path.join(self.dir, "logs", "stderr.log"))
            try:
                wait_for(lambda: self._listening() or not self.proc.alive(), 10, "nginx")
            except HarnessError:
                pass
            if self.proc.alive():
                return
        raise HarnessError("nginx did not start: " + self.proc.log_text())

    def _config(self, autoindex):
        d = self.dir
        # Subclasses (bench/rig_lib's NsNginx) may skip __init__: default the options.
        sndbuf = getattr(self, "sndbuf", "")
        listen = f"127.0.0.1:{self.port}" + (f" {sndbuf}" if sndbuf else "")
        return f"""
daemon off;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  log_format counted "{self.LOG_FORMAT}";
  client_body_temp_path {d}/tmp_body;
  proxy_temp_path {d}/tmp_proxy;
  fastcgi_temp_path {d}/tmp_fastcgi;
  uwsgi_temp_path {d}/tmp_uwsgi;
  scgi_temp_path {d}/tmp_scgi;
  sendfile on;
  server {{
    listen {listen};
    {f"root {self.root};" if self.root else ""}
    access_log {self.access_log} counted;
    location / {{
{self._location(autoindex)}
    }}
  }}
}}
"""

    def _location(self, autoindex):
        lines = []
        limit_rate = getattr(self, "limit_rate", None)
        upstream = getattr(self, "upstream", None)
        if limit_rate:
            lines.append(f"limit_rate {limit_rate};")
        if upstream:
            # The client's request goes upstream as it is: the Host it signed, its
            # Range, and no buffering so the log counts what really went out.
            lines += [f"proxy_pass http://{upstream};",
                      "proxy_set_header Host $http_host;",
                      "proxy_http_version 1.1;",
                      "proxy_set_header Connection \"\";",
                      "proxy_buffering off;",
                      "proxy_request_buffering off;",
                      "proxy_read_timeout 300s;",
                      "client_max_body_size 0;"]
        else:
            lines += [f"autoindex {'on' if autoindex else 'off'};", "autoindex_format json;"]
        return "\n".join("      " + line for line in lines)

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}/{path}"

    def stop(self):
        """Graceful stop: nginx finishes requests and writes every log line first."""
        if self.proc:
            self.proc.stop(signal.SIGQUIT)

    def origin_bytes_by_region(self, uri_prefix):
        """Bytes of model objects under uri_prefix sent by GET 200/206 to agents,
        summed per region named in the agent's User-Agent."""
        totals = {}
        if not os.path.exists(self.access_log):
            return totals
        with open(self.access_log) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 5:
                    continue
                ua, method, status, sent, uri = parts
                if method != "GET" or status not in ("200", "206"):
                    continue
                if not uri.startswith(uri_prefix) or uri.endswith("/shardcast-index.json") \
                        or uri.endswith("/"):
                    continue
                if not ua.startswith("shardcast-agent/"):
                    continue
                region = "?"
                for field in ua[ua.find("(") + 1:ua.rfind(")")].split(";"):
                    k, _, v = field.strip().partition("=")
                    if k == "region":
                        region = v
                totals[region] = totals.get(region, 0) + int(sent)
        return totals


class Cluster:
    """A controller and agents from a build's bin/ folder, in one temp dir."""

    def __init__(self, bin_dir, keep=False, workdir=None):
        self.bin = os.path.join(bin_dir, "bin")
        for b in ("shardcast-controller", "shardcast-agent", "shardcast"):
            if not os.access(os.path.join(self.bin, b), os.X_OK):
                raise HarnessError(f"{b} not found in {self.bin}: build first (scripts/test)")
        self.dir = workdir or tempfile.mkdtemp(prefix="shardcast-")
        os.makedirs(self.dir, exist_ok=True)
        # nginx workers drop root privileges; they must be able to read the origin.
        os.chmod(self.dir, 0o755)
        self.keep = keep
        self.procs = []
        self.extras = []  # other servers with a stop() (proxies, s3rver), stopped last
        self.agents = {}
        self.nginx = None
        self.controller = None
        self.controller_url = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for p in reversed(self.procs):
            p.stop(signal.SIGKILL) if p.alive() else p.stop()
        if self.nginx:
            self.nginx.stop()
        for e in reversed(self.extras):
            e.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def start_origin(self, root, autoindex=True, limit_rate=None, upstream=None):
        """The counting nginx: serving `root`, or in front of `upstream` (HOST:PORT)."""
        self.nginx = Nginx(root, self.dir, autoindex, limit_rate=limit_rate, upstream=upstream)
        return self.nginx

    def add_extra(self, server):
        """Stops `server` (anything with stop()) when the cluster closes."""
        self.extras.append(server)
        return server

    def _start(self, name, argv, ready_file, env=None):
        log = os.path.join(self.dir, name + ".log")
        p = Process(name, argv, log, env=None if env is None else dict(os.environ, **env))
        self.procs.append(p)

        def ready():
            if not p.alive():
                raise HarnessError(f"{name} exited with {p.proc.returncode}:\n{p.log_text()[-3000:]}")
            if os.path.exists(ready_file):
                with open(ready_file) as f:
                    return f.read().strip()
            return None
        addr = wait_for(ready, 30, f"{name} to write its ready file")
        return p, addr

    def start_controller(self, *extra, env=None):
        """env: extra environment variables (e.g. origin credentials)."""
        ready = os.path.join(self.dir, "controller.ready")
        argv = [os.path.join(self.bin, "shardcast-controller"), "--listen", "127.0.0.1:0",
                "--ready-file", ready, "--data-dir", os.path.join(self.dir, "controller"),
                *extra]
        self.controller, addr = self._start("controller", argv, ready, env=env)
        self.controller_url = "http://" + addr
        self.controller_argv, self.controller_env = argv, env
        return self.controller_url

    def restart_controller(self, timeout=30):
        """Starts the controller again with the same flags, on the port it had
        (agents keep their --controller URL) and the same --data-dir, e.g. after
        SIGKILL. Retries while the port is still held by the dead process."""
        port = self.controller_url.rsplit(":", 1)[1]
        argv = list(self.controller_argv)
        argv[argv.index("--listen") + 1] = "127.0.0.1:" + port
        ready = argv[argv.index("--ready-file") + 1]
        deadline = time.monotonic() + timeout
        while True:
            if os.path.exists(ready):
                os.unlink(ready)
            try:
                self.controller, addr = self._start("controller", argv, ready, env=self.controller_env)
                break
            except HarnessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # the port is not free yet: try again
        self.controller_url = "http://" + addr
        return self.controller_url

    def start_agent(self, name, region, zone="", *extra, env=None):
        data = os.path.join(self.dir, "agents", name)
        os.makedirs(data, exist_ok=True)
        ready = os.path.join(self.dir, name + ".ready")
        if os.path.exists(ready):
            os.unlink(ready)
        sock = os.path.join(self.dir, name + ".sock")  # the local API (prewarm)
        argv = [os.path.join(self.bin, "shardcast-agent"), "--name", name, "--region", region,
                "--zone", zone, "--controller", self.controller_url, "--data-dir", data,
                "--listen", "127.0.0.1:0", "--ready-file", ready, "--local-socket", sock, *extra]
        p, addr = self._start("agent-" + name, argv, ready, env=env)
        self.agents[name] = {"proc": p, "data": data, "region": region, "addr": addr,
                             "socket": sock, "argv": argv, "ready": ready, "env": env}
        return p

    def restart_agent(self, name):
        """Starts an agent again with the same flags (e.g. after SIGKILL)."""
        a = self.agents[name]
        if os.path.exists(a["ready"]):
            os.unlink(a["ready"])
        a["proc"], a["addr"] = self._start("agent-" + name, a["argv"], a["ready"], env=a["env"])
        return a["proc"]

    def prewarm(self, agent, *args, timeout=600):
        """Runs `shardcast prewarm` against the agent's socket; returns the
        CompletedProcess (stdout and stderr captured as text)."""
        argv = [os.path.join(self.bin, "shardcast"), "prewarm", *args,
                "--socket", self.agents[agent]["socket"]]
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, text=True)

    def local_api(self, agent, method, path, body=None):
        """(status, JSON or text) from the agent's local API over its unix socket."""
        import http.client

        class UnixConn(http.client.HTTPConnection):
            def __init__(self, sock_path):
                super().__init__("localhost", timeout=30)
                self.sock_path = sock_path

            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(self.sock_path)

        conn = UnixConn(self.agents[agent]["socket"])
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data,
                     headers={"Content-Type": "application/json"} if data else {})
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        try:
            return r.status, json.loads(raw)
        except ValueError:
            return r.status, raw.decode(errors="replace")

    def cli(self, *args, check=True, timeout=600, stderr=None):
        argv = [os.path.join(self.bin, "shardcast"), *args]
        env = dict(os.environ, SHARDCAST_CONTROLLER=self.controller_url)
        r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=stderr,
                           timeout=timeout, text=True)
        if check and r.returncode != 0:
            raise HarnessError(f"shardcast {' '.join(args)} exited {r.returncode}: {r.stdout}")
        return r

    def rollout(self, rollout_id):
        status, body = http_json("GET", f"{self.controller_url}/v1/rollouts/{rollout_id}")
        if status != 200:
            raise HarnessError(f"GET rollout {rollout_id}: {status} {body}")
        return body

    def wait_node_state(self, rollout_id, node, states, timeout=300):
        def check():
            for n in self.rollout(rollout_id)["nodes"]:
                if n["node"] == node and n["state"] in states:
                    return n
            return None
        return wait_for(check, timeout, f"{node} to reach {states}", interval=0.2)

    def model_dir(self, agent, model, version):
        return os.path.join(self.agents[agent]["data"], "models", model, version)


def compare_model(model_dir, source_digests):
    """Returns a list of problems (empty when the published model equals the source)."""
    problems = []
    if not os.path.isdir(model_dir):
        return [f"{model_dir} does not exist"]
    found = set()
    for root, _, names in os.walk(model_dir):
        for n in names:
            found.add(os.path.relpath(os.path.join(root, n), model_dir))
    for rel, digest in source_digests.items():
        path = os.path.join(model_dir, rel)
        if rel not in found:
            problems.append(f"missing {rel}")
        elif sha256_file(path) != digest:
            problems.append(f"{rel} differs from the source")
    for extra in sorted(found - set(source_digests)):
        problems.append(f"unexpected file {extra}")
    return problems


class AnnouncedServer:
    """A server started with port 0 that announces its port in its log (the npm test
    servers s3rver and Azurite). Subclasses pass the argv and the announcement's
    regex, whose first group is the port."""

    def __init__(self, name, argv, workdir, port_regex, timeout=60):
        self.dir = os.path.join(workdir, name)
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        self.proc = Process(name, argv, os.path.join(self.dir, name + ".log"))
        self.port = None

        def announced():
            m = re.search(port_regex, self.proc.log_text())
            if m:
                return int(m.group(1))
            if not self.proc.alive():
                raise HarnessError(f"{name} exited: {self.proc.log_text()[-2000:]}")
            return None
        try:
            self.port = wait_for(announced, timeout, f"{name} to announce its port")
        except HarnessError:
            self.stop()
            raise

    def stop(self):
        self.proc.stop()

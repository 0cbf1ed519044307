"""Servers the rig runs inside its namespaces: nginx (the HTTP origin, and the
per-agent servers of the ceiling run) and opentracker (the BitTorrent tracker).

NsNginx reuses the harness's nginx configuration, counting log_format and its
per-region origin-byte counter (tests/harness/cluster.py Nginx), but listens on a
namespace address and is started with `ip netns exec`. Readiness is checked with
`ss` run inside the server's own namespace: the driver never connects to the rig.

Each server object owns its process; stop() is idempotent.
"""
import os
import signal

from .util import RigError, harness, ns_argv, run, wait_until


def listening(ns, port):
    """True when something listens on TCP port inside namespace ns."""
    r = run(ns_argv(ns, ["ss", "-Hltn", f"sport = :{port}"]), check=False, timeout=10)
    return r.returncode == 0 and bool(r.stdout.strip())


def wait_listening(ns, port, proc, what, timeout=20):
    def ready():
        if not proc.alive():
            raise RigError(f"{what} exited with {proc.exit_code}:\n{proc.log_tail()}")
        return listening(ns, port)
    wait_until(ready, timeout, f"{what} to listen on port {port}", interval=0.05)


class NsNginx(harness.Nginx):
    """nginx serving `root` at http://ip:port/ inside namespace ns; access log in the
    harness's counted format (user agent, method, status, body bytes, uri)."""

    def __init__(self, group, ns, ip, port, root, workdir, name="nginx", workers=2):
        # Deliberately not calling harness.Nginx.__init__: it binds loopback ports in
        # the root namespace and connects to them, which the rig must not do.
        self.root = root
        self.ip = ip
        self.ns = ns
        self.dir = os.path.join(workdir, name)
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        self.access_log = os.path.join(self.dir, "logs", "access.log")
        self.port = port
        conf = os.path.join(self.dir, "nginx.conf")
        text = self._config(autoindex=True)  # as the harness's origin: JSON listings on
        text = text.replace(f"listen 127.0.0.1:{port};", f"listen {ip}:{port} backlog=4096;")
        text = text.replace("worker_processes 2;", f"worker_processes {workers};")
        if f"listen {ip}:{port}" not in text:
            raise RigError("the harness's nginx config changed shape; update bench/rig_lib/servers.py")
        with open(conf, "w") as f:
            f.write(text)
        self.proc = group.start(name, ns, [harness.NGINX, "-p", self.dir, "-c", conf],
                                os.path.join(self.dir, "logs", "stderr.log"))
        wait_listening(ns, port, self.proc, name)

    def url(self, path=""):
        return f"http://{self.ip}:{self.port}/{path}"

    def stop(self):
        """Graceful (SIGQUIT): nginx finishes its requests and writes every log line."""
        if self.proc:
            self.proc.stop(signal.SIGQUIT, timeout=15)

    def bytes_served(self, uri_prefix):
        """Body bytes of GET 200/206 responses under uri_prefix, any user agent."""
        total = 0
        if not os.path.exists(self.access_log):
            return 0
        with open(self.access_log) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 5:
                    continue
                _, method, status, sent, uri = parts
                if method == "GET" and status in ("200", "206") and uri.startswith(uri_prefix) \
                        and not uri.endswith("/shardcast-index.json"):
                    total += int(sent)
        return total


class OpenTracker:
    """opentracker in namespace ns at http://ip:port/announce. Debian's build is
    whitelist-only, refuses to run as root and reads the whitelist after chroot:
    so tracker.user nobody, tracker.rootdir /, and an absolute, world-readable
    whitelist of hex info hashes."""

    def __init__(self, group, ns, ip, port, workdir, info_hashes):
        self.dir = os.path.join(workdir, "tracker")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        whitelist = os.path.join(self.dir, "whitelist.txt")
        with open(whitelist, "w") as f:
            f.write("".join(h.lower() + "\n" for h in info_hashes))
        os.chmod(whitelist, 0o644)
        conf = os.path.join(self.dir, "opentracker.conf")
        with open(conf, "w") as f:
            f.write(f"listen.tcp {ip}:{port}\n"
                    f"access.whitelist {whitelist}\n"
                    "tracker.rootdir /\n"
                    "tracker.user nobody\n")
        self.announce = f"http://{ip}:{port}/announce"
        self.proc = group.start("opentracker", ns, ["opentracker", "-f", conf],
                                os.path.join(self.dir, "opentracker.log"))
        wait_listening(ns, port, self.proc, "opentracker")

    def stop(self):
        if self.proc:
            self.proc.stop(signal.SIGTERM, timeout=5)

"""A real etcd (Debian etcd-server) on loopback for the HA tests, and a small
reader of its v3 JSON gateway (keys and values base64, int64 fields as strings)
that can read a key as of an older revision: the tests check etcd's own
history of the controller's writes.

Etcd(workdir) picks free ports, keeps its data dir inside workdir and is
stopped by stop() (or Cluster.close() via add_extra).
"""
import base64
import json
import os
import shutil
import urllib.error
import urllib.request

from cluster import HarnessError, Process, free_port, wait_for

ETCD = os.environ.get("SHARDCAST_ETCD") or shutil.which("etcd") or "/usr/bin/etcd"


def etcd_available():
    return os.access(ETCD, os.X_OK)


def _b64(raw):
    return base64.b64encode(raw.encode() if isinstance(raw, str) else raw).decode()


def _unb64(text):
    return base64.b64decode(text).decode(errors="replace")


class Etcd:
    def __init__(self, workdir, name="etcd"):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        for _ in range(5):
            client, peer = free_port(), free_port()
            self.url = f"http://127.0.0.1:{client}"
            peer_url = f"http://127.0.0.1:{peer}"
            argv = [ETCD, "--name", name, "--data-dir", os.path.join(self.dir, "data"),
                    "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                    "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                    "--initial-cluster", f"{name}={peer_url}"]
            self.proc = Process(name, argv, os.path.join(self.dir, "etcd.log"))
            try:
                wait_for(lambda: self._healthy() or not self.proc.alive(), 30, "etcd to serve")
            except HarnessError:
                pass
            if self.proc.alive() and self._healthy():
                return
            self.proc.stop()
            shutil.rmtree(os.path.join(self.dir, "data"), ignore_errors=True)
        raise HarnessError("etcd did not start: " + self.proc.log_text()[-2000:])

    def _healthy(self):
        try:
            self.call("/v3/kv/range", {"key": _b64("/")})
            return True
        except (OSError, HarnessError):
            return False

    def stop(self):
        if self.proc:
            self.proc.stop()

    def call(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise HarnessError(f"etcd {path}: {e.code} {e.read()[:300]!r}")

    def get(self, key, revision=0):
        """The key as of `revision` (0 = now): a dict with key, value (text),
        create_revision, mod_revision, version, lease; None when absent."""
        body = {"key": _b64(key)}
        if revision:
            body["revision"] = str(revision)
        kvs = self.call("/v3/kv/range", body).get("kvs", [])
        return self._kv(kvs[0]) if kvs else None

    def prefix(self, prefix, revision=0):
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        body = {"key": _b64(prefix), "range_end": _b64(end)}
        if revision:
            body["revision"] = str(revision)
        return [self._kv(kv) for kv in self.call("/v3/kv/range", body).get("kvs", [])]

    def history(self, key):
        """Every version of `key` still in etcd's history, oldest first (each
        found by reading the key just before the previous version's revision)."""
        versions = []
        kv = self.get(key)
        while kv is not None:
            versions.append(kv)
            if kv["version"] <= 1:
                break
            kv = self.get(key, kv["mod_revision"] - 1)
        return list(reversed(versions))

    @staticmethod
    def _kv(kv):
        return {"key": _unb64(kv["key"]), "value": _unb64(kv.get("value", "")),
                "create_revision": int(kv.get("create_revision", 0)),
                "mod_revision": int(kv.get("mod_revision", 0)),
                "version": int(kv.get("version", 0)), "lease": int(kv.get("lease", 0))}

"""A stand-in for the Kubernetes API server, for the agent's Node lookup and pod
list (issue 8). There is no API server (and no cluster) on this machine, so this
small HTTPS server answers the two calls the agent makes, shaped like the real
ones (Node, PodList with metadata.continue, Status bodies for errors):

  GET /api/v1/nodes/NAME                                   -> Node (labels) | 404
  GET /api/v1/pods?fieldSelector=spec.nodeName=NAME&limit=N[&continue=T]
                                                           -> PodList, paginated

Every request must carry "Authorization: Bearer <token>" with the current token
(401 otherwise); nodes in `forbidden` answer 403 like RBAC does. TLS uses a
self-signed certificate made with `openssl req` in the work dir, so the agent's
--kube-ca-file path is exercised. Pages hold at most `page_size` pods whatever
the client's limit, to force pagination; `fail_pages_after_first` makes every
page after the first answer 500 (a partial list). Thread-safe; stop() ends it.
"""
import json
import os
import ssl
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_self_signed_cert(workdir, name="kube-api"):
    """(cert_path, key_path) of a fresh self-signed certificate for 127.0.0.1."""
    cert = os.path.join(workdir, name + ".crt")
    key = os.path.join(workdir, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class KubeApiStandIn:
    def __init__(self, workdir, token, page_size=2):
        self.cert, self.key = make_self_signed_cert(workdir)
        self.lock = threading.Lock()
        self.token = token
        self.page_size = page_size
        self.nodes = {}          # name -> labels
        self.pods = []           # {"uid", "node", "phase"}
        self.forbidden = set()   # node names answered with 403
        self.fail_pages_after_first = False
        self.requests = []       # (path, query dict, authorized)
        self.listings_started = 0  # pod-list requests without a continue token
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        return f"https://127.0.0.1:{self.port}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- state the test changes -------------------------------------------------
    def set_token(self, token):
        with self.lock:
            self.token = token

    def add_pod(self, uid, node, phase="Running"):
        with self.lock:
            self.pods.append({"uid": uid, "node": node, "phase": phase})

    def set_phase(self, uid, phase):
        with self.lock:
            for p in self.pods:
                if p["uid"] == uid:
                    p["phase"] = phase

    def remove_pod(self, uid):
        with self.lock:
            self.pods = [p for p in self.pods if p["uid"] != uid]

    def set_fail_pages_after_first(self, on):
        with self.lock:
            self.fail_pages_after_first = on

    def listings(self):
        with self.lock:
            return self.listings_started

    def seen(self):
        with self.lock:
            return list(self.requests)

    # --- the server -------------------------------------------------------------
    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _status(self, code, reason, message):
                self._send(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                  "status": "Failure", "message": message, "reason": reason,
                                  "code": code})

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
                with api.lock:
                    authorized = self.headers.get("Authorization") == f"Bearer {api.token}"
                    api.requests.append((url.path, query, authorized))
                if not authorized:
                    return self._status(401, "Unauthorized", "Unauthorized")
                if url.path.startswith("/api/v1/nodes/"):
                    return self._node(urllib.parse.unquote(url.path[len("/api/v1/nodes/"):]))
                if url.path == "/api/v1/pods":
                    return self._pods(query)
                return self._status(404, "NotFound", "the server could not find the requested resource")

            def _node(self, name):
                with api.lock:
                    forbidden = name in api.forbidden
                    labels = api.nodes.get(name)
                if forbidden:
                    return self._status(403, "Forbidden",
                                        f'nodes "{name}" is forbidden: User "system:serviceaccount:'
                                        f'shardcast:shardcast-agent" cannot get resource "nodes" in '
                                        f'API group "" at the cluster scope')
                if labels is None:
                    return self._status(404, "NotFound", f'nodes "{name}" not found')
                self._send(200, {"kind": "Node", "apiVersion": "v1",
                                 "metadata": {"name": name, "labels": labels},
                                 "spec": {}, "status": {}})

            def _pods(self, query):
                selector = query.get("fieldSelector", "")
                if not selector.startswith("spec.nodeName="):
                    return self._status(400, "BadRequest", "this stand-in needs spec.nodeName=")
                node = selector[len("spec.nodeName="):]
                limit = int(query.get("limit", "0") or 0)
                start = int(query.get("continue", "0") or 0)
                with api.lock:
                    if "continue" not in query:
                        api.listings_started += 1
                    elif api.fail_pages_after_first:
                        return self._status(500, "InternalError", "etcdserver: request timed out")
                    pods = [p for p in api.pods if p["node"] == node]
                    size = api.page_size if limit <= 0 else min(limit, api.page_size)
                page = pods[start:start + size]
                meta = {"resourceVersion": "12345"}
                if start + size < len(pods):
                    meta["continue"] = str(start + size)
                items = [{"metadata": {"name": "pod-" + p["uid"][:8], "namespace": "default",
                                       "uid": p["uid"]},
                          "spec": {"nodeName": p["node"]}, "status": {"phase": p["phase"]}}
                         for p in page]
                self._send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": meta,
                                 "items": items})

        return Handler

"""A real Azure Blob origin for integration tests: npm azurite (`azurite-blob`,
installed into <repo>/.tools/npm by scripts/install-deps), started on 127.0.0.1
with a free port, plus Shared Key signed requests (python3 stdlib only) to create
a container and upload blobs.

Azurite checks Shared Key signatures, so the uploads here are an independent
implementation of the signing rules that shardcast's own signer must agree with.
Its well-known development account is devstoreaccount1; the blob endpoint is
path-style: http://127.0.0.1:PORT/devstoreaccount1. Put the harness's counting
nginx in front of it (Nginx(upstream=...)) to count origin bytes.
"""
import base64
import email.utils
import hashlib
import hmac
import os
import urllib.error
import urllib.parse
import urllib.request

from cluster import AnnouncedServer

ACCOUNT = "devstoreaccount1"
KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
       "K1SZFPTOtr/KBHBeksoGMGw==")
API_VERSION = "2021-08-06"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STANDARD_HEADERS = ["content-encoding", "content-language", "content-length", "content-md5",
                    "content-type", "date", "if-modified-since", "if-match", "if-none-match",
                    "if-unmodified-since", "range"]


class Azurite(AnnouncedServer):
    def __init__(self, workdir):
        binary = os.path.join(REPO, ".tools", "npm", "node_modules", ".bin", "azurite-blob")
        if not os.path.exists(binary):
            raise RuntimeError(f"azurite-blob not found at {binary}: run scripts/install-deps")
        data = os.path.join(workdir, "azurite", "data")
        super().__init__("azurite", [binary, "--blobHost", "127.0.0.1", "--blobPort", "0",
                                     "--location", data, "--skipApiVersionCheck"],
                         workdir, r"successfully listens on http://127\.0\.0\.1:(\d+)")

    def endpoint(self):
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def _send(self, method, path, query, body, extra):
        """A Shared Key signed request to /devstoreaccount1<path>; returns the status."""
        url_path = "/" + ACCOUNT + urllib.parse.quote(path, safe="/-_.~")
        headers = {"x-ms-version": API_VERSION, "x-ms-date": email.utils.formatdate(usegmt=True),
                   "content-length": str(len(body)) if body else "",
                   "content-type": "application/octet-stream" if method == "PUT" else ""}
        headers.update(extra)
        to_sign = method + "\n" + "".join(headers.get(h, "") + "\n" for h in STANDARD_HEADERS)
        to_sign += "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()) if k.startswith("x-ms-"))
        to_sign += f"/{ACCOUNT}{url_path}"
        to_sign += "".join(f"\n{k}:{v}" for k, v in sorted(query.items()))
        sig = base64.b64encode(hmac.new(base64.b64decode(KEY), to_sign.encode(),
                                        hashlib.sha256).digest()).decode()
        qs = ("?" + urllib.parse.urlencode(query)) if query else ""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{url_path}{qs}",
                                     data=body if method == "PUT" else None, method=method)
        for k, v in headers.items():
            if v and k != "content-length":
                req.add_header(k, v)
        req.add_header("Authorization", f"SharedKey {ACCOUNT}:{sig}")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as e:
            if e.code == 409:  # already exists
                return e.code
            raise RuntimeError(f"{method} {path}: HTTP {e.code} {e.read()[:400]!r}")

    def create_container(self, name):
        return self._send("PUT", "/" + name, {"restype": "container"}, b"", {})

    def put(self, container, blob, body):
        return self._send("PUT", f"/{container}/{blob}", {}, body, {"x-ms-blob-type": "BlockBlob"})

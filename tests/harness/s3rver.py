"""A real S3-compatible origin for integration tests: npm s3rver (installed into
<repo>/.tools/npm by scripts/install-deps), started on 127.0.0.1 with a free port,
plus a minimal SigV4 PUT to upload objects (python3 stdlib only).

s3rver quirks (ENVIRONMENT.md): it requires x-amz-content-sha256, refuses unknown
access key ids but does not verify signatures, ignores If-Match, and on Node >= 17
needs --openssl-legacy-provider for listing continuation tokens. Its built-in
account is S3RVER / S3RVER. Put the harness's counting nginx in front of it
(Nginx(upstream=...)) to count origin bytes.
"""
import datetime
import hashlib
import hmac
import os
import shutil
import urllib.parse
import urllib.request

from cluster import AnnouncedServer

ACCESS_KEY = "S3RVER"
SECRET_KEY = "S3RVER"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def s3rver_script():
    return os.environ.get("SHARDCAST_S3RVER_JS") or os.path.join(
        REPO, ".tools", "npm", "node_modules", "s3rver", "bin", "s3rver.js")


class S3rver(AnnouncedServer):
    def __init__(self, workdir, bucket):
        script = s3rver_script()
        if not os.path.exists(script) or not shutil.which("node"):
            raise RuntimeError(f"s3rver not found at {script} (or no node): run scripts/install-deps")
        self.bucket = bucket
        data = os.path.join(workdir, "s3rver", "data")
        super().__init__("s3rver", ["node", "--openssl-legacy-provider", script, "-d", data,
                                    "-a", "127.0.0.1", "-p", "0", "--service-endpoint", "localhost",
                                    "--configure-bucket", bucket],
                         workdir, r"S3rver listening on 127\.0\.0\.1:(\d+)\n", timeout=30)

    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def put(self, key, body, region="us-east-1"):
        """PUT s3://bucket/key with a SigV4 signature (path-style)."""
        host = f"127.0.0.1:{self.port}"
        path = "/" + self.bucket + "/" + urllib.parse.quote(key, safe="/-_.~")
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        payload = hashlib.sha256(body).hexdigest()
        headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        signed = ";".join(sorted(headers))
        canonical = "\n".join(["PUT", path, "",
                               "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                               signed, payload])
        scope = f"{day}/{region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key_bytes = ("AWS4" + SECRET_KEY).encode()
        for part in (day, region, "s3", "aws4_request"):
            key_bytes = hmac.new(key_bytes, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(key_bytes, to_sign.encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(f"http://{host}{path}", data=body, method="PUT")
        for k, v in headers.items():
            if k != "host":
                req.add_header(k, v)
        req.add_header("Content-Type", "application/octet-stream")
        req.add_header("Authorization", f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, "
                                        f"SignedHeaders={signed}, Signature={sig}")
        with urllib.request.urlopen(req, timeout=60) as r:
            if r.status != 200:
                raise RuntimeError(f"PUT {key}: HTTP {r.status}")
            return r.headers.get("ETag")

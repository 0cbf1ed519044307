#!/usr/bin/env python3
"""Differential test: shardcast's SigV4 signer against botocore's S3SigV4Auth.

Generates random S3 requests (seeded) with odd keys: spaces, unicode, '+', '~',
'%', '//' and dot segments (S3 does not normalise paths, and S3SigV4Auth does not
either), repeated and empty query parameters, repeated headers with runs of
whitespace, session tokens, signed and unsigned payloads. Each request is signed
by botocore and by tests/unit/common/sigv4_sign_tool (shardcast's signer); the
canonical request, string to sign, signature and Authorization header must be
identical.

Usage: sigv4_botocore_diff.py --tool PATH [--count N] [--seed S]
Exit status 0 when every request matches, 1 on a mismatch, 2 when botocore is
missing (install python3-botocore: scripts/install-deps).
"""
import argparse
import datetime
import hashlib
import json
import random
import subprocess
import sys
import types
from unittest import mock
from urllib.parse import quote

try:
    import botocore
    import botocore.auth
    import botocore.config
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:  # pragma: no cover - environment check
    print(f"FAIL: botocore is not importable by {sys.executable} ({e}); "
          "install the Debian package python3-botocore (scripts/install-deps)")
    sys.exit(2)

KEY_PIECES = [
    "a", "Z", "0", "9", "-", "_", ".", "~", " ", "  ", "+", "%", "%20", "!", "*", "'", "(",
    ")", "&", "$", "@", "=", ";", ":", ",", "?", "#", "[", "]", "é", "ü", "ሴ", "日本",
    "😀", "model", "weights", "v1.0", "shard-00001-of-00002.safetensors", "/", "//",
]
HOSTS = [
    ("https", "models.s3.us-east-1.amazonaws.com", False),
    ("https", "s3.eu-west-1.amazonaws.com", True),
    ("http", "127.0.0.1:9000", True),
    ("http", "minio.internal:9000", True),
    ("https", "acct.r2.cloudflarestorage.com", True),
    ("https", "storage.googleapis.com", True),
    ("http", "[::1]:4568", True),
]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "auto", "us-gov-west-1"]
HEADER_NAMES = [
    "Range", "If-Match", "If-None-Match", "Content-Type", "Content-MD5", "x-amz-meta-Owner",
    "X-Amz-Meta-owner", "Cache-Control", "x-amz-acl", "X-Amz-Checksum-Mode", "My-Header",
]
VALUE_PIECES = ["a", "B", "1", " ", "   ", "\t", "bytes=0-9", '"etag"', ",", "=", "/", ";",
                "*", "text/plain", "x", "  lead", "trail  "]
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SECRET_CHARS = ALNUM + "abcdefghijklmnopqrstuvwxyz/+"


def random_text(rng, pieces, lo, hi):
    return "".join(rng.choice(pieces) for _ in range(rng.randint(lo, hi)))


def random_path(rng, path_style):
    key = random_text(rng, KEY_PIECES, 1, 8)
    if rng.random() < 0.15:
        key += rng.choice(["/./x", "/../y", "/.", "/.."])
    bucket = rng.choice(["models", "my-bucket", "b.with.dots"]) if path_style else ""
    prefix = "/" + bucket + "/" if bucket else "/"
    return prefix + ("" if rng.random() < 0.05 else key)


def random_query(rng):
    params = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 4, 6])):
        key = rng.choice(["list-type", "prefix", "continuation-token", "max-keys", "versionId",
                          "k", random_text(rng, KEY_PIECES, 1, 4)])
        value = "" if rng.random() < 0.15 else random_text(rng, KEY_PIECES, 1, 6)
        params.append((key, value))
        if rng.random() < 0.25:  # repeated key, another value
            params.append((key, random_text(rng, KEY_PIECES, 0, 3)))
    return params


def random_headers(rng):
    headers = []
    for _ in range(rng.choice([0, 1, 2, 3, 4])):
        name = rng.choice(HEADER_NAMES)
        headers.append((name, random_text(rng, VALUE_PIECES, 0, 6)))
        if rng.random() < 0.2:
            headers.append((name, random_text(rng, VALUE_PIECES, 1, 4)))
    return headers


def random_case(rng):
    scheme, host, path_style = rng.choice(HOSTS)
    method = rng.choice(["GET", "GET", "HEAD", "PUT", "POST", "DELETE"])
    body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))) \
        if method in ("PUT", "POST") else b""
    token = "".join(rng.choice(SECRET_CHARS + "=") for _ in range(rng.randint(40, 120))) \
        if rng.random() < 0.3 else ""
    return {
        "scheme": scheme,
        "method": method,
        "host": host,
        "path": random_path(rng, path_style),
        "query": random_query(rng),
        "headers": random_headers(rng),
        "body": body,
        "unsigned_payload": rng.random() < 0.25,
        "access_key": "AKIA" + "".join(rng.choice(ALNUM) for _ in range(16)),
        "secret_key": "".join(rng.choice(SECRET_CHARS) for _ in range(40)),
        "token": token,
        "region": rng.choice(REGIONS),
        "time": rng.randint(1420070400, 2082758399),  # 2015 .. 2035
    }


def fixed_clock(unix_seconds):
    """Patches botocore.auth's clock (utcnow in older, get_current_datetime in newer)."""
    fixed = datetime.datetime.utcfromtimestamp(unix_seconds)

    class FixedDateTime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

        @classmethod
        def now(cls, tz=None):
            return fixed.replace(tzinfo=tz) if tz else fixed

    shim = types.SimpleNamespace(**{k: getattr(datetime, k) for k in dir(datetime)
                                    if not k.startswith("__")})
    shim.datetime = FixedDateTime
    patches = [mock.patch.object(botocore.auth, "datetime", shim)]
    if hasattr(botocore.auth, "get_current_datetime"):
        patches.append(mock.patch.object(botocore.auth, "get_current_datetime",
                                         lambda remove_tzinfo=True: fixed))
    return patches


def botocore_sign(case):
    url = f"{case['scheme']}://{case['host']}{quote(case['path'], safe='/~')}"
    request = AWSRequest(method=case["method"], url=url, data=case["body"],
                         params=list(case["query"]))
    for name, value in case["headers"]:
        request.headers[name] = value  # HTTPHeaders: appends, repeated names allowed
    if case["unsigned_payload"]:
        request.context["client_config"] = botocore.config.Config(
            s3={"payload_signing_enabled": False})
    creds = Credentials(case["access_key"], case["secret_key"], case["token"] or None)
    auth = botocore.auth.S3SigV4Auth(creds, "s3", case["region"])
    patches = fixed_clock(case["time"])
    for p in patches:
        p.start()
    try:
        auth.add_auth(request)
        authorization = request.headers["Authorization"]
        del request.headers["Authorization"]
        canonical = auth.canonical_request(request)
        string_to_sign = auth.string_to_sign(request, canonical)
    finally:
        for p in patches:
            p.stop()
    return {
        "payload_hash": request.headers["X-Amz-Content-SHA256"],
        "canonical_request": canonical,
        "string_to_sign": string_to_sign,
        "signature": authorization.rsplit("Signature=", 1)[1],
        "authorization": authorization,
    }


def tool_input(case, payload_hash):
    return {
        "method": case["method"], "host": case["host"], "path": case["path"],
        "query": [list(kv) for kv in case["query"]],
        "headers": [list(h) for h in case["headers"]],
        "payload_hash": payload_hash, "access_key": case["access_key"],
        "secret_key": case["secret_key"], "token": case["token"], "region": case["region"],
        "service": "s3", "time": case["time"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=20240701)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    cases = [random_case(rng) for _ in range(args.count)]
    expected = [botocore_sign(c) for c in cases]
    lines = "".join(json.dumps(tool_input(c, e["payload_hash"])) + "\n"
                    for c, e in zip(cases, expected))
    proc = subprocess.run([args.tool], input=lines.encode(), capture_output=True, timeout=120)
    if proc.returncode != 0:
        print(f"FAIL: {args.tool} exited {proc.returncode}: {proc.stderr.decode()[:2000]}")
        return 1
    got = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    if len(got) != len(cases):
        print(f"FAIL: the tool answered {len(got)} of {len(cases)} requests")
        return 1

    fields = ["canonical_request", "string_to_sign", "signature", "authorization"]
    mismatches = 0
    for i, (case, want, have) in enumerate(zip(cases, expected, got)):
        bad = [f for f in fields if want[f] != have[f]]
        if not bad:
            continue
        mismatches += 1
        if mismatches <= 5:
            shown = {k: v for k, v in case.items() if k not in ("secret_key", "body")}
            print(f"MISMATCH request {i} in {bad}: {json.dumps(shown, ensure_ascii=False)}")
            print("  botocore canonical request:\n    " +
                  want["canonical_request"].replace("\n", "\n    "))
            print("  shardcast canonical request:\n    " +
                  have["canonical_request"].replace("\n", "\n    "))
    stats = {
        "unicode": sum(any(ord(ch) > 127 for ch in c["path"]) for c in cases),
        "space": sum(" " in c["path"] for c in cases),
        "plus": sum("+" in c["path"] for c in cases),
        "tilde": sum("~" in c["path"] for c in cases),
        "repeated_query_keys": sum(len({k for k, _ in c["query"]}) < len(c["query"])
                                   for c in cases),
        "repeated_headers": sum(len({n.lower() for n, _ in c["headers"]}) < len(c["headers"])
                                for c in cases),
        "dot_or_double_slash": sum("/." in c["path"] or "//" in c["path"] for c in cases),
        "session_token": sum(bool(c["token"]) for c in cases),
        "unsigned_payload": sum(e["payload_hash"] == "UNSIGNED-PAYLOAD" for e in expected),
    }
    print(f"botocore {botocore.__version__} ({botocore.__file__}) vs shardcast: "
          f"{len(cases) - mismatches}/{len(cases)} requests identical; cases with {stats}")
    if len(cases) < 200:
        print("FAIL: fewer than 200 requests compared")
        return 1
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())

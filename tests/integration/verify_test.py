#!/usr/bin/env python3
"""`shardcast verify` (DESIGN §4.5, §10): a model deployed to two agents verifies
ok on both; after one byte of one published file is flipped on one agent, verify on
that agent exits 1 naming the file (and the bad piece), leaves the file in place,
and the other agent still verifies ok. The origin publishes an index with sha256,
so the publisher's whole-file checksums are checked too.

Also asserts: a model not on the node and an unreachable agent each end non-zero
(not 1) with one clear line; POST /v1/verify of a bad model ref answers 400 JSON.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, make_model  # noqa: E402
from checks import check, finish, test_args  # noqa: E402


MIB = 1 << 20
CORRUPT_FILE = "model-00001-of-00002.safetensors"
FILES = {
    CORRUPT_FILE: 5 * MIB + 123,
    "model-00002-of-00002.safetensors": 3 * MIB,
    "config.json": b'{"hidden_size": 4096}\n',
}


def verify(c, agent, *args, socket_path=None):
    argv = [os.path.join(c.bin, "shardcast"), "verify", *args,
            "--socket", socket_path or c.agents[agent]["socket"]]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def error_lines(p):
    return [l for l in p.stderr.splitlines() if l.startswith("shardcast: error")]


def main():
    args = test_args()
    with Cluster(args.bin_dir, keep=args.keep) as c:
        origin_root = os.path.join(c.dir, "origin")
        model_root = os.path.join(origin_root, "vmodel")
        make_model(model_root, FILES)
        subprocess.run([os.path.join(c.bin, "shardcast"), "index", model_root], check=True,
                       capture_output=True)
        total = sum(len(v) if isinstance(v, bytes) else v for v in FILES.values())
        nginx = c.start_origin(origin_root)
        c.start_controller()
        for n in ("a1", "a2"):
            c.start_agent(n, "east", "east-a")
        r = c.cli("deploy", "vmodel:v1", "--source", nginx.url("vmodel/"), "--piece-size", "1MiB",
                  "--wait", "-o", "json", check=False, stderr=subprocess.DEVNULL)
        check(r.returncode == 0, f"deploy --wait exits 0 (got {r.returncode})")

        for n in ("a1", "a2"):
            p = verify(c, n, "vmodel:v1")
            check(p.returncode == 0 and p.stdout.startswith("ok: vmodel:v1"),
                  f"{n}: verify exits 0 with an ok verdict ({p.returncode}: {p.stdout.strip()} "
                  f"{p.stderr.strip()[-300:]})")
        p = verify(c, "a1", "vmodel:v1", "-o", "json")
        rep = json.loads(p.stdout) if p.returncode == 0 else {}
        pieces = rep.get("pieces", 0)
        print(f"     a1 verified {pieces} pieces, {rep.get('bytes_hashed')} bytes in "
              f"{rep.get('seconds', 0):.3f} s")
        check(rep.get("ok") is True and rep.get("bad_pieces") == [] and rep.get("files_bad") == []
              and rep.get("unverified_pieces") == 0, f"-o json: ok, nothing bad ({rep})")
        check(pieces == 6 + 3 + 1, f"every piece was checked ({pieces} == 10)")
        check(rep.get("bytes_hashed", 0) >= total, f"bytes_hashed {rep.get('bytes_hashed')} >= {total}")

        # Flip one byte of one published file on a1 (published files are 0444).
        path = os.path.join(c.model_dir("a1", "vmodel", "v1"), CORRUPT_FILE)
        os.chmod(path, 0o644)
        with open(path, "r+b") as f:
            f.seek(2 * MIB + 77)
            b = f.read(1)
            f.seek(2 * MIB + 77)
            f.write(bytes([b[0] ^ 0xFF]))
        os.chmod(path, 0o444)

        p = verify(c, "a1", "vmodel:v1")
        check(p.returncode == 1 and p.stdout.startswith("CORRUPT") and CORRUPT_FILE in p.stdout
              and len(p.stdout.strip().splitlines()) == 1,
              f"a1: verify exits 1 with one line naming the file ({p.returncode}: {p.stdout.strip()})")
        p = verify(c, "a1", "vmodel:v1", "-o", "json")
        rep = json.loads(p.stdout) if p.stdout.strip() else {}
        check(p.returncode == 1 and rep.get("ok") is False and len(rep.get("bad_pieces", [])) == 1
              and rep.get("files_bad") == [CORRUPT_FILE],
              f"a1 -o json: exactly one bad piece, the file is named ({rep})")
        check(os.path.exists(path) and os.path.getsize(path) == FILES[CORRUPT_FILE],
              "the corrupt file is left in place (report only)")
        p = verify(c, "a2", "vmodel:v1")
        check(p.returncode == 0 and p.stdout.startswith("ok:"),
              f"a2 still verifies ok ({p.returncode}: {p.stdout.strip()})")

        # Clear errors: not on this node; agent unreachable; bad input.
        p = verify(c, "a1", "never-deployed:v9")
        lines = error_lines(p)
        check(p.returncode not in (0, 1) and len(lines) == 1 and "not published" in lines[0],
              f"a model not on the node: exit {p.returncode}, one clear line ({p.stderr.strip()})")
        p = verify(c, "a1", "vmodel:v1", socket_path=os.path.join(c.dir, "nope.sock"))
        lines = error_lines(p)
        check(p.returncode not in (0, 1) and len(lines) == 1
              and "cannot reach the shardcast agent" in lines[0],
              f"unreachable agent: exit {p.returncode}, one clear line ({p.stderr.strip()})")
        status, body = c.local_api("a1", "POST", "/v1/verify", {"model": "../x:v1"})
        check(status == 400 and isinstance(body, dict) and "error" in body,
              f"POST /v1/verify with a bad ref answers 400 JSON ({status} {body})")
        status, body = c.local_api("a1", "POST", "/v1/verify", {"model": "never-deployed:v9"})
        check(status == 404 and isinstance(body, dict) and body.get("error", {}).get("code") == "not_published",
              f"POST /v1/verify of a model not here answers 404 not_published ({status} {body})")
    return finish()


if __name__ == "__main__":
    sys.exit(main())

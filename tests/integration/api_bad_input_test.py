#!/usr/bin/env python3
"""Bad input to the controller's public API (issue 2, item 5): malformed JSON,
unknown fields, wrong types, bad names, path-like versions, oversized bodies and
unreachable sources each get a 4xx with a JSON error body, and the controller
keeps serving afterwards."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "harness"))
from cluster import Cluster, free_port, http_json  # noqa: E402
from checks import check, finish, test_args  # noqa: E402


def expect_error(c, body, want_status, want_code=None, label=""):
    status, resp = http_json("POST", c.controller_url + "/v1/rollouts", body)
    ok = (status == want_status and isinstance(resp, dict) and "error" in resp
          and isinstance(resp["error"].get("message"), str)
          and (want_code is None or resp["error"].get("code") == want_code))
    check(ok, f"{label}: {status} {resp if not ok else resp['error']['code']}")


def main():
    args = test_args()
    with Cluster(args.bin_dir) as c:
        c.start_controller("--list-timeout-ms", "3000")
        dead = f"http://127.0.0.1:{free_port()}/model/"
        good = {"model": "m:v1", "sources": [dead]}
        expect_error(c, b"{not json", 400, "invalid_argument", "malformed JSON")
        expect_error(c, b"[1,2,3]", 400, "invalid_argument", "JSON array instead of object")
        expect_error(c, dict(good, colour="blue"), 400, "invalid_argument", "unknown field")
        expect_error(c, dict(good, piece_size="big"), 400, "invalid_argument", "wrong type: piece_size")
        expect_error(c, dict(good, sources="http://x/"), 400, "invalid_argument", "wrong type: sources")
        expect_error(c, dict(good, target={"regions": "east"}), 400, "invalid_argument",
                     "wrong type: target.regions")
        expect_error(c, dict(good, model="Bad Name:v1"), 400, "invalid_argument", "bad model name")
        expect_error(c, dict(good, model="m:.."), 400, "invalid_argument", "version '..'")
        expect_error(c, dict(good, model="../../etc:v1"), 400, "invalid_argument", "name with ../")
        expect_error(c, dict(good, model="m"), 400, "invalid_argument", "no version")
        expect_error(c, dict(good, sources=[]), 400, "invalid_argument", "no sources")
        expect_error(c, dict(good, sources=["gopher://x/"]), 400, "invalid_argument", "unknown scheme")
        expect_error(c, dict(good, piece_size=1), 400, "invalid_argument", "piece size too small")
        expect_error(c, b"{" + b'"a":"' + b"x" * (2 << 20) + b'"}', 413, None, "2 MiB body")
        expect_error(c, good, 422, "source_unreachable", "unreachable source")

        status, body = http_json("GET", c.controller_url + "/healthz")
        check(status == 200, f"controller still healthy after bad input ({status})")
        status, body = http_json("GET", c.controller_url + "/v1/rollouts")
        check(status == 200 and body.get("rollouts") == [], "no rollout was created by bad input")
        status, body = http_json("GET", c.controller_url + "/v1/rollouts/ro-doesnotexist")
        check(status == 404 and "error" in body, "unknown rollout id is a 404 with a JSON error")
        status, body = http_json("DELETE", c.controller_url + "/v1/rollouts")
        check(status == 405 and "error" in body, "wrong method is a 405 with a JSON error")
        check(c.controller.alive(), "controller process is alive")
    return finish()


if __name__ == "__main__":
    sys.exit(main())

"""Assertions and the command line shared by the integration test scripts.

Each script is its own process: check() prints one line per assertion and
remembers failures; finish() prints the summary and returns the exit code.
"""
import argparse

_failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        _failures.append(what)
    return cond


def failed():
    return list(_failures)


def test_args():
    """--bin-dir (the CMake build dir holding bin/) and --keep (keep the temp dir)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--keep", action="store_true")
    return ap.parse_args()


def finish():
    print(f"{len(_failures)} failed" if _failures else "all checks passed")
    return 1 if _failures else 0

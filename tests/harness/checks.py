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


def check_published(cluster, names, model, version, digests):
    """Each named agent's published model equals the source (SHA-256 per file)."""
    from cluster import compare_model
    for n in names:
        problems = compare_model(cluster.model_dir(n, model, version), digests)
        check(not problems, f"{n}: published files equal the source {problems}")


def check_origin_once_per_region(nginx, uri_prefix, regions, total, max_ratio=1.0):
    """Stops nginx gracefully (so every log line is written), then checks that each
    region read exactly `total` bytes under uri_prefix (with faults: between total
    and max_ratio x total, DESIGN §1) and no one else read any."""
    nginx.stop()
    by_region = nginx.origin_bytes_by_region(uri_prefix)
    for region in regions:
        got = by_region.get(region, 0)
        bound = "" if max_ratio == 1.0 else f" (<= {max_ratio})"
        check(total <= got <= max_ratio * total,
              f"origin bytes {region}: {got} / {total} = {got / total:.3f}{bound}")
    check(set(by_region) <= set(regions), f"no origin bytes outside the regions {by_region}")
    return by_region

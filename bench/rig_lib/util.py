"""Small helpers of the benchmark rig: size and rate parsing, bounded command runs,
a monotonic/wall clock pair, and the import of the integration-test harness
(tests/harness/cluster.py), whose process, wait and nginx-log ideas the rig reuses.

Nothing here sends network traffic. Stateless apart from the module constants.
"""
import os
import re
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HARNESS_DIR = os.path.join(REPO, "tests", "harness")
if HARNESS_DIR not in sys.path:
    sys.path.insert(0, HARNESS_DIR)
import cluster as harness  # noqa: E402,F401  (re-exported for the other modules)

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30


class RigError(Exception):
    """A step of the rig failed; the message says which and why."""


_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": KIB, "m": 1000 ** 2, "mb": 1000 ** 2,
               "mib": MIB, "g": 1000 ** 3, "gb": 1000 ** 3, "gib": GIB, "t": 1000 ** 4,
               "tb": 1000 ** 4, "tib": 1 << 40}
_RATE_UNITS = {"bit": 1, "kbit": 1000, "mbit": 1000 ** 2, "gbit": 1000 ** 3,
               "bps": 8, "kbps": 8000, "mbps": 8 * 1000 ** 2, "gbps": 8 * 1000 ** 3}


def parse_size(text):
    """'1GiB' -> 1073741824, '16MiB', '500MB', '12345' -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise RigError(f"bad size '{text}': use e.g. 1GiB, 64MiB, 500MB or a byte count")
    value = int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])
    if value <= 0:
        raise RigError(f"size must be positive, got '{text}'")
    return value


def parse_rate(text):
    """tc-style rates: '250mbit' -> 250e6 bits/s. Returns bits per second."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", str(text))
    if not m or m.group(2).lower() not in _RATE_UNITS:
        raise RigError(f"bad rate '{text}': use e.g. 250mbit, 1gbit (tc units)")
    value = int(float(m.group(1)) * _RATE_UNITS[m.group(2).lower()])
    if value < 1000:
        raise RigError(f"rate must be at least 1kbit, got '{text}'")
    return value


def human_bytes(n):
    for unit, div in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= div:
            return f"{n / div:.2f} {unit}"
    return f"{n} B"


def run(argv, timeout=30, check=True, capture=True, input_text=None):
    """Runs a command to completion (bounded by timeout). Returns CompletedProcess."""
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                           stderr=subprocess.PIPE if capture else subprocess.DEVNULL,
                           timeout=timeout, text=True, input=input_text,
                           stdin=None if input_text is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise RigError(f"{' '.join(argv)} timed out after {timeout}s") from e
    if check and r.returncode != 0:
        raise RigError(f"{' '.join(argv)} exited {r.returncode}: {(r.stderr or '').strip()[-2000:]}")
    return r


def ns_argv(ns, argv):
    """argv run inside network namespace ns (ip netns exec execs it: same pid)."""
    return ["ip", "netns", "exec", ns, *argv]


def now():
    """(monotonic, wall) now; the wall clock is only used to compare with
    timestamps that other processes write (logs, hook files)."""
    return time.monotonic(), time.time()


def wait_until(predicate, timeout, what, interval=0.05):
    """Bounded poll: the harness's wait_for, re-raised as RigError."""
    try:
        return harness.wait_for(predicate, timeout, what, interval)
    except harness.HarnessError as e:
        raise RigError(str(e)) from e


def log(msg):
    print(f"[rig {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

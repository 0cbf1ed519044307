"""Machine calibration printed beside the figures: the CPU this machine spends to
put one GB of new data into the page cache (what every receiver pays, whatever
the tool: curl, aria2c or a shardcast agent).

On a VM whose host reclaims free guest memory (virtio-balloon free page
reporting), the first touch of such memory costs a host fault per page: measured
here between 0.2 and 2.7 CPU s/GB for the same write, depending on whether the
pages the kernel hands out were recently used. The rig writes PROBE_BYTES to a new
file in its work directory with dd, as the receivers do, and reports its CPU.
"""
import os
import resource
import subprocess

PROBE_BYTES = 256 << 20


def page_cache_fill_cpu_s_per_GB(workdir):
    path = os.path.join(workdir, "page-cache-probe.bin")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=4M", f"count={PROBE_BYTES >> 22}",
                    "conv=fsync"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(path)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(cpu / (PROBE_BYTES / 1e9), 3)

"""Processes the rig starts inside its namespaces, and what it measures about them.

NsProcess extends the harness's Process (tests/harness/cluster.py): the argv runs
under `ip netns exec NS` (which execs, so the pid is the program's own), and the
exit is collected with wait4() so a finished client's CPU time and peak RSS are
known even after it is gone. ProcessGroup owns every NsProcess of a run and stops
them all (by pid) in close(), also on failure.

cpu_seconds()/peak_rss() read /proc/<pid>/stat and /proc/<pid>/status of a live
process; MachineCpu reads /proc/stat. Single-threaded use by the driver.
"""
import os
import signal
import time

from .util import harness, log, ns_argv

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a live process, in seconds; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss(pid):
    """VmHWM of a live process in bytes; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class MachineCpu:
    """Busy fraction of the whole machine between start() and stop() (/proc/stat):
    1 - (idle + iowait) / total. Other work on the machine counts too."""

    @staticmethod
    def _read():
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
        return sum(vals[:8]), idle

    def start(self):
        self.t0 = self._read()
        return self

    def stop(self):
        t1 = self._read()
        total = t1[0] - self.t0[0]
        return 0.0 if total <= 0 else 1.0 - (t1[1] - self.t0[1]) / total


class NsProcess(harness.Process):
    """A process in a namespace, its output in log_path. After exit: exit_code,
    rusage (from wait4: CPU time), exit_at (monotonic time the driver saw the exit)."""

    def __init__(self, name, ns, argv, log_path, env=None):
        self.ns = ns
        self.started_at = time.monotonic()
        super().__init__(name, ns_argv(ns, argv), log_path, env=env)
        self.pid = self.proc.pid
        self.rusage = None
        self.exit_at = None
        self.hwm_seen = 0

    def _reaped(self, status, rusage):
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.rusage = rusage
        self.exit_at = time.monotonic()

    def try_reap(self):
        """Non-blocking: True once the process has exited (and is reaped)."""
        if self.proc.returncode is not None:
            return True
        try:
            pid, status, ru = os.wait4(self.pid, os.WNOHANG)
        except ChildProcessError:
            self.proc.returncode = self.proc.returncode if self.proc.returncode is not None else -1
            return True
        if pid == 0:
            return False
        self._reaped(status, ru)
        return True

    def alive(self):
        return not self.try_reap()

    @property
    def exit_code(self):
        return self.proc.returncode

    def cpu_seconds(self):
        """Live: from /proc; exited: from wait4's rusage."""
        if self.rusage is not None:
            return self.rusage.ru_utime + self.rusage.ru_stime
        return cpu_seconds(self.pid)

    def sample_rss(self):
        """Remembers the live process's VmHWM. Call it while the process runs: once
        it is gone only the sampled value is known (wait4's ru_maxrss is useless here:
        the child inherits the driver's RSS at fork and keeps it across exec)."""
        if self.proc.returncode is None:
            v = peak_rss(self.pid)
            if v:
                self.hwm_seen = max(self.hwm_seen, v)
        return self.hwm_seen

    def peak_rss(self):
        """VmHWM (live) or the largest value sampled while it ran (exited)."""
        return self.sample_rss()

    def send(self, sig):
        if not self.try_reap():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def wait_or_kill(self, timeout):
        """Waits up to timeout for the exit, then SIGKILLs; closes the log."""
        deadline = time.monotonic() + timeout
        while not self.try_reap():
            if time.monotonic() > deadline:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    _, status, ru = os.wait4(self.pid, 0)
                    self._reaped(status, ru)
                except ChildProcessError:
                    self.proc.returncode = -signal.SIGKILL
                break
            time.sleep(0.02)
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the process (if alive), waits up to timeout, then SIGKILL."""
        self.send(sig)
        return self.wait_or_kill(timeout)

    def log_tail(self, n=2000):
        try:
            return self.log_text()[-n:]
        except OSError:
            return ""


def stop_all(procs, sig=signal.SIGTERM, timeout=10):
    """Signals every process first, then waits for each (one shared deadline), so
    that N agents draining in parallel take as long as one."""
    procs = [p for p in procs if p is not None]
    for p in procs:
        p.send(sig)
    deadline = time.monotonic() + timeout
    for p in procs:
        p.wait_or_kill(max(0.0, deadline - time.monotonic()))


class ProcessGroup:
    """Every process of one run (or one mode). close() stops them in reverse order."""

    def __init__(self):
        self.procs = []

    def start(self, name, ns, argv, log_path, env=None):
        p = NsProcess(name, ns, argv, log_path, env=env)
        self.procs.append(p)
        return p

    def close(self, sig=signal.SIGTERM, timeout=10):
        try:
            stop_all(list(reversed(self.procs)), sig, timeout)
        except Exception as e:  # fall back to one by one
            log(f"warning: stopping processes: {e}")
            for p in reversed(self.procs):
                try:
                    p.stop(signal.SIGKILL, 1)
                except Exception as e2:
                    log(f"warning: stopping {p.name} (pid {p.pid}): {e2}")
        self.procs = []

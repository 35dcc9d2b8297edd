"""Shared helpers for benchmark sections: timing with peak RSS, tables."""
import os
import statistics
import subprocess
import time


def measure(cmd, repeat=3, env=None):
    """Runs `cmd` `repeat` times; returns (median seconds, max peak RSS in bytes)."""
    times, peaks = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} exited {code}: {err}")
        times.append(elapsed)
        peaks.append(usage.ru_maxrss * 1024)
    return statistics.median(times), max(peaks)


def mib(n):
    return f"{n / 1048576:.0f} MiB"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def drop_file(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass

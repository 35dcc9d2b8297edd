"""Shared helpers for benchmark sections: timing with peak RSS, tables."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Linux carries a process's peak RSS across exec, so a command started straight from this
# (possibly large) Python process would report at least this process's peak. A small
# launcher forks the command itself and reports the command's own peak.
_LAUNCHER = r"""
import os, sys
out, cmd = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def launched(cmd):
    """(command to run instead of `cmd`, file that will hold `cmd`'s own peak RSS in bytes)."""
    fd, path = tempfile.mkstemp(prefix="ckpt-bench-rss-")
    os.close(fd)
    return [sys.executable, "-S", "-c", _LAUNCHER, path, *map(str, cmd)], path


def peak_rss(path):
    """The peak RSS a launched command reported (and removes the report)."""
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    finally:
        os.remove(path)


def measure(cmd, repeat=3, env=None):
    """Runs `cmd` `repeat` times; returns (median seconds, max peak RSS in bytes)."""
    times, peaks = [], []
    for _ in range(repeat):
        wrapped, rss_file = launched(cmd)
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} exited {code}: {err}")
        times.append(elapsed)
        peaks.append(peak_rss(rss_file))
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


def standalone(run, area):
    """Runs one benchmark section by itself: `python3 Benchmarks/bench_AREA.py --ckpt PATH
    [--work DIR]` prints the section `run(ckpt, work/AREA)` returns."""
    import argparse
    import pathlib
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--work", default="bench-work")
    args = parser.parse_args()
    work = pathlib.Path(args.work) / area
    work.mkdir(parents=True, exist_ok=True)
    print(run(args.ckpt, work))

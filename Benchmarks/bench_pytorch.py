"""PyTorch: read a 1 GiB torch.save state dict with ckpt, next to torch.load(weights_only=True, mmap=True).

Rows (same input, same run):
- `ckpt inspect` (headers only: zip directory + data.pkl through the restricted pickle VM);
- `ckpt convert big.pt out.pt` (every tensor read, CRC-checked, rewritten) next to
  torch.load(weights_only=True, mmap=True) + torch.save doing the same conversion;
- `ckpt convert big.pt out.safetensors` next to torch.load(weights_only=True, mmap=True) touching every tensor
  (a full read with no write, torch's fastest path).
The converted files are compared with the input tensor by tensor.
"""
import argparse
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import benchutil  # noqa: E402
from benchutil import drop_file, measure, mib, table  # noqa: E402

TENSORS = 16

# The Python references time themselves after `import torch` (interpreter start and the import
# are not counted against torch) and print the seconds.
PY_TOUCH = """
import sys, time, torch
start = time.perf_counter()
sd = torch.load(sys.argv[1], weights_only=True, mmap=True)
total = 0.0
for t in sd.values():
    total += float(t.sum())
print(time.perf_counter() - start)
"""

PY_CONVERT = """
import sys, time, torch
start = time.perf_counter()
torch.save(torch.load(sys.argv[1], weights_only=True, mmap=True), sys.argv[2])
print(time.perf_counter() - start)
"""

# Python work runs in child processes so this driver stays small: children inherit the
# parent's peak RSS on Linux until they exec.
PY_MAKE = """
import sys, torch
per = int(sys.argv[2]) // 16 // 4
gen = torch.Generator().manual_seed(0)
torch.save({f"layers.{i}.weight": torch.randn(per // 4096, 4096, generator=gen) for i in range(16)}, sys.argv[1])
"""

PY_CHECK = """
import sys, torch
from safetensors.torch import load_file
a = torch.load(sys.argv[1], weights_only=True, mmap=True)
if sys.argv[2].endswith(".safetensors"):
    b = load_file(sys.argv[2])
else:
    b = torch.load(sys.argv[2], weights_only=True, mmap=True)
assert sorted(a) == sorted(b), "names differ"
for name, t in a.items():
    assert torch.equal(t, b[name]), name
"""


def python(script, *args):
    import subprocess
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return result.stdout


def measure_python(script, *args, repeat=3):
    """(median of the seconds the script reports, peak RSS)."""
    import statistics
    import subprocess
    times, peaks = [], []
    for _ in range(repeat):
        wrapped, rss_file = benchutil.launched([sys.executable, "-c", script, *map(str, args)])
        proc = subprocess.Popen(wrapped, stdout=subprocess.PIPE)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.stdout.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"python reference failed ({status})")
        times.append(float(out.decode().strip().splitlines()[-1]))
        peaks.append(benchutil.peak_rss(rss_file))
    return statistics.median(times), max(peaks)


def run(ckpt, work, total_bytes=1 << 30):
    src = work / "big.pt"
    python(PY_MAKE, src, total_bytes)
    size = src.stat().st_size
    ins_t, ins_rss = measure([ckpt, "inspect", str(src), "--quiet"])
    touch_t, touch_rss = measure_python(PY_TOUCH, src)
    out_pt, py_pt, out_st = work / "out.pt", work / "py.pt", work / "out.safetensors"
    ck_pt_t, ck_pt_rss = measure([ckpt, "convert", str(src), str(out_pt), "--quiet"])
    py_pt_t, py_pt_rss = measure_python(PY_CONVERT, src, py_pt)
    python(PY_CHECK, src, out_pt)
    drop_file(out_pt)
    drop_file(py_pt)
    ck_st_t, ck_st_rss = measure([ckpt, "convert", str(src), str(out_st), "--quiet"])
    python(PY_CHECK, src, out_st)
    drop_file(out_st)
    drop_file(src)

    def row(label, t, rss, ref_t):
        return [label, f"{t:.2f} s", f"{size / t / 1e6:.0f} MB/s", mib(rss), f"{t / ref_t:.2f}"]

    rows = [
        row("`ckpt inspect` (headers only)", ins_t, ins_rss, touch_t),
        row("torch.load(weights_only, mmap) + sum of every tensor", touch_t, touch_rss, touch_t),
        row("`ckpt convert` → .safetensors (full read + write)", ck_st_t, ck_st_rss, touch_t),
        row("`ckpt convert` → .pt", ck_pt_t, ck_pt_rss, py_pt_t),
        row("torch.load(weights_only, mmap) + torch.save", py_pt_t, py_pt_rss, py_pt_t),
    ]
    return "\n".join([
        f"## Read a {size / 2**30:.0f} GiB PyTorch state dict" if size >= 2**30 else "## Read a PyTorch state dict",
        "",
        f"Input: torch.save of {TENSORS} F32 tensors ({size / 2**30:.2f} GiB). ckpt reads it through the "
        "restricted pickle VM and checks each record's CRC-32 (torch does not). Outputs compared equal "
        "with the input.",
        "",
        table(["tool", "wall time", "throughput", "peak RSS", "time ÷ torch reference"], rows),
        "",
        "- The ratio column compares the first three rows with torch's mmap read, the last two with each other.",
        "- torch rows time the work after `import torch` (interpreter start-up and the import are excluded); "
        "their peak RSS includes torch itself.",
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--work", default="bench-work")
    parser.add_argument("--size-mib", type=int, default=1024, help="input size (default 1 GiB)")
    a = parser.parse_args()
    w = pathlib.Path(a.work) / "pytorch"
    w.mkdir(parents=True, exist_ok=True)
    print(run(a.ckpt, w, a.size_mib << 20))

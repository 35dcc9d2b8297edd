"""Engine: `ckpt run` forward passes next to PyTorch on the same machine and thread count.

Models (seeded random weights, float32, eval mode):
- nn.Transformer base: d_model 512, 8 heads, 6 encoder + 6 decoder layers, FFN 2048,
  src and tgt [8, 64, 512], causal decoder self-attention;
- nn.LSTM: 2 layers, 512 units, input 512, x [8, 64, 512].

For each, torch runs in a subprocess with torch.set_num_threads(N) (median of several
forward passes after a warm-up), and `ckpt run` with OPENBLAS_NUM_THREADS=N (median of the
`run_seconds` it reports, i.e. the forward pass alone; the whole-process wall time, which
adds reading the weights and writing the .npz, is listed too). Both wall time and CPU time
of the forward pass are reported: on a shared machine the CPU time (single thread) is the
steadier measure. The outputs are compared.
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchutil import measure, table, standalone  # noqa: E402

GOAL = 1.5
REPEAT = 5

TORCH_SCRIPT = r"""
import json, statistics, sys, time
import numpy as np, torch
from safetensors.torch import save_file
kind, folder, threads, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
if kind == "transformer":
    model = torch.nn.Transformer(512, 8, 6, 6, 2048, dropout=0.0, batch_first=True).eval()
    inputs = {"src": torch.randn(8, 64, 512), "tgt": torch.randn(8, 64, 512)}
    mask = torch.nn.Transformer.generate_square_subsequent_mask(64)
    forward = lambda: model(inputs["src"], inputs["tgt"], tgt_mask=mask, tgt_is_causal=True)
    name = "out"
else:
    model = torch.nn.LSTM(512, 512, num_layers=2, batch_first=True).eval()
    inputs = {"x": torch.randn(8, 64, 512)}
    forward = lambda: model(inputs["x"])[0]
    name = "y"
save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{folder}/{kind}.safetensors")
np.savez(f"{folder}/{kind}.inputs.npz", **{k: v.numpy() for k, v in inputs.items()})
times, cpu = [], []
with torch.no_grad():
    out = forward()
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = forward()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
np.save(f"{folder}/{kind}.torch.npy", out.numpy())
print(json.dumps({"forward": statistics.median(times), "cpu": statistics.median(cpu), "torch": torch.__version__, "output": name}))
"""


def torch_run(kind, work, threads):
    result = subprocess.run([sys.executable, "-c", TORCH_SCRIPT, kind, str(work), str(threads), str(REPEAT)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def ckpt_run(ckpt, kind, work, threads):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
    arch = "transformer" if kind == "transformer" else "lstm"
    # nn.Transformer(512, 8, ...)'s settings, which its state dict does not record.
    extra = ["--heads", "8", "--activation", "relu", "--no-norm-first", "--eps", "1e-5"] if kind == "transformer" else []
    cmd = [ckpt, "run", str(work / f"{kind}.safetensors"), "--arch", arch, "--inputs",
           str(work / f"{kind}.inputs.npz"), "--output", str(work / f"{kind}.ckpt.npz"), "--json", *extra]
    forwards, cpu = [], []
    for _ in range(REPEAT):
        result = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"ckpt run failed: {result.stderr}")
        report = json.loads(result.stdout)
        forwards.append(report["run_seconds"])
        cpu.append(report["run_cpu_seconds"])
    wall, rss = measure(cmd, repeat=3, env=env)
    return statistics.median(forwards), statistics.median(cpu), wall, rss


def thread_counts():
    if "BENCH_THREADS" in os.environ:
        return [int(n) for n in os.environ["BENCH_THREADS"].split(",")]
    return sorted({1, os.cpu_count() or 1})


def run(ckpt, work):
    work = pathlib.Path(work)
    rows, version = [], "?"
    for threads in thread_counts():
        for kind, label in [("transformer", "nn.Transformer base (512, 8 heads, 6+6), B=8, S=T=64"),
                            ("lstm", "nn.LSTM 2 layers × 512, B=8, T=64")]:
            t = torch_run(kind, work, threads)
            version = t["torch"]
            forward, cpu, wall, rss = ckpt_run(ckpt, kind, work, threads)
            with np.load(work / f"{kind}.ckpt.npz") as got:
                error = float(np.abs(got[t["output"]] - np.load(work / f"{kind}.torch.npy")).max())
            ratio = forward / t["forward"]
            cpu_ratio = cpu / t["cpu"]
            rows.append([label, threads, f"{t['forward'] * 1e3:.0f} ms", f"{forward * 1e3:.0f} ms", f"{ratio:.2f}",
                         f"{t['cpu'] * 1e3:.0f} ms", f"{cpu * 1e3:.0f} ms", f"{cpu_ratio:.2f}",
                         f"wall {'met' if ratio <= GOAL else 'NOT met'}, CPU {'met' if cpu_ratio <= GOAL else 'NOT met'}",
                         f"{wall:.2f} s",
                         f"{rss / 1048576:.0f} MiB", f"{error:.1e}"])
    return "\n".join([
        "## Engine: `ckpt run` vs PyTorch forward pass",
        "",
        f"Same machine and thread count (torch.set_num_threads = OPENBLAS_NUM_THREADS), torch {version}, float32, "
        f"median of {REPEAT} forward passes (torch in one process after a warm-up; ckpt one cold pass per process, "
        "its `run_seconds` / `run_cpu_seconds`). Whole process adds reading the safetensors weights and writing "
        "the .npz. CPU time is the steadier figure on a shared machine; with 2 threads it includes OpenBLAS's "
        "spinning worker threads.",
        "",
        table(["model", "threads", "torch wall", "ckpt wall", "wall ratio", "torch CPU", "ckpt CPU", "CPU ratio",
               f"goal ≤ {GOAL}×", "ckpt whole process", "ckpt peak RSS", "max abs diff vs torch"], rows),
    ])


if __name__ == "__main__":
    standalone(run, "engine")

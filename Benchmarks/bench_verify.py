"""Verify: `ckpt verify` on a ~100M-parameter Transformer against its two forward passes.

Model: torch.nn.Transformer(d_model 768, 12 heads, 6 encoder + 6 decoder layers, FFN 3072),
seeded random weights, float32 (about 99M parameters). A is its state_dict as .safetensors,
B the same state_dict saved by torch.save (.pt): one function in two formats.

Measured with the same thread count (OPENBLAS_NUM_THREADS, default 1 for steadiness on a
shared machine; BENCH_THREADS=1,2 for more):
- `ckpt run` of A and of B on src, tgt [2, 64, 768]: the forward pass alone (`run_seconds`)
  and the whole process;
- `ckpt verify A B --heads 12 --batch 2 --length 64`: running and comparing every module
  and the whole model (`run_seconds`; assembling both models is `assemble_seconds`), and
  the whole process.

Goal: verify ≤ 2 × (forward A + forward B). By design verify runs A once (recording every
module's inputs and outputs), each of B's layers once on A's recorded inputs, and B's
whole model once: three forward passes, plus assembling both models.

    python3 Benchmarks/bench_verify.py --ckpt .build/release/ckpt [--work bench-work]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchutil import measure, table  # noqa: E402

GOAL = 2.0
REPEAT = 5
D_MODEL, HEADS, LAYERS, FFN = 768, 12, 6, 3072
BATCH, LENGTH = 2, 64
# nn.Transformer's own settings, which its state dict does not record.
NN_SETTINGS = ["--activation", "relu", "--no-norm-first", "--eps", "1e-5"]

MAKE_MODEL = r"""
import sys, json, numpy as np, torch
from safetensors.torch import save_file
folder, d, h, n, f, b, t = sys.argv[1], *map(int, sys.argv[2:8])
torch.manual_seed(0)
model = torch.nn.Transformer(d, h, n, n, f, dropout=0.0, batch_first=True).eval()
state = {k: v.contiguous() for k, v in model.state_dict().items()}
save_file(state, f"{folder}/transformer.safetensors")
torch.save(state, f"{folder}/transformer.pt")
rng = np.random.default_rng(0)
np.savez(f"{folder}/inputs.npz", src=rng.standard_normal((b, t, d), dtype=np.float32),
         tgt=rng.standard_normal((b, t, d), dtype=np.float32))
print(json.dumps({"parameters": sum(p.numel() for p in state.values())}))
"""


def make_model(work):
    marker = work / "model.json"
    if marker.exists() and (work / "transformer.pt").exists():
        return json.loads(marker.read_text())
    result = subprocess.run(
        [sys.executable, "-c", MAKE_MODEL, str(work), *map(str, [D_MODEL, HEADS, LAYERS, FFN, BATCH, LENGTH])],
        capture_output=True, text=True, check=True)
    info = json.loads(result.stdout.strip().splitlines()[-1])
    marker.write_text(json.dumps(info))
    return info


def ckpt_json(cmd, env, allowed=(0,)):
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode not in allowed:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {result.returncode}: {result.stderr}")
    return json.loads(result.stdout)


def run(ckpt, work):
    work = pathlib.Path(work)
    work.mkdir(parents=True, exist_ok=True)
    info = make_model(work)
    threads_list = [int(n) for n in os.environ.get("BENCH_THREADS", "1").split(",")]
    rows = []
    for threads in threads_list:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
        forward, cpu, process = {}, {}, {}
        for side, name in [("A", "transformer.safetensors"), ("B", "transformer.pt")]:
            cmd = [ckpt, "run", str(work / name), "--arch", "transformer", "--heads", str(HEADS), *NN_SETTINGS, "--inputs",
                   str(work / "inputs.npz"), "--output", str(work / f"out_{side}.npz"), "--json"]
            runs = [ckpt_json(cmd, env) for _ in range(REPEAT)]
            forward[side] = statistics.median(r["run_seconds"] for r in runs)
            cpu[side] = statistics.median(r["run_cpu_seconds"] for r in runs)
            process[side], _ = measure(cmd, repeat=1, env=env)
        verify_cmd = [ckpt, "verify", str(work / "transformer.safetensors"), str(work / "transformer.pt"),
                      "--arch", "transformer", "--heads", str(HEADS), *NN_SETTINGS, "--batch", str(BATCH), "--length",
                      str(LENGTH), "--json"]
        reports = [ckpt_json(verify_cmd, env, allowed=(0, 1)) for _ in range(REPEAT)]
        passed = all(r["passed"] for r in reports)
        modules = len(reports[0]["modules"])
        verify = statistics.median(r["run_seconds"] for r in reports)
        assemble = statistics.median(r["assemble_seconds"] for r in reports)
        verify_cpu = statistics.median(r["run_cpu_seconds"] for r in reports)
        cpu_ratio = verify_cpu / (cpu["A"] + cpu["B"])
        verify_process, rss = measure(verify_cmd, repeat=1, env=env)
        forwards = forward["A"] + forward["B"]
        ratio = verify / forwards
        process_ratio = verify_process / (process["A"] + process["B"])
        rows.append([
            threads, f"{forward['A']:.2f} s", f"{forward['B']:.2f} s", f"{assemble:.2f} s", f"{verify:.2f} s", f"{ratio:.2f}",
            f"{cpu['A'] + cpu['B']:.2f} s", f"{verify_cpu:.2f} s", f"{cpu_ratio:.2f}",
            f"wall {'met' if ratio <= GOAL else 'NOT met'}, CPU {'met' if cpu_ratio <= GOAL else 'NOT met'}",
            f"{process['A'] + process['B']:.2f} s",
            f"{verify_process:.2f} s", f"{process_ratio:.2f}", f"{rss / 1048576:.0f} MiB",
            f"{'pass' if passed else 'FAIL'} ({modules} modules)"])
    return "\n".join([
        "## Verify: `ckpt verify` vs the forward passes it checks",
        "",
        f"torch.nn.Transformer(d_model {D_MODEL}, {HEADS} heads, {LAYERS}+{LAYERS} layers, FFN {FFN}), "
        f"{info['parameters'] / 1e6:.1f}M parameters, float32; A = .safetensors, B = .pt of the same state_dict; "
        f"inputs src, tgt [{BATCH}, {LENGTH}, {D_MODEL}]. Forward = `ckpt run`'s `run_seconds` (median of {REPEAT}); "
        f"verify = `run_seconds` of `ckpt verify --json` (A traced, every B module on A's recorded inputs, "
        f"B whole, all comparisons; median of {REPEAT}), beside its `assemble_seconds` (building both models from "
        "their weights, which `ckpt run`'s `run_seconds` leaves out too). Whole-process figures add reading "
        "weights (and, for run, writing the outputs). CPU = processor time of the same spans (`run_cpu_seconds`), "
        "the steadier figure on a shared machine.",
        "",
        table(["threads", "forward A", "forward B", "verify: assemble both", "verify: run and compare", "verify / (A + B)", "CPU A + B", "CPU verify", "CPU ratio",
               f"goal ≤ {GOAL}×",
               "run A + run B process", "verify process", "process ratio", "verify peak RSS", "result"], rows),
    ])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--work", default="bench-work")
    a = parser.parse_args()
    print(run(a.ckpt, pathlib.Path(a.work) / "verify"))

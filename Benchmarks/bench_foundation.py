"""Foundation: convert a 1 GiB safetensors file to .npz, next to `cp` and to Python
(safetensors.numpy.load_file + numpy.savez) doing the same conversion."""
import pathlib
import subprocess
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchutil import drop_file, measure, mib, table, standalone  # noqa: E402

TENSORS = 16
PER_TENSOR = 64 << 20  # bytes: 16 x 64 MiB = 1 GiB


MAKE_INPUT = f"""
import sys, numpy as np
from safetensors.numpy import save_file
rng = np.random.default_rng(0)
save_file({{f"layer{{i}}.weight": rng.standard_normal({PER_TENSOR // 4}, dtype=np.float32).reshape(4096, -1)
           for i in range({TENSORS})}}, sys.argv[1])
"""


def make_input(path):
    # In a child process, so this process stays small: a forked child's peak RSS counts
    # the parent's pages, which would distort every measurement below.
    subprocess.run([sys.executable, "-c", MAKE_INPUT, str(path)], check=True)


PY_CONVERT = """
import sys, numpy as np
from safetensors.numpy import load_file
np.savez(sys.argv[2], **load_file(sys.argv[1]))
"""


def run(ckpt, work):
    src = work / "big.safetensors"
    make_input(src)
    size = src.stat().st_size
    out_cp = work / "copy.safetensors"
    out_ck = work / "out.npz"
    out_py = work / "py.npz"
    cp_t, cp_rss = measure(["cp", str(src), str(out_cp)])
    drop_file(out_cp)
    # ckpt makes its output durable (fsync before the atomic rename); `cp` does not.
    sync_t, sync_rss = measure(["sh", "-c", 'cp "$0" "$1" && sync "$1"', str(src), str(out_cp)])
    drop_file(out_cp)
    ck_t, ck_rss = measure([ckpt, "convert", str(src), str(out_ck), "--quiet"])
    py_t, py_rss = measure([sys.executable, "-c", PY_CONVERT, str(src), str(out_py)], repeat=1)
    # The outputs must agree: the benchmark is only meaningful if the work is the same.
    with np.load(out_ck) as a, np.load(out_py) as b:
        assert a.files == b.files or sorted(a.files) == sorted(b.files)
        for name in a.files:
            assert np.array_equal(a[name], b[name]), name
    for p in (out_ck, out_py):
        drop_file(p)
    largest = PER_TENSOR
    rows = [
        ["`cp`", f"{cp_t:.2f} s", f"{size / cp_t / 1e6:.0f} MB/s", mib(cp_rss), "1.00"],
        ["`cp` + `sync FILE` (durable, like ckpt)", f"{sync_t:.2f} s", f"{size / sync_t / 1e6:.0f} MB/s",
         mib(sync_rss), f"{sync_t / cp_t:.2f}"],
        ["`ckpt convert` → .npz", f"{ck_t:.2f} s", f"{size / ck_t / 1e6:.0f} MB/s", mib(ck_rss),
         f"{ck_t / cp_t:.2f}"],
        ["Python safetensors + `np.savez`", f"{py_t:.2f} s", f"{size / py_t / 1e6:.0f} MB/s", mib(py_rss),
         f"{py_t / cp_t:.2f}"],
    ]
    goal_time = "met" if ck_t <= 1.3 * cp_t else "NOT met"
    goal_rss = "met" if ck_rss <= (64 << 20) + largest else "NOT met"
    return "\n".join([
        "## Convert 1 GiB safetensors → .npz",
        "",
        f"Input: {TENSORS} F32 tensors of {mib(PER_TENSOR)} ({size / 2**30:.2f} GiB). Outputs of ckpt and Python "
        "compared equal.",
        "",
        table(["tool", "wall time", "throughput", "peak RSS", "time ÷ cp"], rows),
        "",
        f"- Goal ≤ 1.3 × `cp`: {goal_time} ({ck_t / cp_t:.2f} ×; {ck_t / sync_t:.2f} × a durable `cp` + `sync`).",
        f"- Goal peak RSS ≤ 64 MiB + largest tensor ({mib((64 << 20) + largest)}): {goal_rss} ({mib(ck_rss)}).",
        f"- Python reference: {py_t / ck_t:.1f} × slower than ckpt, {py_rss / max(ck_rss, 1):.1f} × the memory.",
    ])


if __name__ == "__main__":
    standalone(run, "foundation")

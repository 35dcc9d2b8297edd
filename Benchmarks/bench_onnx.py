"""ONNX: extract the weights of a 1 GiB `.onnx` model to safetensors, next to Python
(onnx.load + numpy_helper.to_array + safetensors.numpy.save_file) doing the same conversion.
The RSS goal of issue #18: ckpt's peak RSS ≤ 64 MiB + the largest tensor."""
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from benchutil import drop_file, measure, mib, table, standalone  # noqa: E402

TENSORS = 16
PER_TENSOR = 64 << 20  # bytes: 16 x 64 MiB = 1 GiB of float32 initializers, inline raw_data

MAKE_INPUT = f"""
import sys, numpy as np, onnx
from onnx import helper, numpy_helper
rng = np.random.default_rng(0)
inits = [numpy_helper.from_array(rng.standard_normal({PER_TENSOR // 4}, dtype=np.float32).reshape(4096, -1),
                                 name=f"layer{{i}}.weight") for i in range({TENSORS})]
graph = helper.make_graph([], "big", [], [], initializer=inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
with open(sys.argv[1], "wb") as f:
    f.write(model.SerializeToString())
"""

PY_CONVERT = """
import sys, onnx
from onnx import numpy_helper
from safetensors.numpy import save_file
model = onnx.load(sys.argv[1])
save_file({t.name: numpy_helper.to_array(t) for t in model.graph.initializer}, sys.argv[2])
"""


def run(ckpt, work):
    src = work / "big.onnx"
    # In a child process, so this process stays small (see bench_foundation).
    subprocess.run([sys.executable, "-c", MAKE_INPUT, str(src)], check=True)
    size = src.stat().st_size
    out_ck = work / "out.safetensors"
    out_py = work / "py.safetensors"
    ck_t, ck_rss = measure([ckpt, "convert", str(src), str(out_ck), "--quiet"])
    py_t, py_rss = measure([sys.executable, "-c", PY_CONVERT, str(src), str(out_py)], repeat=1)
    # The same work: both outputs are the safetensors library's layout of the same tensors.
    same = out_ck.read_bytes() == out_py.read_bytes()
    assert same, "ckpt and Python wrote different safetensors files"
    for p in (out_ck, out_py, src):
        drop_file(p)
    largest = PER_TENSOR
    rows = [
        ["`ckpt convert big.onnx out.safetensors`", f"{ck_t:.2f} s", f"{size / ck_t / 1e6:.0f} MB/s", mib(ck_rss),
         "1.00"],
        ["Python `onnx.load` + `numpy_helper` + safetensors", f"{py_t:.2f} s", f"{size / py_t / 1e6:.0f} MB/s",
         mib(py_rss), f"{py_t / ck_t:.2f}"],
    ]
    goal_rss = "met" if ck_rss <= (64 << 20) + largest else "NOT met"
    return "\n".join([
        "## Extract the weights of a 1 GiB ONNX model → safetensors",
        "",
        f"Input: a ModelProto of {TENSORS} F32 initializers of {mib(PER_TENSOR)} in `raw_data` "
        f"({size / 2**30:.2f} GiB), written by the onnx package. The two outputs are byte-identical.",
        "",
        table(["tool", "wall time", "throughput", "peak RSS", "time ÷ ckpt"], rows),
        "",
        f"- Goal peak RSS ≤ 64 MiB + largest tensor ({mib((64 << 20) + largest)}): {goal_rss} ({mib(ck_rss)}).",
        f"- Python reference: {py_t / ck_t:.1f} × slower than ckpt, {py_rss / max(ck_rss, 1):.1f} × the memory.",
    ])


if __name__ == "__main__":
    standalone(run, "onnx")

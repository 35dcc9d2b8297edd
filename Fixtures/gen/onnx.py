"""ONNX fixtures, written by torch.onnx.export (the TorchScript exporter) and the `onnx` package.

Files (in Fixtures/onnx/):
- lstm_bidir.onnx: torch.onnx.export(dynamo=False, opset 17) of nn.LSTM(5, 4, num_layers=2,
  bidirectional=True): two LSTM nodes, initializers W [2, 16, in], R [2, 16, 4], B [2, 32]
  (raw_data), graph input `x` [3, 2, 5], outputs `y`, `h_n`, `c_n`.
- gru.onnx: the same exporter on nn.GRU(5, 6) (one GRU node, linear_before_reset 1).
- external/model.onnx + external/weights.bin: an nn.Sequential(Linear(8, 16), ReLU, Linear(16, 4))
  exported, then onnx.save_model(save_as_external_data=True, all_tensors_to_one_file=True,
  location="weights.bin", size_threshold=64): tensors of 64 bytes and more in weights.bin,
  the 16-byte bias inline.
- typed.onnx: onnx.helper.make_model of a graph without nodes whose initializers cover every
  dtype ckpt reads, once as raw_data (numpy_helper.from_array) and once in the typed fields
  (helper.make_tensor(raw=False): float_data, int32_data for f16/bf16/int8/int16/uint8/bool,
  int64_data, double_data, uint64_data), plus a 0-d scalar and an empty tensor; producer_name,
  doc_string and metadata_props set.
- <name>.expected.npz: per .onnx file, every initializer as numpy_helper.to_array returns it
  (bfloat16 stored as its uint16 bits), keyed by initializer name.
- expected.json: per .onnx file, ir_version, producer_name, opset_import, graph inputs/outputs
  and op counts as onnx.load reports them.
"""
import json
import pathlib

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper


def _export(module, args, path, input_names, output_names):
    module.eval()
    torch.onnx.export(
        module, args, str(path), dynamo=False, opset_version=17,
        input_names=input_names, output_names=output_names, do_constant_folding=True)


def _arrays(model):
    out = {}
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t)
        if t.data_type == TensorProto.BFLOAT16:
            a = np.ascontiguousarray(a).view(np.uint16)
        out[t.name] = np.ascontiguousarray(a)
    return out


def _summary(model):
    ops = {}
    for n in model.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return {
        "ir_version": model.ir_version,
        "producer_name": model.producer_name,
        "opset_import": {o.domain or "ai.onnx": o.version for o in model.opset_import},
        "inputs": [i.name for i in model.graph.input],
        "outputs": [o.name for o in model.graph.output],
        "ops": ops,
        "initializers": {
            t.name: {"data_type": t.data_type, "dims": list(t.dims)} for t in model.graph.initializer},
        "metadata_props": {p.key: p.value for p in model.metadata_props},
    }


def _typed_model():
    rng = np.random.default_rng(20261208)
    inits = []
    values = {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f16": rng.standard_normal((2, 3)).astype(np.float16),
        "f64": rng.standard_normal((5,)).astype(np.float64),
        "i8": np.array([-128, -1, 0, 1, 127], dtype=np.int8),
        "u8": np.array([0, 1, 200, 255], dtype=np.uint8),
        "i16": np.array([-32768, -2, 3, 32767], dtype=np.int16),
        "i32": np.array([[-2147483648, -5], [7, 2147483647]], dtype=np.int32),
        "i64": np.array([-(2**63), -9, 11, 2**63 - 1], dtype=np.int64),
        "u16": np.array([0, 65535, 1234], dtype=np.uint16),
        "u32": np.array([0, 4294967295, 99], dtype=np.uint32),
        "u64": np.array([0, 2**64 - 1, 12345678901234], dtype=np.uint64),
        "bool": np.array([[True, False, True], [False, False, True]]),
    }
    for key, a in values.items():
        inits.append(numpy_helper.from_array(a, name=f"raw.{key}"))
        dtype = helper.np_dtype_to_tensor_dtype(a.dtype)
        inits.append(helper.make_tensor(f"typed.{key}", dtype, a.shape, a.flatten().tolist(), raw=False))
    bf16 = rng.standard_normal((2, 2)).astype(np.float32)
    inits.append(helper.make_tensor("typed.bf16", TensorProto.BFLOAT16, bf16.shape, bf16.flatten().tolist()))
    bf16_bits = (bf16.view(np.uint32) >> 16).astype(np.uint16)
    inits.append(helper.make_tensor("raw.bf16", TensorProto.BFLOAT16, bf16.shape, bf16_bits.tobytes(), raw=True))
    inits.append(numpy_helper.from_array(np.array(2.5, dtype=np.float32), name="scalar"))
    inits.append(numpy_helper.from_array(np.zeros((0, 3), dtype=np.float32), name="empty"))
    graph = helper.make_graph([], "typed", [], [], initializer=inits)
    model = helper.make_model(
        graph, producer_name="fixtures", producer_version="1", doc_string="every dtype ckpt reads",
        opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"purpose": "typed fields", "author": "Fixtures/gen/onnx.py"})
    onnx.checker.check_model(model)
    return model


def generate(out_dir):
    out_dir = pathlib.Path(out_dir)
    torch.manual_seed(20261208)
    expected = {}

    _export(torch.nn.LSTM(5, 4, num_layers=2, bidirectional=True), (torch.randn(3, 2, 5),),
            out_dir / "lstm_bidir.onnx", ["x"], ["y", "h_n", "c_n"])
    _export(torch.nn.GRU(5, 6), (torch.randn(3, 2, 5),), out_dir / "gru.onnx", ["x"], ["y", "h_n"])

    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    ext = out_dir / "external"
    ext.mkdir(exist_ok=True)
    for f in ext.iterdir():
        f.unlink()
    tmp = ext / "inline.onnx"
    _export(mlp, (torch.randn(2, 8),), tmp, ["x"], ["y"])
    model = onnx.load(str(tmp))
    tmp.unlink()
    onnx.save_model(model, str(ext / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=64)

    onnx.save_model(_typed_model(), str(out_dir / "typed.onnx"))

    for rel in ["lstm_bidir.onnx", "gru.onnx", "external/model.onnx", "typed.onnx"]:
        model = onnx.load(str(out_dir / rel))
        onnx.checker.check_model(model)
        expected[rel] = _summary(model)
        np.savez(out_dir / (rel[: -len(".onnx")] + ".expected.npz"), **_arrays(model))
    (out_dir / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")

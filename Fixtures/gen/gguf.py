"""GGUF and quantization fixtures, written by gguf-py (the `gguf` package, llama.cpp's Python library).

Files (in Fixtures/gguf/):
- all_types.gguf: GGUFWriter with one metadata key of every GGUF value type (u8 … f64, bool,
  string), arrays of numbers, bools and strings, a nested array, and tensors of every type ckpt
  reads (F32 1-D/2-D/3-D/4-D, F16, BF16, F64, I8, I16, I32, I64, Q8_0, Q4_0).
- aligned64.gguf: general.alignment = 64 (u32), three odd-sized tensors.
- quant_input.f32: the quantization input, raw little-endian float32, shape [QUANT_ROWS, QUANT_COLS]:
  seeded normal rows of varied scale plus edge rows (zeros, ties at .5, huge and tiny magnitudes,
  subnormals, a NaN and an infinity, equal ± maxima).
- quant_q8_0.bin / quant_q4_0.bin / quant_bf16.bin: gguf.quants.quantize of that array
  (bytes exactly as gguf-py produces them); quant_f16.bin: numpy astype(float16).
- models/transformer.safetensors: a torch nn.Transformer (d_model 32, 4 heads, 2 encoder and
  2 decoder layers, feed-forward 64; metadata config {"nhead": 4}) and models/seq2seq_lstm.safetensors:
  embedding + 1-layer LSTM encoder and decoder (hidden 32) + Linear projection, vocabulary 48: the
  fixture models of Docs/quantization.md (dimensions multiples of 32, so Q8_0/Q4_0 apply).
- expected.json: per .gguf file, the metadata (type and value as gguf-py's GGUFReader reports them)
  and per tensor its GGML type, numpy shape and the sha256 of the bytes GGUFReader returns.
"""
import hashlib
import json

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V

QUANT_ROWS = 40
QUANT_COLS = 256


def _quant_input():
    rng = np.random.default_rng(20261129)
    x = np.empty((QUANT_ROWS, QUANT_COLS), dtype=np.float32)
    for r in range(QUANT_ROWS):
        x[r] = rng.standard_normal(QUANT_COLS).astype(np.float32) * np.float32(10.0 ** rng.integers(-4, 5))
    x[0] = 0                                                   # all zeros
    x[1] = np.arange(QUANT_COLS, dtype=np.float32) % 17 - 8    # integers: ties at .5 after scaling
    x[2] = (np.arange(QUANT_COLS, dtype=np.float32) - 128) / 2  # halves
    x[3] = rng.standard_normal(QUANT_COLS).astype(np.float32) * np.float32(3e37)  # huge (fp16 scale = inf)
    x[4] = rng.standard_normal(QUANT_COLS).astype(np.float32) * np.float32(1e-30)  # tiny (fp16 scale = 0)
    x[5] = np.float32(1e-40) * (np.arange(QUANT_COLS) % 7 - 3)  # float32 subnormals
    x[6] = rng.standard_normal(QUANT_COLS).astype(np.float32)
    x[6, 5] = np.nan                                            # one NaN block
    x[6, 40] = np.inf                                           # one +inf block
    x[6, 70] = -np.inf
    x[7] = rng.standard_normal(QUANT_COLS).astype(np.float32)
    x[7, 0::32] = 2.0                                           # + and - maxima of equal magnitude
    x[7, 1::32] = -2.0
    x[7, 2::32] = -2.0
    x[8] = 65504.0 * 127 * (rng.random(QUANT_COLS).astype(np.float32) - 0.5) * 2  # fp16 scale near its max
    x[9] = -x[6]
    x[10] = 0
    x[10, ::3] = -0.0
    x[10, 7] = 1e-8
    return x


def _sha(data):
    return hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()


def _describe(path):
    reader = gguf.GGUFReader(path)
    fields = []
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        types = [V(t).name for t in field.types]
        fields.append({"key": name, "types": types, "value": _field_value(field)})
    tensors = []
    for t in reader.tensors:
        data = np.asarray(t.data)
        tensors.append({
            "name": t.name,
            "type": Q(t.tensor_type).name,
            "shape": [int(d) for d in reversed(t.shape.tolist())],
            "offset": int(t.data_offset),
            "nbytes": int(t.n_bytes),
            "sha256": _sha(data),
        })
    return {"alignment": int(reader.alignment), "data_offset": int(reader.data_offset), "fields": fields, "tensors": tensors}


def _field_value(field):
    value = field.contents()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return [repr(v) if isinstance(v, float) else v for v in value]
    return value


def _write_all_types(path):
    w = gguf.GGUFWriter(str(path), "ckpt-fixture")
    w.add_uint8("test.u8", 250)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 65000)
    w.add_int16("test.i16", -32000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.1)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo \"gguf\"\n")
    w.add_uint64("test.u64", 18446744073709551615)
    w.add_int64("test.i64", -9223372036854775808)
    w.add_float64("test.f64", 1.0 / 3.0)
    w.add_array("test.array.i32", [1, -2, 3])
    w.add_key_value("test.array.u8", [1, 2, 255], V.ARRAY, sub_type=V.UINT8)
    w.add_array("test.array.f32", [0.5, -1.25, 3.0e-5])
    w.add_array("test.array.string", ["a", "bc", "ü"])
    w.add_array("test.array.bool", [True, False, True])
    w.add_array("test.array.nested", [[1, 2], [3, 4, 5]])
    w.add_name("all types")

    rng = np.random.default_rng(7)
    w.add_tensor("f32.2d", rng.standard_normal((3, 5)).astype(np.float32))
    w.add_tensor("f32.1d", np.arange(7, dtype=np.float32))
    w.add_tensor("f32.3d", rng.standard_normal((2, 3, 4)).astype(np.float32))
    w.add_tensor("f32.4d", rng.standard_normal((2, 1, 3, 2)).astype(np.float32))
    w.add_tensor("f16", rng.standard_normal((4, 6)).astype(np.float16))
    bf16 = gguf.quants.quantize(rng.standard_normal((2, 8)).astype(np.float32), Q.BF16)
    w.add_tensor("bf16", bf16, raw_dtype=Q.BF16)
    w.add_tensor("f64", rng.standard_normal((3,)).astype(np.float64))
    w.add_tensor("i8", np.array([-128, 0, 127], dtype=np.int8))
    w.add_tensor("i16", np.array([[-32768, 1], [2, 32767]], dtype=np.int16))
    w.add_tensor("i32", np.array([-2147483648, 5, 2147483647], dtype=np.int32))
    w.add_tensor("i64", np.array([-(2 ** 63), 9, 2 ** 63 - 1], dtype=np.int64))
    weights = rng.standard_normal((4, 64)).astype(np.float32)
    w.add_tensor("q8_0", gguf.quants.quantize(weights, Q.Q8_0), raw_dtype=Q.Q8_0)
    w.add_tensor("q4_0", gguf.quants.quantize(weights, Q.Q4_0), raw_dtype=Q.Q4_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _write_aligned(path):
    w = gguf.GGUFWriter(str(path), "ckpt-fixture")
    w.add_custom_alignment(64)
    w.add_string("general.description", "alignment 64")
    w.add_tensor("a", np.arange(3, dtype=np.float32))
    w.add_tensor("b", np.arange(5, dtype=np.float16).reshape(5))
    w.add_tensor("c", np.arange(6, dtype=np.int8).reshape(2, 3))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _models(out_dir):
    try:
        import torch
        import torch.nn as nn
        from safetensors.torch import save_file
    except ImportError:
        print("warning: torch is not installed; skipping the quantization fixture models")
        return
    models = out_dir / "models"
    models.mkdir(exist_ok=True)
    torch.manual_seed(11)
    tr = nn.Transformer(32, 4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=64, dropout=0.0,
                        batch_first=True).eval()
    state = {k: v.detach().contiguous().clone() for k, v in tr.state_dict().items()}
    save_file(state, str(models / "transformer.safetensors"), metadata={"config": json.dumps({"nhead": 4})})

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(48, 32)
            self.lstm = nn.LSTM(32, 32, num_layers=1, batch_first=True)

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(48, 32)
            self.lstm = nn.LSTM(32, 32, num_layers=1, batch_first=True)
            self.out = nn.Linear(32, 48)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.decoder = Decoder()

    torch.manual_seed(12)
    s2s = Seq2Seq().eval()
    state = {k: v.detach().contiguous().clone() for k, v in s2s.state_dict().items()}
    save_file(state, str(models / "seq2seq_lstm.safetensors"))


def generate(out_dir):
    _models(out_dir)
    expected = {}
    _write_all_types(out_dir / "all_types.gguf")
    _write_aligned(out_dir / "aligned64.gguf")
    for name in ("all_types.gguf", "aligned64.gguf"):
        expected[name] = _describe(str(out_dir / name))

    x = _quant_input()
    (out_dir / "quant_input.f32").write_bytes(x.astype("<f4").tobytes())
    with np.errstate(all="ignore"):
        (out_dir / "quant_q8_0.bin").write_bytes(gguf.quants.quantize(x, Q.Q8_0).tobytes())
        (out_dir / "quant_q4_0.bin").write_bytes(gguf.quants.quantize(x, Q.Q4_0).tobytes())
        (out_dir / "quant_bf16.bin").write_bytes(gguf.quants.quantize(x, Q.BF16).tobytes())
        (out_dir / "quant_f16.bin").write_bytes(x.astype("<f2").tobytes())
    expected["quant"] = {"rows": QUANT_ROWS, "cols": QUANT_COLS, "gguf_version": getattr(gguf, "__version__", None)}
    (out_dir / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")

"""safetensors fixtures, written by the real `safetensors` and `huggingface_hub` libraries.

Files (in Fixtures/safetensors/):
- dtypes.safetensors: safetensors.numpy.save_file with F64/F32/F16/I64/I32/I16/I8/U8/BOOL,
  including a 0-d tensor, a zero-size tensor, special floats and a non-ASCII name.
- bf16.safetensors: safetensors.torch.save_file with BF16 (and F32), metadata {"format": "pt"}.
- metadata.safetensors: safetensors.numpy.save_file with several `__metadata__` entries
  (the Rust serializer writes them in HashMap order, so only their content is compared).
- sharded/: huggingface_hub.save_torch_state_dict of a tiny torch nn.Transformer
  (d_model 16, 2 encoder and 2 decoder layers) with max_shard_size="20KB".
- index_transformers.json: the sharded index plus awkward names, dumped the way transformers writes
  indexes (json.dumps(index, indent=2, sort_keys=True) + "\n"), to check ckpt's index writer.
- expected.json: per file, its metadata and per tensor dtype, shape and the sha256 of its bytes.
"""
import hashlib
import json
import pathlib
import shutil

import numpy as np


def _tensor_record(dtype, shape, data):
    return {"dtype": dtype, "shape": list(shape), "sha256": hashlib.sha256(data).hexdigest()}


def _describe(path):
    """Reads a file back with the library and records every tensor's dtype, shape and byte hash."""
    from safetensors import safe_open, deserialize

    raw = path.read_bytes()
    tensors = {name: _tensor_record(v["dtype"], v["shape"], bytes(v["data"])) for name, v in deserialize(raw)}
    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata() or {}
    return {"metadata": metadata, "tensors": tensors}


def _numpy_tensors():
    rng = np.random.default_rng(20260101)
    f32 = rng.standard_normal((3, 4)).astype(np.float32)
    f32.flat[0] = np.nan
    f32.flat[1] = np.inf
    f32.flat[2] = -np.inf
    f32.flat[3] = -0.0
    return {
        "layer.0.weight": f32,
        "layer.0.bias": rng.standard_normal(4).astype(np.float32),
        "double": rng.standard_normal((2, 3)),
        "half": rng.standard_normal((5,)).astype(np.float16),
        "scalar": np.array(3.25, dtype=np.float32),  # 0-d
        "empty": np.zeros((0, 3), dtype=np.float32),  # zero-size
        "i64": np.array([-(2**62), -1, 0, 2**62 + 5], dtype=np.int64),
        "i32": np.arange(-6, 6, dtype=np.int32).reshape(2, 2, 3),
        "i16": np.array([-32768, 32767, 7], dtype=np.int16),
        "i8": np.array([[-128, 127], [0, -1]], dtype=np.int8),
        "u8": np.arange(7, dtype=np.uint8),
        "mask": np.array([True, False, True, True]),
        "unicode.\u00e9": np.array([1, 2], dtype=np.uint8),
    }


def generate(out_dir: pathlib.Path):
    from safetensors.numpy import save_file as np_save

    files = {}

    np_save(_numpy_tensors(), str(out_dir / "dtypes.safetensors"))
    files["dtypes.safetensors"] = _describe(out_dir / "dtypes.safetensors")

    metadata = {"format": "np", "author": "CheckpointKit \"fixtures\"", "note": "line1\nline2 \u00e9"}
    np_save({"w": np.arange(6, dtype=np.float32).reshape(2, 3)}, str(out_dir / "metadata.safetensors"), metadata)
    files["metadata.safetensors"] = _describe(out_dir / "metadata.safetensors")

    import torch
    from safetensors.torch import save_file as torch_save

    gen = torch.Generator().manual_seed(7)
    torch_save(
        {
            "embed.weight": torch.randn(4, 3, generator=gen).to(torch.bfloat16),
            "norm.weight": torch.randn(3, generator=gen),
            "zero_bf16": torch.zeros(0, dtype=torch.bfloat16),
        },
        str(out_dir / "bf16.safetensors"),
        metadata={"format": "pt"},
    )
    files["bf16.safetensors"] = _describe(out_dir / "bf16.safetensors")

    from huggingface_hub import save_torch_state_dict

    torch.manual_seed(0)
    model = torch.nn.Transformer(
        d_model=16, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=32, dropout=0.0
    )
    sharded = out_dir / "sharded"
    shutil.rmtree(sharded, ignore_errors=True)
    sharded.mkdir()
    save_torch_state_dict(model.state_dict(), str(sharded), max_shard_size="20KB")
    index = json.loads((sharded / "model.safetensors.index.json").read_text())
    shards = {}
    for shard in sorted(set(index["weight_map"].values())):
        shards[shard] = _describe(sharded / shard)
    files["sharded"] = {
        "index": index,
        "order": list(model.state_dict().keys()),
        "shards": shards,
    }

    styled = {
        "metadata": {"total_size": index["metadata"]["total_size"]},
        "weight_map": {
            **index["weight_map"],
            "unicode.\u00e9/\u540d\U0001F600 \"q\" \\ \n\t\x01\x7f~": "model-00001-of-00003.safetensors",
        },
    }
    (out_dir / "index_transformers.json").write_text(json.dumps(styled, indent=2, sort_keys=True) + "\n")

    (out_dir / "expected.json").write_text(json.dumps(files, indent=1, sort_keys=True) + "\n")

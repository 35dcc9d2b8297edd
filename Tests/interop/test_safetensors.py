"""Files written by `ckpt` load with the real `safetensors` library, with identical values.

Run with CKPT pointing at the built CLI: `CKPT=.build/debug/ckpt python3 -m pytest Tests/interop`.
Needs only numpy and safetensors.
"""
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Fixtures" / "safetensors"
CKPT = os.environ.get("CKPT", str(ROOT / ".build" / "debug" / "ckpt"))


def ckpt(*args):
    result = subprocess.run([CKPT, *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def assert_same(actual, expected):
    assert sorted(actual) == sorted(expected)
    for name, array in expected.items():
        assert actual[name].dtype == array.dtype, name
        assert actual[name].shape == array.shape, name
        assert actual[name].tobytes() == array.tobytes(), name


def sample_tensors():
    rng = np.random.default_rng(5)
    return {
        "model.embed_tokens.weight": rng.standard_normal((64, 32)).astype(np.float32),
        "model.layers.0.mlp.up_proj.weight": rng.standard_normal((48, 32)).astype(np.float16),
        "model.layers.0.input_layernorm.weight": np.ones(32, dtype=np.float64),
        "counts": np.arange(-5, 5, dtype=np.int64),
        "flags": np.array([True, False, True]),
        "scalar": np.array(1.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.int16),
        "bytes": np.arange(256, dtype=np.uint8),
    }


def test_single_file_round_trip_is_byte_identical(tmp_path):
    tensors = sample_tensors()
    source = tmp_path / "source.safetensors"
    save_file(tensors, str(source), metadata={"format": "pt"})
    out = tmp_path / "copy.safetensors"
    ckpt("convert", "-q", source, out)
    assert out.read_bytes() == source.read_bytes()
    assert_same(load_file(str(out)), tensors)


def test_fixture_rewrite_loads_with_identical_values(tmp_path):
    for name in ["dtypes.safetensors", "bf16.safetensors", "metadata.safetensors"]:
        out = tmp_path / name
        ckpt("convert", "-q", FIXTURES / name, out)
        if name != "bf16.safetensors":  # numpy has no bfloat16
            assert_same(load_file(str(out)), load_file(str(FIXTURES / name)))
        from safetensors import safe_open

        with safe_open(str(out), framework="numpy") as f, safe_open(str(FIXTURES / name), framework="numpy") as g:
            assert f.metadata() == g.metadata()


def test_sharded_write_loads_shard_by_shard(tmp_path):
    tensors = sample_tensors()
    source = tmp_path / "source.safetensors"
    save_file(tensors, str(source))
    index = tmp_path / "out" / "model.safetensors.index.json"
    ckpt("convert", "-q", source, index, "--shard-size", "4KB")
    data = json.loads(index.read_text())
    text = index.read_text()
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    shards = sorted(set(data["weight_map"].values()))
    assert len(shards) > 1
    assert shards == [f"model-{i:05d}-of-{len(shards):05d}.safetensors" for i in range(1, len(shards) + 1)]
    loaded = {}
    for shard in shards:
        part = load_file(str(index.parent / shard))
        assert all(data["weight_map"][name] == shard for name in part)
        loaded.update(part)
    assert_same(loaded, tensors)
    assert data["metadata"]["total_size"] == sum(a.nbytes for a in tensors.values())


def test_hub_sharded_checkpoint_merges_into_one_file(tmp_path):
    out = tmp_path / "merged.safetensors"
    ckpt("convert", "-q", FIXTURES / "sharded" / "model.safetensors.index.json", out)
    merged = load_file(str(out))
    expected = {}
    for shard in sorted((FIXTURES / "sharded").glob("*.safetensors")):
        expected.update(load_file(str(shard)))
    assert_same(merged, expected)


def test_sharded_write_matches_huggingface_hub_loader(tmp_path):
    torch = pytest.importorskip("torch")
    if os.environ.get("CKPT_HEAVY") != "1":
        pytest.skip("set CKPT_HEAVY=1 to run the torch check")
    from huggingface_hub import load_torch_model

    torch.manual_seed(0)
    model = torch.nn.Transformer(
        d_model=16, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=32, dropout=0.0
    )
    source = tmp_path / "model.safetensors"
    from safetensors.torch import save_file as torch_save

    torch_save(model.state_dict(), str(source))
    out = tmp_path / "sharded"
    ckpt("convert", "-q", source, out / "model.safetensors.index.json", "--shard-size", "20KB")
    torch.manual_seed(1)
    other = torch.nn.Transformer(
        d_model=16, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=32, dropout=0.0
    )
    load_torch_model(other, str(out))
    for name, tensor in model.state_dict().items():
        assert torch.equal(other.state_dict()[name], tensor), name

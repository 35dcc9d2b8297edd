"""PyTorch interop: files written by `ckpt` load in torch.load(weights_only=True) with identical values.

The torch checks are heavy: they run only with CKPT_HEAVY=1 (`make interop`). The malicious-corpus
check needs only the CLI.
"""
import pathlib
import zipfile

import pytest

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "Fixtures" / "pytorch"
STATE_DICTS = ["lstm", "gru", "transformer", "seq2seq", "views", "dtypes", "nested"]
heavy = pytest.mark.heavy  # conftest.py skips these unless CKPT_HEAVY=1


def flatten(obj, prefix=""):
    """Tensors at any depth by dotted path, as ckpt names them."""
    import torch
    out = {}
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}.{i}" if prefix else str(i)))
    return out


def assert_identical(expected, actual):
    import torch
    assert list(expected) == list(actual)
    for name, tensor in expected.items():
        other = actual[name]
        assert other.dtype == tensor.dtype and other.shape == tensor.shape, name
        assert torch.equal(other, tensor), name


@heavy
@pytest.mark.parametrize("name", STATE_DICTS)
def test_convert_pt_to_pt_loads_with_weights_only(ckpt, name, tmp_path):
    torch = pytest.importorskip("torch")
    out = tmp_path / f"{name}.pt"
    ckpt("convert", FIXTURES / f"{name}.pt", out, "--quiet")
    original = flatten(torch.load(FIXTURES / f"{name}.pt", weights_only=True))
    assert_identical(original, torch.load(out, weights_only=True))
    assert_identical(original, torch.load(out, weights_only=True, mmap=True))
    with zipfile.ZipFile(out) as z:
        for info in z.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            assert z.open(info).read() is not None  # CRC-32 checked by zipfile


@heavy
def test_shared_storage_is_written_once(ckpt, tmp_path):
    torch = pytest.importorskip("torch")
    out = tmp_path / "views.pt"
    ckpt("convert", FIXTURES / "views.pt", out, "--quiet")
    loaded = torch.load(out, weights_only=True)
    assert loaded["base"].untyped_storage().data_ptr() == loaded["alias"].untyped_storage().data_ptr()
    with zipfile.ZipFile(out) as z:
        records = [n for n in z.namelist() if n.startswith("archive/data/")]
    assert len(records) == len(loaded) - 1  # base and alias share one record


@heavy
def test_key_model_gives_a_loadable_state_dict(ckpt, tmp_path):
    torch = pytest.importorskip("torch")
    out = tmp_path / "model.pt"
    ckpt("convert", FIXTURES / "nested.pt", out, "--key", "model", "--quiet")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    model.load_state_dict(torch.load(out, weights_only=True), strict=True)
    expected = torch.load(FIXTURES / "nested.pt", weights_only=True)["model"]
    assert_identical(expected, model.state_dict())


@heavy
def test_pt_to_safetensors_to_pt_is_exact(ckpt, tmp_path):
    torch = pytest.importorskip("torch")
    middle = tmp_path / "model.safetensors"
    out = tmp_path / "back.pt"
    ckpt("convert", FIXTURES / "transformer.pt", middle, "--quiet")
    ckpt("convert", middle, out, "--quiet")
    expected = flatten(torch.load(FIXTURES / "transformer.pt", weights_only=True))
    actual = torch.load(out, weights_only=True)
    assert sorted(expected) == sorted(actual)  # safetensors orders tensors by name
    assert_identical(expected, {name: actual[name] for name in expected})


def test_malicious_corpus_is_refused_and_nothing_runs(ckpt):
    sentinel = pathlib.Path("/tmp/ckpt-pytorch-malicious-sentinel")
    sentinel.unlink(missing_ok=True)
    for path in sorted((FIXTURES / "malicious").glob("*.pt")):
        result = ckpt("inspect", path, check=False)
        assert result.returncode == 1, path
        assert "refused" in result.stderr, result.stderr
    assert not sentinel.exists()

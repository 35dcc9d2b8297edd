"""Interop: files `ckpt convert` writes load in numpy with identical arrays and dtypes (numpy only)."""
import io
import json
import pathlib
import zipfile

import numpy as np
import pytest

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "Fixtures" / "numpy"
NPY_FILES = sorted(p.name for p in FIXTURES.glob("*.npy"))


def canonical(array):
    """What CheckpointKit stores: C order, little-endian (void BF16 kept as is)."""
    array = np.array(array, order="C", copy=True)  # ascontiguousarray would make 0-d arrays 1-d
    if array.dtype.kind != "V" and array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return array


def assert_same(actual, expected, what):
    expected = canonical(expected)
    assert actual.dtype == expected.dtype, what
    assert actual.shape == expected.shape, what
    assert actual.tobytes() == expected.tobytes(), what


def load_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.mark.parametrize("source", ["savez.npz", "savez_compressed.npz", "zip64.npz", "streamed.npz"])
@pytest.mark.parametrize("compress", [None, "none", "zlib:6", "zlib:9"])
def test_npz_to_npz(ckpt, tmp_path, source, compress):
    out = tmp_path / "out.npz"
    ckpt("convert", FIXTURES / source, out, *(["--compress", compress] if compress else []))
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
        expected_method = zipfile.ZIP_DEFLATED if compress and compress.startswith("zlib") else zipfile.ZIP_STORED
        assert {info.compress_type for info in archive.infolist()} == {expected_method}
    original = load_npz(FIXTURES / source)
    converted = load_npz(out)
    assert list(converted) == list(original)
    for name, array in original.items():
        assert_same(converted[name], array, name)


@pytest.mark.parametrize("name", NPY_FILES)
def test_npy_to_npz(ckpt, tmp_path, name):
    out = tmp_path / "out.npz"
    ckpt("convert", FIXTURES / name, out, "--compress", "zlib:6")
    converted = load_npz(out)
    stem = name[: -len(".npy")]
    assert list(converted) == [stem]
    assert_same(converted[stem], np.load(FIXTURES / name, allow_pickle=False), name)


@pytest.mark.parametrize("name", NPY_FILES)
def test_npy_to_npy_is_np_save(ckpt, tmp_path, name):
    out = tmp_path / name
    ckpt("convert", FIXTURES / name, out)
    array = np.load(FIXTURES / name, allow_pickle=False)
    if array.dtype.kind == "V":
        # np.load gives bfloat16 back as |V2; the file numpy + ml_dtypes wrote says <V2, as ours does.
        assert out.read_bytes() == (FIXTURES / name).read_bytes()
        return
    expected = io.BytesIO()
    np.save(expected, canonical(array))
    assert out.read_bytes() == expected.getvalue()


def test_npz_back_to_npy_round_trip(ckpt, tmp_path):
    ckpt("convert", FIXTURES / "bf16.npy", tmp_path / "bf16.npz")
    ckpt("convert", tmp_path / "bf16.npz", tmp_path / "bf16.npy")
    assert (tmp_path / "bf16.npy").read_bytes() == (FIXTURES / "bf16.npy").read_bytes()


def test_inspect_matches_numpy(ckpt):
    report = json.loads(ckpt("inspect", "--json", FIXTURES / "savez_compressed.npz").stdout)
    assert report["format"] == "npz"
    original = load_npz(FIXTURES / "savez_compressed.npz")
    assert [t["name"] for t in report["tensors"]] == list(original)
    for tensor in report["tensors"]:
        array = original[tensor["name"]]
        assert tensor["shape"] == list(array.shape)
        assert tensor["bytes"] == array.nbytes


def test_zip_that_is_not_npz_is_refused(ckpt, tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    result = ckpt("inspect", path, check=False)
    assert result.returncode == 1
    assert "archive/data.pkl" in result.stderr


def test_large_arrays_round_trip(ckpt, tmp_path):
    rng = np.random.default_rng(1)
    arrays = {"big": rng.standard_normal((1024, 1536), dtype=np.float32), "small": np.arange(3)}
    np.savez(tmp_path / "in.npz", **arrays)
    ckpt("convert", tmp_path / "in.npz", tmp_path / "out.npz")
    with zipfile.ZipFile(tmp_path / "out.npz") as archive:
        assert archive.testzip() is None
    converted = load_npz(tmp_path / "out.npz")
    for name, array in arrays.items():
        assert_same(converted[name], array, name)

"""HDF5 files written by `ckpt` read back in h5py, tf_keras and Keras 3 with identical values.

Light checks need only numpy and h5py. The Keras checks (`load_weights` into a model
of the same structure) run when CKPT_HEAVY=1 and tf_keras / keras are installed; each
framework runs in its own subprocess because tf_keras and Keras 3 cannot share one.

    CKPT=.build/debug/ckpt python3 -m pytest Tests/interop/test_hdf5.py
"""
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Fixtures" / "hdf5"
CKPT = os.environ.get("CKPT", str(ROOT / ".build" / "debug" / "ckpt"))
HEAVY = pytest.mark.skipif(os.environ.get("CKPT_HEAVY") != "1", reason="set CKPT_HEAVY=1 for Keras checks")


def ckpt(*args):
    result = subprocess.run([CKPT, *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def datasets(path):
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: found.setdefault(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return found


def numeric(values):
    return {k: v for k, v in values.items() if isinstance(v, np.ndarray | np.generic) and v.dtype.kind in "fiub"}


@pytest.mark.parametrize("compress", [None, "zlib:4"])
def test_h5py_reads_our_generic_file(tmp_path, compress):
    out = tmp_path / "copy.h5"
    ckpt("convert", FIXTURES / "h5py_types.h5", out, *(["--compress", compress] if compress else []))
    original = numeric(datasets(FIXTURES / "h5py_types.h5"))
    ours = datasets(out)
    assert sorted(ours) == sorted(original)
    for name, value in original.items():
        value = np.asarray(value)
        got = np.asarray(ours[name])
        assert got.dtype == value.dtype.newbyteorder("<"), name
        assert got.dtype.byteorder in "<=|", name
        assert got.shape == value.shape, name
        assert got.tobytes() == value.astype(got.dtype).tobytes(), name
    with h5py.File(out, "r") as f:
        assert f.attrs["title"] == "fixed string"
        assert f.attrs["comment"] == "variable length \u00e9"
        ds = f["chunked/gzip_shuffle_fletcher32"]
        if compress:
            assert ds.compression == "gzip" and ds.compression_opts == 4 and ds.shuffle
        else:
            assert ds.compression is None


def test_h5py_reads_our_keras_layouts(tmp_path):
    for name in ["keras2_weights.h5", "keras3_bf16.weights.h5"]:
        out = tmp_path / name
        ckpt("convert", FIXTURES / name, out)
        original, ours = datasets(FIXTURES / name), datasets(out)
        if name.startswith("keras2"):
            with h5py.File(out, "r") as f:
                assert list(f.attrs["layer_names"]) == ["embedding", "lstm", "gru", "bidirectional", "dense"]
        assert sorted(ours) == sorted(original)
        for key, value in original.items():
            assert np.asarray(ours[key]).tobytes() == np.asarray(value).tobytes(), key


def test_inspect_json_lists_full_paths():
    report = json.loads(ckpt("inspect", "--json", FIXTURES / "keras2_model.h5").stdout)
    assert report["format"] == "keras"
    assert report["tensors"][0]["name"] == "embedding/embedding/embeddings:0"
    expected = json.loads((FIXTURES / "expected.json").read_text())["keras2_model.h5"]["tensors"]
    assert [t["name"] for t in report["tensors"]] == list(expected)


def run_python(code, **env):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", **env))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@HEAVY
def test_tf_keras_loads_our_keras2_files(tmp_path):
    pytest.importorskip("tf_keras")
    once, twice, from_full = tmp_path / "once.h5", tmp_path / "twice.h5", tmp_path / "from_full.h5"
    ckpt("convert", FIXTURES / "keras2_weights.h5", once)
    ckpt("convert", once, twice)                      # h5 -> h5 -> h5
    ckpt("convert", FIXTURES / "keras2_model.h5", from_full)  # full model -> weights file
    run_python(f"""
        import numpy as np, tf_keras as keras
        full = {str(FIXTURES / "keras2_model.h5")!r}
        reference = keras.models.load_model(full)
        x = np.random.default_rng(1).integers(0, 20, size=(3, 5))
        expected = reference.predict(x, verbose=0)
        for path in [{str(once)!r}, {str(twice)!r}, {str(from_full)!r}]:
            model = keras.models.load_model(full)
            model.set_weights([np.zeros_like(w) for w in model.get_weights()])
            model.load_weights(path)
            for a, b in zip(model.get_weights(), reference.get_weights()):
                assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), path
            assert np.array_equal(model.predict(x, verbose=0), expected), path
        print("ok")
    """, TF_USE_LEGACY_KERAS="1")


@HEAVY
@pytest.mark.parametrize("name", ["keras3_lstm_mha", "keras3_hub", "keras3_bf16"])
def test_keras3_loads_our_weights_files(tmp_path, name):
    pytest.importorskip("keras")
    pytest.importorskip("keras_hub")
    once, twice = tmp_path / "once.weights.h5", tmp_path / "twice.weights.h5"
    ckpt("convert", FIXTURES / f"{name}.weights.h5", once)
    ckpt("convert", once, twice)
    run_python(f"""
        import numpy as np, keras, keras_hub
        config = open({str(FIXTURES / (name + ".json"))!r}).read()
        reference = keras.models.model_from_json(config)
        reference.load_weights({str(FIXTURES / (name + ".weights.h5"))!r})
        for path in [{str(once)!r}, {str(twice)!r}]:
            model = keras.models.model_from_json(config)
            model.load_weights(path)
            for a, b in zip(model.get_weights(), reference.get_weights()):
                assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), path
        print("ok")
    """, KERAS_BACKEND="tensorflow")

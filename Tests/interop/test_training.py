"""Training checkpoints through `ckpt`: a tf.keras full model's optimizer state survives a trip
through safetensors back to HDF5 (h5py sees the same datasets; tf_keras loads the weights), and
`ckpt inspect` counts only the framework's own weights as parameters.

    CKPT=.build/debug/ckpt python3 -m pytest Tests/interop/test_training.py
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
FIXTURES = ROOT / "Fixtures" / "training"



def datasets(path, group):
    found = {}
    with h5py.File(path, "r") as f:
        f[group].visititems(lambda n, o: found.setdefault(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return found


def test_parameters_are_the_frameworks_weights(ckpt):
    expected = json.loads((FIXTURES / "expected.json").read_text())
    for name, weights in expected.items():
        report = json.loads(ckpt("inspect", "--json", FIXTURES / name).stdout)
        assert report["parameters"] == sum(weights.values()), name
        assert report["training_state"] > 0, name


def test_optimizer_state_survives_safetensors_and_back(ckpt, tmp_path):
    middle, back = tmp_path / "k.safetensors", tmp_path / "back.h5"
    ckpt("convert", FIXTURES / "keras2_full.h5", middle)
    ckpt("convert", middle, back)
    original = datasets(FIXTURES / "keras2_full.h5", "optimizer_weights")
    ours = datasets(back, "optimizer_weights")
    assert sorted(ours) == sorted(original)
    for key, value in original.items():
        assert ours[key].dtype == value.dtype and ours[key].tobytes() == value.tobytes(), key


@pytest.mark.heavy
def test_tf_keras_loads_the_weights_back(ckpt, tmp_path):
    pytest.importorskip("tf_keras")
    middle, back = tmp_path / "k.safetensors", tmp_path / "back.h5"
    ckpt("convert", FIXTURES / "keras2_full.h5", middle)
    ckpt("convert", middle, back)
    script = textwrap.dedent(f"""
        import numpy as np, tf_keras as keras
        reference = keras.models.load_model({str(FIXTURES / "keras2_full.h5")!r})
        model = keras.models.load_model({str(FIXTURES / "keras2_full.h5")!r})
        for w in model.weights:
            w.assign(np.zeros(w.shape, w.dtype.as_numpy_dtype))
        model.load_weights({str(back)!r})
        for a, b in zip(model.get_weights(), reference.get_weights()):
            assert a.tobytes() == b.tobytes()
        print("ok")
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]


@pytest.mark.heavy
def test_layer_order_survives_a_layout_round_trip_through_safetensors(ckpt, tmp_path):
    """Two same-shaped Dense layers whose names sort the other way: Keras 2 -> PyTorch layout in
    safetensors (which sorts names) -> Keras 2. tf_keras loads weights by layer position, so a
    lost order would swap them silently."""
    pytest.importorskip("tf_keras")
    build = ("keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, name='z_first'), "
             "keras.layers.Dense(4, name='a_second')])")
    source, middle, back = tmp_path / "two.h5", tmp_path / "two.safetensors", tmp_path / "back.h5"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    make = textwrap.dedent(f"""
        import numpy as np, tf_keras as keras
        keras.utils.set_random_seed(1)
        model = {build}
        model.save_weights({str(source)!r})
        x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
        np.save({str(tmp_path / "x.npy")!r}, x)
        np.save({str(tmp_path / "y.npy")!r}, model(x).numpy())
    """)
    subprocess.run([sys.executable, "-c", make], check=True, capture_output=True, env=env)
    ckpt("convert", source, middle, "--layout", "pytorch")
    ckpt("convert", middle, back, "--layout", "keras")
    check = textwrap.dedent(f"""
        import numpy as np, tf_keras as keras
        model = {build}
        model.load_weights({str(back)!r})
        y = model(np.load({str(tmp_path / "x.npy")!r})).numpy()
        assert np.array_equal(y, np.load({str(tmp_path / "y.npy")!r})), np.abs(y - np.load({str(tmp_path / "y.npy")!r})).max()
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]

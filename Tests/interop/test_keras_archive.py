"""`.keras` archives written by `ckpt` load in Keras 3 (`keras.saving.load_model`) and compute
what the original model computes.

The archives come back from a conversion: `.keras` → PyTorch layout in safetensors (the model's
config travels in the file's metadata) → `.keras`. Heavy (needs keras and keras_hub): runs with
CKPT_HEAVY=1 (`make interop`), in a subprocess with KERAS_BACKEND=tensorflow.

    CKPT=.build/debug/ckpt CKPT_HEAVY=1 python3 -m pytest Tests/interop/test_keras_archive.py
"""
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Fixtures" / "keras_archive"



@pytest.mark.heavy
@pytest.mark.parametrize("name", ["encoder", "lstm"])
def test_keras_loads_our_archive(ckpt, tmp_path, name):
    pytest.importorskip("keras")
    pytest.importorskip("keras_hub")
    middle, back = tmp_path / f"{name}.safetensors", tmp_path / f"{name}.keras"
    ckpt("convert", FIXTURES / f"{name}.keras", middle, "--layout", "pytorch")
    ckpt("convert", middle, back, "--layout", "keras3")
    script = textwrap.dedent(f"""
        import numpy as np, keras, keras_hub
        reference = keras.saving.load_model({str(FIXTURES / (name + ".keras"))!r})
        model = keras.saving.load_model({str(back)!r})
        assert [w.shape for w in model.get_weights()] == [w.shape for w in reference.get_weights()]
        for a, b in zip(model.get_weights(), reference.get_weights()):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
        if {name!r} == "encoder":
            x = np.load({str(FIXTURES / "encoder.inputs.npz")!r})["x"]
            y = x
            for layer in model.layers[2:]:
                y = layer(y)
            expected = np.load({str(FIXTURES / "encoder.outputs.npz")!r})["y"]
        else:
            x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
            y, expected = model(x), reference(x)
        assert np.abs(np.asarray(y) - np.asarray(expected)).max() <= 1e-6
        print("ok")
    """)
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]

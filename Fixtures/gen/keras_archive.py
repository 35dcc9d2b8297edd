"""Keras 3 `.keras` archives, as `model.save("m.keras")` writes them.

Into Fixtures/keras_archive/ (run in a subprocess with KERAS_BACKEND=tensorflow):

- `encoder.keras`: a functional model of two keras_hub TransformerEncoder layers with settings
  only the archive's config.json can tell (gelu, normalize_first=True, layer_norm_epsilon=1e-6),
  preceded by a Dense layer whose own activation (relu) must not be taken for theirs;
  `encoder.inputs.npz` (x: the encoder stack's input, the Dense layer's output) and
  `encoder.outputs.npz` (y: what Keras computes from there);
- `encoder_weights_only.weights.h5`: the same weights without the config (`save_weights`);
- `lstm.keras`: a Sequential LSTM, whose weights need no settings.
"""
import os
import pathlib
import subprocess
import sys

SCRIPT = r'''
import sys, pathlib
import numpy as np
import keras, keras_hub
out = pathlib.Path(sys.argv[1])
keras.utils.set_random_seed(3)
B, S, E = 2, 5, 8
inp = keras.Input((S, 4))
x = keras.layers.Dense(E, activation="relu", name="project")(inp)
for _ in range(2):
    x = keras_hub.layers.TransformerEncoder(intermediate_dim=16, num_heads=2, dropout=0.0, activation="gelu",
                                            normalize_first=True, layer_norm_epsilon=1e-6)(x)
model = keras.Model(inp, x)
for w in model.weights:
    if "gamma" in w.path or "beta" in w.path or w.path.endswith("bias"):
        w.assign(np.random.default_rng(len(w.path)).normal(0, 0.3, w.shape).astype("float32")
                 + (1.0 if "gamma" in w.path else 0.0))
model.save(str(out / "encoder.keras"))
model.save_weights(str(out / "encoder_weights_only.weights.h5"))
data = np.random.default_rng(4).normal(size=(B, S, 4)).astype("float32")
hidden = model.get_layer("project")(data)
y = hidden
for layer in model.layers[2:]:
    y = layer(y)
np.savez(out / "encoder.inputs.npz", x=np.asarray(hidden, dtype=np.float32))
np.savez(out / "encoder.outputs.npz", y=np.asarray(y, dtype=np.float32))
lstm = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4, return_sequences=True)])
lstm.save(str(out / "lstm.keras"))
'''


def generate(out: pathlib.Path):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env, check=True)

"""Training checkpoints: what frameworks save beside the model's weights.

Into Fixtures/training/:

- `keras2_full.h5`: a tf_keras Sequential (Embedding, LSTM, Dense) compiled with Adam, fit for
  two steps, saved whole with `model.save(..., save_format="h5")`: `model_weights/` plus the
  `optimizer_weights/` group (the iteration count and Adam's m and v for every weight);
- `keras3_fit.weights.h5`: a Keras 3 model of the same shape after two steps of `fit`, saved with
  `save_weights`: `layers/...` plus `optimizer/vars/N`;
- `torch_training.pt`: `torch.save({"model": state_dict, "optimizer": adam.state_dict(),
  "epoch": 3})` of an nn.LSTM after two Adam steps (the optimizer's state holds `step` and
  `exp_avg`/`exp_avg_sq` per parameter, its `param_groups` plain numbers and lists);
- `expected.json`: for each file, the tensors the framework counts as the model's weights, and
  their element count.
"""
import json
import os
import pathlib
import subprocess
import sys

# One model, fitted the same way by tf_keras and by Keras 3; {keras}, {save} and {name} differ.
KERAS = r'''
import sys, json, pathlib
import numpy as np
import {keras} as keras
out = pathlib.Path(sys.argv[1])
keras.utils.set_random_seed(5)
model = keras.Sequential([keras.Input((6,)), keras.layers.Embedding(20, 4), keras.layers.LSTM(3),
                          keras.layers.Dense(2)])
model.compile(optimizer="adam", loss="mse")
x = np.random.default_rng(1).integers(0, 20, (8, 6)); y = np.random.default_rng(2).normal(size=(8, 2))
model.fit(x, y, epochs=1, batch_size=4, verbose=0)
{save}
print(json.dumps({{w.{name}: int(np.prod(w.shape)) for w in model.weights}}))
'''
KERAS2 = KERAS.format(keras="tf_keras", save='model.save(str(out / "keras2_full.h5"), save_format="h5")', name="name")
KERAS3 = KERAS.format(keras="keras", save='model.save_weights(str(out / "keras3_fit.weights.h5"))', name="path")


def torch_checkpoint(out: pathlib.Path):
    import torch
    torch.manual_seed(5)
    lstm = torch.nn.LSTM(4, 3, batch_first=True)
    adam = torch.optim.Adam(lstm.parameters(), lr=0.01)
    for _ in range(2):
        adam.zero_grad()
        lstm(torch.randn(2, 5, 4))[0].sum().backward()
        adam.step()
    torch.save({"model": lstm.state_dict(), "optimizer": adam.state_dict(), "epoch": 3},
               out / "torch_training.pt")
    return {name: int(p.numel()) for name, p in lstm.state_dict().items()}


def keras_run(script: str, out: pathlib.Path) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    result = subprocess.run([sys.executable, "-c", script, str(out)], env=env, check=True,
                            capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def generate(out: pathlib.Path):
    expected = {
        "keras2_full.h5": keras_run(KERAS2, out),
        "keras3_fit.weights.h5": keras_run(KERAS3, out),
        "torch_training.pt": torch_checkpoint(out),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")

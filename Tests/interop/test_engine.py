"""`ckpt run` against the frameworks' own outputs (numpy only: the outputs are committed).

Every model in Fixtures/engine (saved by PyTorch, tf_keras, Keras 3 + keras_hub, HF transformers)
is run with the arguments in its NAME.json; every output must match the framework's within
1e-5 (max abs error). `python3 Tests/interop/test_engine.py [CKPT]` prints the table that
Docs/parity.md holds.
"""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENGINE = ROOT / "Fixtures" / "engine"
TOLERANCE = 1e-5
EXTENSIONS = [".safetensors", ".pt", ".weights.h5", ".h5"]


def cases():
    for spec in sorted(ENGINE.glob("*.json")):
        meta = json.loads(spec.read_text())
        for ext in EXTENSIONS:
            model = ENGINE / (spec.stem + ext)
            if model.exists():
                yield spec.stem, model, meta


def run_case(ckpt_path, name, model, meta, out_dir):
    out = pathlib.Path(out_dir) / f"{model.name}.npz"
    cmd = [ckpt_path, "run", str(model), "--arch", meta["arch"], "--inputs", str(ENGINE / f"{name}.inputs.npz"),
           "--output", str(out), *meta["flags"]]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    errors = {}
    with np.load(ENGINE / f"{name}.outputs.npz") as want, np.load(out) as got:
        assert sorted(want.files) == sorted(got.files)
        for key in want.files:
            assert got[key].shape == want[key].shape, key
            assert got[key].dtype == np.float32, key
            errors[key] = float(np.abs(got[key] - want[key]).max())
    return errors


@pytest.mark.parametrize("name,model,meta", list(cases()), ids=lambda v: getattr(v, "name", None))
def test_run_matches_framework(ckpt, name, model, meta, tmp_path):
    path = os.environ.get("CKPT", str(ROOT / ".build" / "debug" / "ckpt"))
    errors = run_case(path, name, model, meta, tmp_path)
    assert max(errors.values()) <= TOLERANCE, errors


def main():
    import tempfile
    ckpt_path = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".build" / "debug" / "ckpt")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, meta in cases():
            errors = run_case(ckpt_path, name, model, meta, tmp)
            flags = " ".join(meta["flags"]) or "—"
            detail = ", ".join(f"{k} {v:.1e}" for k, v in errors.items())
            rows.append(f"| `{meta['arch']}` | {meta['layout']} | `{model.name}` | `{flags}` | "
                        f"{max(errors.values()):.1e} | {detail} |")
    print("| architecture | layout | model file | flags | max abs error | per output |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

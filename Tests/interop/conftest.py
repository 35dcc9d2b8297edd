"""Interop checks: files written by `ckpt` load in the real libraries with identical values.

The CLI path comes from the CKPT environment variable (set by `make test` / `make interop`).
Light checks need only numpy, h5py, safetensors and gguf (installed in CI). Heavy checks
(torch, tf_keras, keras 3) run only with CKPT_HEAVY=1 (`make interop`).
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Fixtures"


def pytest_configure(config):
    config.addinivalue_line("markers", "heavy: needs torch or keras; runs only with CKPT_HEAVY=1")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("CKPT_HEAVY") == "1":
        return
    skip = pytest.mark.skip(reason="heavy interop check: run `make interop` (CKPT_HEAVY=1)")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ckpt():
    path = os.environ.get("CKPT", str(ROOT / ".build" / "debug" / "ckpt"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"ckpt binary not found at {path}; build first or set CKPT")

    def run(*args, check=True):
        result = subprocess.run([path, *map(str, args)], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"ckpt {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}")
        return result

    return run


@pytest.fixture(scope="session")
def fixtures():
    return FIXTURES

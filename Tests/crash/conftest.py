"""Crash-safety checks of `ckpt` as a process: kill -9 during `ckpt convert`, a full disk,
stale temporaries, and `ckpt inspect` on damaged HDF5 files (never a signal).

The CLI path comes from the CKPT environment variable (`make crash-test` sets it).
Trial counts: CKPT_KILL_TRIALS (default 120), CKPT_HDF5_MUTATIONS (default 300).
"""
import hashlib
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Fixtures"


@pytest.fixture(scope="session")
def ckpt_path():
    path = os.environ.get("CKPT", str(ROOT / ".build" / "debug" / "ckpt"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"ckpt binary not found at {path}; build first or set CKPT")
    return path


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def temporaries(folder):
    """The `.ckpt-tmp-*` files AtomicFile leaves behind when its process is killed."""
    return sorted(p.name for p in pathlib.Path(folder).iterdir() if p.name.startswith(".ckpt-tmp-"))


@pytest.fixture(scope="session")
def big_source(tmp_path_factory):
    """A ~200 MB safetensors file (50 float32 tensors of 1024x1024) written by the safetensors library."""
    np = pytest.importorskip("numpy")
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    folder = tmp_path_factory.mktemp("crash-source")
    path = folder / "source.safetensors"
    rng = np.random.default_rng(20261129)
    tensors = {f"layer{i}.weight": rng.standard_normal((1024, 1024), dtype=np.float32) for i in range(50)}
    safetensors_numpy.save_file(tensors, str(path), metadata={"origin": "crash-test"})
    return path

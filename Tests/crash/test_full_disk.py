"""A full disk: `ckpt convert` into a small tmpfs fails with a clear error and touches nothing.

Needs root (mount -t tmpfs); skipped where mounting is not permitted.
"""
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import FIXTURES, sha256, temporaries


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


@pytest.mark.parametrize("extension", ["safetensors", "npz", "pt", "h5"])
def test_full_disk_is_an_error_and_leaves_everything_untouched(ckpt_path, big_source, small_disk, extension):
    source_digest = sha256(big_source)
    destination = small_disk / f"model.{extension}"

    # No destination before: none after, no temporary, the space is given back.
    result = subprocess.run([ckpt_path, "convert", str(big_source), str(destination), "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 1, result
    assert "model." + extension in result.stderr, result.stderr
    assert "space" in result.stderr.lower() or "write" in result.stderr.lower(), result.stderr
    assert not destination.exists()
    assert temporaries(small_disk) == []
    assert shutil.disk_usage(small_disk).used < 1 << 20

    # A complete destination before: the same bytes after.
    small = FIXTURES / "safetensors" / "dtypes.safetensors"
    subprocess.run([ckpt_path, "convert", str(small), str(destination), "--quiet"], check=True)
    before = sha256(destination)
    result = subprocess.run([ckpt_path, "convert", str(big_source), str(destination), "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 1, result
    assert sha256(destination) == before
    assert temporaries(small_disk) == []
    assert sha256(big_source) == source_digest

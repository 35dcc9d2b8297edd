"""`ckpt inspect` on damaged HDF5 files: exit 0 or an error (exit 1), never a signal.

libhdf5 is not safe on hostile files (Docs/security.md); `ckpt` pre-validates
the superblock in Swift and probes the file in a child process first. This
campaign overwrites seeded random runs of bytes in the HDF5 fixtures (Keras 2,
Keras 3, h5py files) and checks the `ckpt` process itself always exits
normally. CKPT_HDF5_MUTATIONS sets the number of files (default 300).
"""
import os
import random
import subprocess

from conftest import FIXTURES


def mutate(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.05:
            return bytes(data[: rng.randrange(len(data))])
        offset = rng.randrange(len(data))
        run = rng.randint(1, 16)
        for index in range(offset, min(offset + run, len(data))):
            data[index] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)]) if kind < 0.7 else data[index] ^ (1 << rng.randrange(8))
    return bytes(data)


def test_damaged_hdf5_files_never_crash_ckpt(ckpt_path, tmp_path):
    count = int(os.environ.get("CKPT_HDF5_MUTATIONS", "300"))
    rng = random.Random(0x4844_4635)
    fixtures = sorted((FIXTURES / "hdf5").glob("*.h5"))
    originals = {path.name: path.read_bytes() for path in fixtures}
    outcomes = {"read": 0, "error": 0, "probe caught a libhdf5 crash": 0}
    for index in range(count):
        name = fixtures[index % len(fixtures)].name
        path = tmp_path / f"damaged-{index}-{name}"
        path.write_bytes(mutate(originals[name], rng))
        result = subprocess.run([ckpt_path, "inspect", str(path)], capture_output=True, text=True, timeout=300)
        assert result.returncode in (0, 1), (
            f"{path} ({name} mutation {index}): ckpt exited with {result.returncode}\n{result.stderr[-2000:]}")
        if result.returncode == 1:
            assert result.stderr.startswith("Error: ") and str(path) in result.stderr, result.stderr
            if "signal" in result.stderr or "crash" in result.stderr:
                outcomes["probe caught a libhdf5 crash"] += 1
            outcomes["error"] += 1
        else:
            outcomes["read"] += 1
        path.unlink()
    print(f"\nckpt inspect on {count} damaged HDF5 files: {outcomes}")

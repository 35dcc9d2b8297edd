"""kill -9 at random points during `ckpt convert` never leaves a partial destination.

For each trial a conversion of a ~200 MB file is started and killed with SIGKILL
after a random delay between 0 and 1.2x the time a full conversion takes (so
some trials finish). Afterwards the destination is either absent (or the
previous complete file) or complete and identical to an uninterrupted
conversion; at most one temporary per destination (of a dead process) is left, and
the next write to that destination removes it.
"""
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import sha256, temporaries

TARGETS = ["safetensors", "npz", "pt", "h5"]


def check_complete(path, reference, extension):
    if extension == "h5":
        # libhdf5 records object times, so two writes differ; check the content instead.
        h5py = pytest.importorskip("h5py")
        with h5py.File(path, "r") as handle:
            names = []
            handle.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
            assert len(names) == 50, f"{path}: {len(names)} datasets"
            assert handle[names[-1]].shape == (1024, 1024)
            assert float(abs(handle[names[-1]][-1, -1])) < 100
        assert os.path.getsize(path) == os.path.getsize(reference)
    else:
        assert sha256(path) == reference


def test_kill_9_never_leaves_a_partial_destination(ckpt_path, big_source, tmp_path):
    trials = int(os.environ.get("CKPT_KILL_TRIALS", "120"))
    rng = random.Random(20261129)
    out = tmp_path / "out"
    out.mkdir()
    references = {}
    durations = {}
    for extension in TARGETS:
        reference = tmp_path / f"reference.{extension}"
        start = time.monotonic()
        subprocess.run([ckpt_path, "convert", str(big_source), str(reference), "--quiet"], check=True)
        durations[extension] = time.monotonic() - start
        references[extension] = str(reference) if extension == "h5" else sha256(reference)
    source_digest = sha256(big_source)

    outcomes = {"absent": 0, "complete": 0, "finished": 0}
    for trial in range(trials):
        extension = TARGETS[trial % len(TARGETS)]
        destination = out / f"model.{extension}"
        if rng.random() < 0.5 and destination.exists():
            destination.unlink()  # half the trials start without a destination
        existed = destination.exists()
        delay = rng.uniform(0, 1.2 * durations[extension])
        process = subprocess.Popen(
            [ckpt_path, "convert", str(big_source), str(destination), "--quiet"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        code = process.wait()
        if code == 0:
            outcomes["finished"] += 1
        else:
            assert code == -signal.SIGKILL, f"trial {trial}: ckpt exited with {code}"
        if destination.exists():
            check_complete(destination, references[extension], extension)
            outcomes["complete"] += 1
        else:
            assert not existed, f"trial {trial}: a complete destination disappeared"
            outcomes["absent"] += 1
        left = [name for name in temporaries(out) if name.startswith(f".ckpt-tmp-{destination.name}-")]
        assert len(left) <= 1, f"trial {trial}: temporaries of {destination.name} pile up: {left}"

    # One uninterrupted conversion per target removes every stale temporary.
    for extension in TARGETS:
        destination = out / f"model.{extension}"
        subprocess.run([ckpt_path, "convert", str(big_source), str(destination), "--quiet"], check=True)
        check_complete(destination, references[extension], extension)
    assert temporaries(out) == []
    assert sha256(big_source) == source_digest
    print(f"\nkill -9 trials: {trials}, outcomes {outcomes}, full conversion seconds "
          + ", ".join(f"{k} {v:.2f}" for k, v in durations.items()))
    assert outcomes["complete"] > 0 and outcomes["absent"] > 0


def test_stale_temporaries_of_dead_processes_are_removed(ckpt_path, tmp_path):
    source = os.path.join(os.path.dirname(__file__), "..", "..", "Fixtures", "safetensors", "bf16.safetensors")
    destination = tmp_path / "small.npz"
    # A pid that no longer exists: a finished child's.
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".ckpt-tmp-small.npz-{dead.pid}-deadbeef"
    stale.write_bytes(b"partial")
    alive = tmp_path / f".ckpt-tmp-small.npz-{os.getpid()}-cafe"
    alive.write_bytes(b"being written by a live process")
    subprocess.run([ckpt_path, "convert", source, str(destination), "--quiet"], check=True)
    assert destination.exists()
    assert not stale.exists(), "the dead writer's temporary was not removed"
    assert alive.exists(), "a live writer's temporary was removed"

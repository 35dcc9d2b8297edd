#!/usr/bin/env python3
"""Builds CheckpointKit's test fixtures with the real frameworks.

Every fixture is written by the library that owns the format (numpy,
safetensors, torch, h5py, tf_keras, keras 3, gguf), never by hand. Each area
lives in a module under Fixtures/gen/ with a `generate(out_dir)` function
that writes into Fixtures/<area>/; the small results are committed.

    python3 Fixtures/generate.py            # every area
    python3 Fixtures/generate.py numpy ckz  # some areas

Versions are pinned in Fixtures/requirements.txt (`make fixtures`).
"""
import importlib
import pathlib
import pkgutil
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def areas():
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE / "gen")]) if not m.name.startswith("_"))


def main(argv):
    wanted = argv or areas()
    unknown = [a for a in wanted if a not in areas()]
    if unknown:
        sys.exit(f"unknown fixture areas: {', '.join(unknown)} (known: {', '.join(areas())})")
    for area in wanted:
        module = importlib.import_module(f"gen.{area}")
        out = HERE / area
        out.mkdir(parents=True, exist_ok=True)
        print(f"== {area} -> {out.relative_to(HERE.parent)}")
        module.generate(out)


if __name__ == "__main__":
    main(sys.argv[1:])

"""`.ckz` fixtures written by the independent Python implementation of
Docs/ckz-format.md (Tests/interop/ckz_reference.py), so the Swift reader is
tested against an encoder it does not share code with, and files written to
the 1.0 spec stay readable.

stored.ckz: codec none; zlib.ckz: codec zlib level 6 with 256-byte chunks
(several chunks per tensor, byte-grouped planes). expected.json lists every
tensor's dtype, shape and raw bytes (hex), the metadata and the provenance.
"""

import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "Tests" / "interop"))
import ckz_reference  # noqa: E402


def tensors():
    rng = np.random.default_rng(2024)
    weight = (rng.standard_normal((8, 16)) * 0.05).astype(np.float32)
    bits = weight.reshape(-1).view(np.uint32).astype(np.uint64)
    bf16 = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16).reshape(8, 16)
    return [
        ("encoder.weight", weight, None),
        ("encoder.weight_bf16", bf16, "BF16"),
        ("encoder.bias", rng.standard_normal(24).astype(np.float16), None),
        ("position_ids", np.arange(40, dtype=np.int64).reshape(1, 40), None),
        ("noise", rng.integers(0, 256, 300, dtype=np.uint8), None),
        ("mask", rng.integers(0, 2, 7).astype(bool), None),
        ("step", np.array(1234, dtype=np.float64), None),
        ("empty", np.zeros((0, 4), np.float32), None),
    ]


def generate(out_dir: pathlib.Path) -> None:
    items = tensors()
    metadata = {"format": "pt", "note": "written by ckz_reference.py"}
    provenance = {"source_format": "numpy", "tool": "ckz_reference.py"}
    ckz_reference.write(out_dir / "stored.ckz", items, metadata, provenance)
    ckz_reference.write(out_dir / "zlib.ckz", items, metadata, provenance, codec="zlib", level=6, chunk_size=256)
    expected = {
        "metadata": metadata,
        "provenance": provenance,
        "tensors": [
            {"name": name, "dtype": dtype or ckz_reference.dtype_name(array), "shape": list(array.shape),
             "hex": np.ascontiguousarray(array).tobytes().hex()}
            for name, array, dtype in items
        ],
    }
    (out_dir / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    for name in ("stored.ckz", "zlib.ckz"):
        tensors_read, meta, prov, _ = ckz_reference.read(out_dir / name)
        assert meta == metadata and prov == provenance
        for entry in expected["tensors"]:
            assert tensors_read[entry["name"]][2].hex() == entry["hex"]

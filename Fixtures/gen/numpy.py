"""NumPy fixtures: .npy files of every supported dtype and layout, and .npz archives.

Everything is written by numpy itself (np.save, np.lib.format.write_array,
np.savez, np.savez_compressed); bfloat16 comes from ml_dtypes, which numpy
stores with descr '<V2'. `expected.json` records, per file and array, the
dtype (safetensors spelling), the shape and the C-order little-endian bytes
(hex, plus their sha256) so the Swift tests compare values exactly.
"""
import hashlib
import json
import pathlib
import zipfile

import ml_dtypes
import numpy as np

# dtype name as CheckpointKit spells it, for numpy dtype kinds we keep.
DTYPE_NAMES = {
    "f8": "F64", "f4": "F32", "f2": "F16",
    "i8": "I64", "i4": "I32", "i2": "I16", "i1": "I8",
    "u8": "U64", "u4": "U32", "u2": "U16", "u1": "U8",
    "b1": "BOOL", "V2": "BF16",
}


def _values(n, dtype):
    """Small, distinct, exactly representable values (negative ones for signed types)."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return (np.arange(n) % 3 == 1)
    if kind == "u":
        info = np.iinfo(dtype)
        return (np.arange(n, dtype=np.uint64) * 37 + 5).astype(dtype) | np.array(info.max - 1, dtype=dtype) * (np.arange(n) % 5 == 0)
    if kind == "i":
        info = np.iinfo(dtype)
        v = (np.arange(n, dtype=np.int64) * 37 - 50).astype(dtype)
        v[0] = info.min
        if n > 1:
            v[-1] = info.max
        return v
    v = (np.arange(n, dtype=np.float64) - n / 2) * 0.625
    return v.astype(dtype)


def _record(arr):
    canonical = np.ascontiguousarray(arr)
    if canonical.dtype == np.dtype(ml_dtypes.bfloat16):
        raw = canonical.view(np.uint16).astype("<u2").tobytes()
        name = "BF16"
    else:
        le = canonical.dtype.newbyteorder("<") if canonical.dtype.itemsize > 1 else canonical.dtype
        raw = canonical.astype(le).tobytes()
        name = DTYPE_NAMES[le.str[1:]]
    entry = {"dtype": name, "shape": list(arr.shape), "sha256": hashlib.sha256(raw).hexdigest()}
    if len(raw) <= 4096:
        entry["hex"] = raw.hex()
    if name == "BF16":
        entry["values"] = canonical.astype(np.float32).ravel().tolist()
    elif name in ("F64", "F32", "F16"):
        entry["values"] = canonical.astype(np.float64).ravel().tolist()
    else:
        entry["values"] = [int(x) for x in canonical.ravel()]
    return entry


def generate(out_dir: pathlib.Path):
    expected = {}

    def save(name, arr):
        np.save(out_dir / name, arr)
        expected[name] = {"kind": "npy", "tensors": {pathlib.Path(name).stem: _record(arr)}}

    for code in ["f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "b1"]:
        save(f"{code}.npy", _values(12, np.dtype(code)).reshape(3, 4))
    save("scalar.npy", np.array(2.5, dtype=np.float64))
    save("scalar_i4.npy", np.array(-7, dtype=np.int32))
    save("empty.npy", np.zeros((0, 3), dtype=np.float32))
    save("vector.npy", _values(5, np.dtype("i4")))
    save("be_f4.npy", _values(6, np.dtype("f4")).astype(">f4").reshape(2, 3))
    save("be_i8.npy", _values(4, np.dtype("i8")).astype(">i8"))
    save("be_u2.npy", _values(3, np.dtype("u2")).astype(">u2"))
    save("fortran_2d.npy", np.asfortranarray(_values(12, np.dtype("f4")).reshape(3, 4)))
    save("fortran_3d.npy", np.asfortranarray(_values(24, np.dtype("i2")).reshape(2, 3, 4)))
    save("fortran_be_f8.npy", np.asfortranarray(_values(6, np.dtype("f8")).reshape(2, 3).astype(">f8")))
    save("bf16.npy", _values(8, np.dtype("f4")).astype(ml_dtypes.bfloat16).reshape(2, 4))
    # Header versions 2.0 and 3.0, forced (numpy only picks them for huge headers).
    for version in [(2, 0), (3, 0)]:
        name = f"v{version[0]}.npy"
        arr = _values(6, np.dtype("f4")).reshape(3, 2)
        with open(out_dir / name, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)
        expected[name] = {"kind": "npy", "tensors": {"v%d" % version[0]: _record(arr)}}

    arrays = {
        "weight": _values(12, np.dtype("f4")).reshape(3, 4),
        "layer/bias": _values(4, np.dtype("f2")),
        "steps": np.array(1234, dtype=np.int64),
        "mask": _values(5, np.dtype("b1")),
        "bf16": _values(6, np.dtype("f4")).astype(ml_dtypes.bfloat16),
        "empty": np.zeros((2, 0), dtype=np.int32),
        "fortran": np.asfortranarray(_values(6, np.dtype("f8")).reshape(2, 3)),
    }
    records = {k: _record(v) for k, v in arrays.items()}
    np.savez(out_dir / "savez.npz", **arrays)
    expected["savez.npz"] = {"kind": "npz", "order": list(arrays), "tensors": records}
    np.savez_compressed(out_dir / "savez_compressed.npz", **arrays)
    expected["savez_compressed.npz"] = {"kind": "npz", "order": list(arrays), "tensors": records}
    np.savez(out_dir / "empty.npz")
    expected["empty.npz"] = {"kind": "npz", "order": [], "tensors": {}}

    # Written to a stream that cannot seek: sizes and CRCs follow the data in
    # data descriptors (flag bit 3), the local headers hold zeros.
    class _Unseekable:
        def __init__(self, f):
            self._f = f

        def write(self, data):
            return self._f.write(data)

        def flush(self):
            self._f.flush()

        def read(self, *args):  # numpy wants a file-like object to have it
            raise OSError("write-only stream")

    streamed = {"x": arrays["weight"], "y": arrays["mask"]}
    with open(out_dir / "streamed.npz", "wb") as f:
        np.savez_compressed(_Unseekable(f), **streamed)
    expected["streamed.npz"] = {
        "kind": "npz", "order": list(streamed), "tensors": {k: _record(v) for k, v in streamed.items()}}

    # A fully zip64 archive (zip64 extras in local and central headers, zip64
    # end records) from Python's own zipfile, by lowering its zip64 threshold.
    saved = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0
    try:
        small = {"a": arrays["weight"], "b": arrays["steps"]}
        np.savez_compressed(out_dir / "zip64.npz", **small)
    finally:
        zipfile.ZIP64_LIMIT = saved
    expected["zip64.npz"] = {"kind": "npz", "order": list(small), "tensors": {k: _record(v) for k, v in small.items()}}

    (out_dir / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")

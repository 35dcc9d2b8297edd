#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the committed fixtures.

Usage: make_seeds.py OUT_DIR  -> OUT_DIR/<target>/<fixture files>

Most targets take a fixture file as is. `pickle` takes a torch.save archive as
the list of records its harness zips back together (u8 name length, name,
u32 LE data length, data); `hdf5` takes the first 4 KiB of each HDF5 file
(the pre-validation reads only the superblock).
"""
import pathlib
import shutil
import struct
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Fixtures"

GLOBS = {
    "safetensors": ["safetensors/*.safetensors", "safetensors/sharded/*.safetensors"],
    "npy": ["numpy/*.npy"],
    "npz": ["numpy/*.npz"],
    "pytorch": ["pytorch/*.pt", "pytorch/malicious/*.pt"],
    "ckz": ["ckz/*.ckz"],
    "gguf": ["gguf/*.gguf"],
    "onnx": ["onnx/*.onnx", "onnx/external/*.onnx"],
}


def records(path: pathlib.Path) -> bytes:
    out = bytearray()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.encode()[:255]
            data = archive.read(info)
            out += bytes([len(name)]) + name + struct.pack("<I", len(data)) + data
    return bytes(out)


def main() -> None:
    out = pathlib.Path(sys.argv[1])
    for target, globs in GLOBS.items():
        folder = out / target
        folder.mkdir(parents=True, exist_ok=True)
        for pattern in globs:
            for path in sorted(FIXTURES.glob(pattern)):
                shutil.copyfile(path, folder / path.name)
    pickle = out / "pickle"
    pickle.mkdir(parents=True, exist_ok=True)
    for path in sorted(FIXTURES.glob("pytorch/**/*.pt")):
        if zipfile.is_zipfile(path):
            (pickle / (path.stem + ".records")).write_bytes(records(path))
    hdf5 = out / "hdf5"
    hdf5.mkdir(parents=True, exist_ok=True)
    for path in sorted(FIXTURES.glob("hdf5/*.h5")):
        (hdf5 / path.name).write_bytes(path.read_bytes()[:4096])


if __name__ == "__main__":
    main()

"""An independent Python reading of Docs/ckz-format.md (version 1.0).

`write` writes a .ckz file from NumPy arrays (codec `none`, or `zlib` with
byte grouping, encoded with zlib's default strategy: an encoder independent
of CheckpointKit's); `read` decodes any .ckz file and checks every CRC.
Used by the interop tests and by Benchmarks/bench_ckz.py.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

MAGIC = b"\x89CKZ\r\n\x1a\n"
END_MAGIC = b"\x89CKZEND\n"
CHUNK = 1 << 20

DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"), "BF16": np.dtype("<u2"),
}


def dtype_name(array: np.ndarray) -> str:
    for name, dtype in DTYPES.items():
        if name != "BF16" and array.dtype == dtype:
            return name
    raise ValueError(f"unsupported dtype {array.dtype}")


def _align(n: int) -> int:
    return (n + 63) // 64 * 64


def _map(entries: dict[str, str]) -> bytes:
    out = struct.pack("<I", len(entries))
    for key in sorted(entries, key=lambda k: k.encode()):
        k, v = key.encode(), entries[key].encode()
        out += struct.pack("<I", len(k)) + k + struct.pack("<I", len(v)) + v
    return out


GROUP = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}


def _encode_zlib(piece: bytes, group: int, level: int) -> bytes:
    """One zlib chunk: byte planes, each raw DEFLATE (zlib's default strategy) or stored raw."""
    planes = np.frombuffer(piece, np.uint8).reshape(-1, group).T
    table, body = b"", b""
    for plane in planes:
        raw = plane.tobytes()
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
        packed = c.compress(raw) + c.flush()
        stored = packed if len(packed) < len(raw) else raw
        table += struct.pack("<I", len(stored))
        body += stored
    return table + body


def write(path, tensors, metadata=None, provenance=None, codec="none", level=6, chunk_size=CHUNK) -> None:
    """Writes `tensors` ([(name, array, dtype name or None)]) with codec `none` or `zlib`."""
    header = MAGIC + struct.pack("<HHI", 1, 0, 0) + bytes(44)
    header += struct.pack("<I", zlib.crc32(header))
    index = b"CKZI" + struct.pack("<I", len(tensors))
    with open(path, "wb") as f:
        f.write(header)
        pos = 64
        for name, array, dtype in tensors:
            dtype = dtype or dtype_name(array)
            data = np.ascontiguousarray(array).tobytes()
            group = GROUP.get(dtype, 1) if codec == "zlib" else 1
            start = _align(pos)
            f.write(bytes(start - pos))
            pos = start
            chunks = b""
            for i in range(0, len(data), chunk_size):
                piece = data[i:i + chunk_size]
                stored = piece if codec == "none" else _encode_zlib(piece, group, level)
                f.write(stored)
                pos += len(stored)
                chunks += struct.pack("<III", len(stored), zlib.crc32(piece), zlib.crc32(stored))
            n = name.encode()
            index += struct.pack("<I", len(n)) + n + bytes([len(dtype)]) + dtype.encode()
            index += bytes([len(array.shape)]) + b"".join(struct.pack("<Q", d) for d in array.shape)
            index += bytes([0 if codec == "none" else 1, 0 if codec == "none" else level, group, 0])
            index += struct.pack("<QQII", start, len(data), chunk_size, len(chunks) // 12)
            index += chunks
        index += _map(metadata or {}) + _map(provenance or {})
        start = _align(pos)
        f.write(bytes(start - pos))
        f.write(index)
        footer = struct.pack("<QQI", start, len(index), zlib.crc32(index))
        f.write(footer + struct.pack("<I", zlib.crc32(footer)) + END_MAGIC)


def write_stored(path, tensors, metadata=None) -> None:
    """Writes `tensors` ([(name, array, dtype name or None)]) uncompressed."""
    write(path, tensors, metadata)


def read(path):
    """Decodes a .ckz file: ({name: (dtype name, shape, raw bytes)}, metadata, provenance, codecs)."""
    data = open(path, "rb").read()
    assert data[:8] == MAGIC, "bad magic"
    assert struct.unpack_from("<I", data, 60)[0] == zlib.crc32(data[:60]), "header CRC"
    assert data[-8:] == END_MAGIC, "end magic"
    off, length, crc, fcrc = struct.unpack_from("<QQII", data, len(data) - 32)
    assert fcrc == zlib.crc32(data[-32:-12]), "footer CRC"
    index = data[off:off + length]
    assert zlib.crc32(index) == crc, "index CRC"
    assert index[:4] == b"CKZI"
    p = 4

    def take(fmt):
        nonlocal p
        values = struct.unpack_from(fmt, index, p)
        p += struct.calcsize(fmt)
        return values

    def text(width="<I"):
        nonlocal p
        (n,) = take(width)
        p += n
        return index[p - n:p].decode()

    tensors, codecs = {}, {}
    (count,) = take("<I")
    for _ in range(count):
        name = text()
        dtype = text("<B")
        (rank,) = take("<B")
        shape = take(f"<{rank}Q")
        codec, level, group, _ = take("<BBBB")
        start, raw, chunk_size, nchunks = take("<QQII")
        out = bytearray()
        pos = start
        for c in range(nchunks):
            stored, raw_crc, stored_crc = take("<III")
            blob = data[pos:pos + stored]
            pos += stored
            assert zlib.crc32(blob) == stored_crc, f"{name} chunk {c} stored CRC"
            size = min(chunk_size, raw - c * chunk_size)
            if codec == 0:
                piece = blob
            else:
                plane = size // group
                sizes = struct.unpack_from(f"<{group}I", blob, 0)
                q = 4 * group
                planes = []
                for s in sizes:
                    part = blob[q:q + s]
                    q += s
                    planes.append(part if s == plane else zlib.decompress(part, wbits=-15))
                piece = np.stack([np.frombuffer(x, np.uint8) for x in planes], axis=1).tobytes()
            assert len(piece) == size and zlib.crc32(piece) == raw_crc, f"{name} chunk {c} raw CRC"
            out += piece
        tensors[name] = (dtype, tuple(shape), bytes(out))
        codecs[name] = (codec, level, group)
    metadata, provenance = {}, {}
    for target in (metadata, provenance):
        (n,) = take("<I")
        for _ in range(n):
            key = text()
            target[key] = text()
    assert p == len(index), "trailing index bytes"
    return tensors, metadata, provenance, codecs


def array(entry) -> np.ndarray:
    dtype, shape, raw = entry
    return np.frombuffer(raw, DTYPES[dtype]).reshape(shape)

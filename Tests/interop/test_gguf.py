"""GGUF interop: files `ckpt` writes read in gguf-py's GGUFReader with identical values and bytes,
and ckpt's Q8_0/Q4_0 bytes equal gguf-py's `quants.quantize` of the same weights."""
import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as Q  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402


def _tensors(path):
    reader = gguf.GGUFReader(str(path))
    return reader, {t.name: t for t in reader.tensors}


def test_gguf_py_file_round_trips_byte_identically(ckpt, fixtures, tmp_path):
    for name in ("all_types.gguf", "aligned64.gguf"):
        out = tmp_path / name
        ckpt("convert", fixtures / "gguf" / name, out)
        assert out.read_bytes() == (fixtures / "gguf" / name).read_bytes()


@pytest.mark.parametrize("scheme,qtype", [("q8_0", Q.Q8_0), ("q4_0", Q.Q4_0), ("bf16", Q.BF16)])
def test_quantized_file_reads_in_gguf_py(ckpt, fixtures, tmp_path, scheme, qtype):
    src = fixtures / "gguf" / "models" / "transformer.safetensors"
    out = tmp_path / f"t_{scheme}.gguf"
    ckpt("quantize", src, out, "--scheme", scheme, "--quiet")
    original = load_file(str(src))
    reader, tensors = _tensors(out)
    assert set(tensors) == set(original)
    assert reader.fields["ckpt.quantization"].contents() == scheme
    for name, array in original.items():
        t = tensors[name]
        assert [int(d) for d in reversed(t.shape.tolist())] == list(array.shape)
        if array.ndim >= 2:
            assert t.tensor_type == qtype
            assert np.asarray(t.data).tobytes() == gguf.quants.quantize(array, qtype).tobytes(), name
        else:
            assert t.tensor_type == Q.F32
            np.testing.assert_array_equal(np.asarray(t.data).reshape(array.shape), array)


def test_f16_and_int8_values(ckpt, fixtures, tmp_path):
    src = fixtures / "gguf" / "models" / "seq2seq_lstm.safetensors"
    original = load_file(str(src))
    ckpt("quantize", src, tmp_path / "h.gguf", "--scheme", "f16", "--quiet")
    _, tensors = _tensors(tmp_path / "h.gguf")
    w = original["decoder.out.weight"]
    assert np.asarray(tensors["decoder.out.weight"].data).tobytes() == w.astype(np.float16).tobytes()
    ckpt("quantize", src, tmp_path / "i.gguf", "--scheme", "int8", "--quiet")
    _, tensors = _tensors(tmp_path / "i.gguf")
    q = np.asarray(tensors["decoder.out.weight"].data).reshape(w.shape).astype(np.float32)
    scale = np.asarray(tensors["decoder.out.weight.scale"].data).astype(np.float32)
    np.testing.assert_allclose(scale, np.abs(w).max(axis=1) / 127, rtol=1e-6)
    assert np.abs(q * scale[:, None] - w).max() <= scale.max() / 2 * 1.0001


def test_metadata_types_read_by_gguf_py(ckpt, fixtures, tmp_path):
    out = tmp_path / "m.gguf"
    ckpt("convert", fixtures / "gguf" / "all_types.gguf", out)
    reader = gguf.GGUFReader(str(out))
    assert reader.fields["test.u64"].contents() == 18446744073709551615
    assert reader.fields["test.array.string"].contents() == ["a", "bc", "ü"]
    assert reader.fields["test.array.nested"].types == [gguf.GGUFValueType.ARRAY, gguf.GGUFValueType.ARRAY,
                                                        gguf.GGUFValueType.INT32]

"""ONNX interop: `.onnx` files `ckpt` writes load in the onnx package (`onnx.load`,
`onnx.checker.check_model`) with initializers equal bit for bit to the source, inline and as
external data; weights ckpt extracts from torch.onnx.export's files equal numpy_helper's."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import numpy_helper  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

MODELS = ["lstm_bidir.onnx", "gru.onnx", "external/model.onnx", "typed.onnx"]


def _arrays(path):
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    return model, {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def _same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("threshold", [None, "1"])
def test_written_model_loads_and_checks(ckpt, fixtures, tmp_path, name, threshold):
    out = tmp_path / "out.onnx"
    extra = [] if threshold is None else ["--external-data-threshold", threshold]
    ckpt("convert", fixtures / "onnx" / name, out, "--quiet", *extra)
    assert (tmp_path / "out.onnx.data").exists() == (threshold is not None)
    _, source = _arrays(fixtures / "onnx" / name)
    model, written = _arrays(out)
    assert list(written) == list(source)
    for key, array in source.items():
        assert _same(written[key], array), key
    original = onnx.load(str(fixtures / "onnx" / name))
    assert {p.key: p.value for p in model.metadata_props} == {p.key: p.value for p in original.metadata_props}
    assert model.producer_name == "ckpt"


def test_extracted_weights_equal_numpy_helper(ckpt, fixtures, tmp_path):
    for name in MODELS:
        out = tmp_path / "w.safetensors"
        ckpt("convert", fixtures / "onnx" / name, out, "--quiet")
        _, source = _arrays(fixtures / "onnx" / name)
        extracted = load_file(str(out))
        assert set(extracted) == set(source)
        for key, array in source.items():
            if array.dtype.name == "bfloat16":
                array = array.view(np.uint16)
                extracted[key] = extracted[key].view(np.uint16)
            assert _same(extracted[key], array), (name, key)


def test_safetensors_round_trip_through_onnx_is_bit_exact(ckpt, fixtures, tmp_path):
    for name in ["dtypes", "bf16"]:
        src = fixtures / "safetensors" / f"{name}.safetensors"
        for extra in [[], ["--external-data-threshold", "16"]]:
            ckpt("convert", src, tmp_path / "m.onnx", "--quiet", *extra)
            onnx.checker.check_model(onnx.load(str(tmp_path / "m.onnx")))
            ckpt("convert", tmp_path / "m.onnx", tmp_path / "back.safetensors", "--quiet")
            assert (tmp_path / "back.safetensors").read_bytes() == src.read_bytes(), (name, extra)


def test_model_with_escaping_external_path_is_refused(ckpt, tmp_path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes(np.arange(4, dtype=np.float32).tobytes())
    folder = tmp_path / "m"
    folder.mkdir()
    tensor = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[4])
    tensor.data_location = onnx.TensorProto.EXTERNAL
    for key, value in [("location", "../outside.bin"), ("offset", "0"), ("length", "16")]:
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    graph = onnx.helper.make_graph([], "g", [], [], initializer=[tensor])
    model = onnx.helper.make_model(graph)
    (folder / "model.onnx").write_bytes(model.SerializeToString())
    result = ckpt("inspect", folder / "model.onnx", check=False)
    assert result.returncode != 0
    assert "tensor 'w'" in result.stderr and "escapes the model's folder" in result.stderr, result.stderr

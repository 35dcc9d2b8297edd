"""HDF5 fixtures: h5py files, tf_keras (Keras 2) and Keras 3 weight files.

Every file is written by h5py, tf_keras or Keras 3 themselves. tf_keras and
Keras 3 cannot both be imported as `keras` in one process, so each framework
runs in its own subprocess (this file re-runs itself with `--part`).

expected.json lists, per file, every dataset (tensor name = full path without
the leading slash; for a Keras 2 full-model file the path under
`model_weights/`) with its dtype (safetensors names), shape and the sha256 of
its little-endian C-order bytes, in the order CheckpointKit reports them, plus
selected attributes.
"""
import hashlib
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

DTYPES = {
    "float16": "F16", "float32": "F32", "float64": "F64", "bfloat16": "BF16",
    "int8": "I8", "int16": "I16", "int32": "I32", "int64": "I64",
    "uint8": "U8", "uint16": "U16", "uint32": "U32", "uint64": "U64", "bool": "BOOL",
}


def digest(array):
    array = np.ascontiguousarray(array)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return hashlib.sha256(array.tobytes()).hexdigest()


def describe(path, kind):
    """Datasets of an HDF5 file as CheckpointKit should report them."""
    import h5py

    def entry(ds):
        data = ds[()]
        name = str(ds.dtype) if ds.dtype.kind != "V" else ds.attrs["dtype"]
        if isinstance(name, bytes):
            name = name.decode()
        name = np.dtype(ds.dtype).newbyteorder("=").name if ds.dtype.kind not in "Vb" else name
        if ds.dtype.kind == "b":
            name = "bool"
        return {"dtype": DTYPES[name], "shape": list(ds.shape), "sha256": digest(np.asarray(data))}

    out = {}
    with h5py.File(path, "r") as f:
        if kind == "keras2":
            root = f["model_weights"] if "layer_names" not in f.attrs and "model_weights" in f else f
            layer_names = load_attr(root, "layer_names")
            for layer in layer_names:
                for weight in load_attr(root[layer], "weight_names"):
                    out[f"{layer}/{weight}"] = entry(root[layer][weight])
        else:
            names = []
            f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and o.dtype.kind in "fiubV" else None)
            for name in names:
                out[name] = entry(f[name])
    return out


def load_attr(group, name):
    if name in group.attrs:
        values = group.attrs[name]
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


# ---------------------------------------------------------------- h5py


def h5py_files(out):
    import h5py

    rng = np.random.default_rng(7)
    with h5py.File(out / "h5py_types.h5", "w") as f:
        f.attrs["title"] = np.bytes_(b"fixed string")          # fixed-length ASCII
        f.attrs["comment"] = "variable length \u00e9"          # vlen UTF-8
        f.attrs["names_fixed"] = np.array([b"alpha", b"be"], dtype="S5")
        f.attrs["names_vlen"] = np.array(["x", "yz"], dtype=h5py.string_dtype())
        f.attrs["count"] = np.int32(42)
        f.attrs["scale"] = np.array([0.5, 1.5])
        f["plain/f32"] = rng.standard_normal((2, 3)).astype("<f4")
        f["plain/f64"] = rng.standard_normal((3,)).astype("<f8")
        f["plain/f16"] = rng.standard_normal((4, 2)).astype("<f2")
        for t in ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]:
            info = np.iinfo(t)
            f[f"ints/{t}"] = np.array([info.min, 0, 1, info.max, info.min + 3], dtype="<" + t)
        f["big_endian/f4"] = rng.standard_normal((3, 2)).astype(">f4")
        f["big_endian/i8"] = np.array([[1, -2], [3 << 40, -(5 << 33)]], dtype=">i8")
        f["big_endian/f2"] = rng.standard_normal((5,)).astype(">f2")
        f["scalar/f32"] = np.float32(3.25)
        f["scalar/i64"] = np.int64(-7)
        f["empty/f32"] = np.zeros((0, 3), dtype="<f4")
        f["bool"] = np.array([True, False, True])
        f["strings"] = np.array([b"not", b"a tensor"])          # skipped: not numbers
        d = f.create_dataset(
            "chunked/gzip_shuffle_fletcher32",
            data=rng.standard_normal((40, 30)).astype("<f4"),
            chunks=(16, 8), compression="gzip", compression_opts=6, shuffle=True, fletcher32=True)
        d.attrs["units"] = "none"
        f.create_dataset("chunked/gzip_i16", data=np.arange(-500, 500, dtype="<i2").reshape(10, 100),
                         chunks=(5, 50), compression="gzip")
        f.create_dataset("chunked/big_endian_gzip", data=rng.standard_normal((9, 7)).astype(">f8"),
                         chunks=(4, 4), compression="gzip", shuffle=True)
    with h5py.File(out / "h5py_userblock.h5", "w", userblock_size=512) as f:
        f["w"] = np.arange(6, dtype="<f4").reshape(2, 3)
    return {"h5py_types.h5": "generic", "h5py_userblock.h5": "generic"}


# ---------------------------------------------------------------- tf_keras


def tf_keras_part(out):
    import tf_keras as keras
    from tf_keras.src.saving.legacy import hdf5_format

    keras.utils.set_random_seed(11)
    model = keras.Sequential([
        keras.layers.Embedding(20, 4, input_length=5, name="embedding"),
        keras.layers.LSTM(3, return_sequences=True, name="lstm"),
        keras.layers.GRU(3, return_sequences=True, name="gru"),
        keras.layers.Bidirectional(keras.layers.LSTM(2), name="bidirectional"),
        keras.layers.Dense(2, name="dense"),
    ])
    model.build((None, 5))
    model.save_weights(str(out / "keras2_weights.h5"))
    model.save(str(out / "keras2_model.h5"), save_format="h5")

    # layer_names longer than HDF5's 64 KiB object-header limit: tf_keras
    # splits the attribute into layer_names0..N.
    long = "x" * 1000  # names are saved as bytes: 66 names of 1004 bytes pass 64512
    inputs = keras.Input((2,))
    x = inputs
    for i in range(66):
        x = keras.layers.Activation("linear", name=f"{long}_{i:03d}")(x)
    x = keras.layers.Dense(2, name="head")(x)
    split = keras.Model(inputs, x)
    split.save_weights(str(out / "keras2_split_names.h5"))
    print("tf_keras", keras.__version__, "h5 split:", "layer_names0" in __import__("h5py").File(out / "keras2_split_names.h5").attrs)


# ---------------------------------------------------------------- Keras 3


def keras3_part(out):
    import keras
    import keras_hub

    keras.utils.set_random_seed(13)
    inputs = keras.Input((4, 6))
    h = keras.layers.LSTM(6, return_sequences=True)(inputs)
    a = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)(h, h)
    n = keras.layers.LayerNormalization()(a + h)
    outputs = keras.layers.Dense(2)(n)
    model = keras.Model(inputs, outputs)
    model.save_weights(str(out / "keras3_lstm_mha.weights.h5"))
    (out / "keras3_lstm_mha.json").write_text(model.to_json())

    tokens = keras.Input((5, 8))
    enc = keras_hub.layers.TransformerEncoder(intermediate_dim=8, num_heads=2)(tokens)
    dec = keras_hub.layers.TransformerDecoder(intermediate_dim=8, num_heads=2)(tokens, enc)
    hub = keras.Model(tokens, keras.layers.Dense(3)(dec))
    hub.save_weights(str(out / "keras3_hub.weights.h5"))
    (out / "keras3_hub.json").write_text(hub.to_json())

    keras.config.set_dtype_policy("bfloat16")
    bf = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    bf.save_weights(str(out / "keras3_bf16.weights.h5"))
    (out / "keras3_bf16.json").write_text(bf.to_json())
    print("keras", keras.__version__, "keras_hub", keras_hub.__version__)


def generate(out_dir: pathlib.Path):
    out_dir = pathlib.Path(out_dir)
    kinds = h5py_files(out_dir)
    here = pathlib.Path(__file__).resolve()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    subprocess.run([sys.executable, str(here), "--part", "tf_keras", str(out_dir)],
                   env=dict(env, TF_USE_LEGACY_KERAS="1"), check=True)
    subprocess.run([sys.executable, str(here), "--part", "keras3", str(out_dir)],
                   env=dict(env, KERAS_BACKEND="tensorflow"), check=True)
    kinds.update({"keras2_weights.h5": "keras2", "keras2_model.h5": "keras2", "keras2_split_names.h5": "keras2",
                  "keras3_lstm_mha.weights.h5": "keras3", "keras3_hub.weights.h5": "keras3",
                  "keras3_bf16.weights.h5": "keras3"})
    expected = {name: {"layout": kind, "tensors": describe(out_dir / name, kind)} for name, kind in sorted(kinds.items())}
    (out_dir / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--part":
        {"tf_keras": tf_keras_part, "keras3": keras3_part}[sys.argv[2]](pathlib.Path(sys.argv[3]))
    else:
        generate(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[1] / "hdf5")

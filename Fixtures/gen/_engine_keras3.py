"""Keras 3 (+ keras_hub) engine fixtures; run by engine.py in its own process.

    KERAS_BACKEND=tensorflow python3 -P _engine_keras3.py OUT_DIR

Writes NAME.weights.h5 (Keras 3 `save_weights`), NAME.inputs.npz, NAME.outputs.npz and
NAME.json for each model; see engine.py.
"""
import json
import pathlib
import sys

import numpy as np


def save(out, name, model, arch, inputs, outputs, flags=()):
    model.save_weights(str(out / f"{name}.weights.h5"))
    np.savez(out / f"{name}.inputs.npz", **inputs)
    np.savez(out / f"{name}.outputs.npz", **{k: np.asarray(v, dtype=np.float32) for k, v in outputs.items()})
    (out / f"{name}.json").write_text(json.dumps({"arch": arch, "layout": "keras3", "flags": list(flags)},
                                                 indent=1) + "\n")


def states(parts, bidirectional, lstm):
    """Keras returns [fwd_h, fwd_c, bwd_h, bwd_c] (LSTM) or [fwd_h, bwd_h] (GRU) per layer."""
    per = 2 if lstm else 1
    dirs = 2 if bidirectional else 1
    h = [parts[d * per] for d in range(dirs)]
    c = [parts[d * per + 1] for d in range(dirs)] if lstm else []
    return h, c


def recurrent(out, keras, name, cell, bidirectional, layers, **kwargs):
    rng = np.random.default_rng(1)
    B, T, I, H = 2, 5, 6, 4
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    inp = keras.Input((T, I))
    y = inp
    hs, cs = [], []
    for _ in range(layers):
        layer = cell(H, return_sequences=True, return_state=True, **kwargs)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer)
        res = layer(y)
        y = res[0]
        h, c = states(res[1:], bidirectional, cell is keras.layers.LSTM)
        hs += h
        cs += c
    model = keras.Model(inp, [y] + hs + cs)
    # Randomise the biases so they are exercised.
    for w in model.weights:
        if "bias" in w.path:
            w.assign(rng.standard_normal(w.shape).astype(np.float32) * 0.5)
    res = [np.asarray(r) for r in model(x)]
    n = len(hs)
    outputs = {"y": res[0], "h_n": np.stack(res[1:1 + n])}
    if cs:
        outputs["c_n"] = np.stack(res[1 + n:])
    save(out, name, model, "lstm" if cell is keras.layers.LSTM else "gru", {"x": x}, outputs)


def encoder(out, keras, keras_hub, name, flags, layers=2, **kwargs):
    rng = np.random.default_rng(2)
    B, S, E = 2, 6, 8
    x = rng.standard_normal((B, S, E)).astype(np.float32)
    keep = np.ones((B, S), dtype=np.int64)
    keep[1, 4:] = 0
    inp = keras.Input((S, E))
    mask = keras.Input((S,), dtype="int32")
    y = inp
    for _ in range(layers):
        y = keras_hub.layers.TransformerEncoder(intermediate_dim=16, num_heads=2, dropout=0.0, **kwargs)(
            y, padding_mask=mask)
    model = keras.Model([inp, mask], y)
    for w in model.weights:
        if "bias" in w.path or "beta" in w.path or "gamma" in w.path or "vars/1" in w.path:
            base = 1.0 if w.path.endswith("gamma") else 0.0
            w.assign(base + rng.standard_normal(w.shape).astype(np.float32) * 0.3)
    y = np.asarray(model([x, keep.astype(np.int32)]))
    save(out, name, model, "transformer-encoder", {"x": x, "mask": keep}, {"y": y}, flags)


def transformer(out, keras, keras_hub):
    rng = np.random.default_rng(3)
    B, S, T, E = 2, 6, 4, 8
    src = rng.standard_normal((B, S, E)).astype(np.float32)
    tgt = rng.standard_normal((B, T, E)).astype(np.float32)
    s_in = keras.Input((S, E))
    t_in = keras.Input((T, E))
    m = s_in
    for _ in range(1):
        m = keras_hub.layers.TransformerEncoder(intermediate_dim=16, num_heads=2, dropout=0.0)(m)
    y = t_in
    for _ in range(1):
        y = keras_hub.layers.TransformerDecoder(intermediate_dim=16, num_heads=2, dropout=0.0)(
            y, encoder_sequence=m)
    model = keras.Model([s_in, t_in], y)
    for w in model.weights:
        if "bias" in w.path or "beta" in w.path:
            w.assign(rng.standard_normal(w.shape).astype(np.float32) * 0.3)
    o = np.asarray(model([src, tgt]))
    save(out, "transformer_keras3", model, "transformer", {"src": src, "tgt": tgt}, {"out": o},
         ["--activation", "relu", "--no-norm-first", "--eps", "1e-5"])


def seq2seq(out, keras):
    rng = np.random.default_rng(4)
    B, S, T = 2, 7, 4
    src = rng.integers(0, 11, (B, S)).astype(np.int64)
    tgt = rng.integers(0, 9, (B, T)).astype(np.int64)
    e_in = keras.Input((S,), dtype="int32")
    d_in = keras.Input((T,), dtype="int32")
    e = keras.layers.Embedding(11, 6)(e_in)
    _, h, c = keras.layers.LSTM(5, return_state=True)(e)
    d = keras.layers.Embedding(9, 4)(d_in)
    d = keras.layers.LSTM(5, return_sequences=True)(d, initial_state=[h, c])
    logits = keras.layers.Dense(9)(d)
    model = keras.Model([e_in, d_in], logits)
    for w in model.weights:
        if "bias" in w.path or w.path.endswith("vars/2"):
            w.assign(rng.standard_normal(w.shape).astype(np.float32) * 0.5)
    o = np.asarray(model([src.astype(np.int32), tgt.astype(np.int32)]))
    save(out, "seq2seq_lstm_keras3", model, "seq2seq-lstm", {"src": src, "tgt": tgt}, {"logits": o})


def main(out):
    import keras
    import keras_hub
    keras.utils.set_random_seed(0)
    recurrent(out, keras, "lstm_keras3", keras.layers.LSTM, True, 2)
    recurrent(out, keras, "gru_keras3", keras.layers.GRU, True, 2)
    recurrent(out, keras, "gru_reset_before_keras3", keras.layers.GRU, False, 2, reset_after=False)
    encoder(out, keras, keras_hub, "encoder_post_relu_keras3", ["--activation", "relu", "--no-norm-first", "--eps", "1e-5"])
    encoder(out, keras, keras_hub, "encoder_pre_gelu_keras3", ["--activation", "gelu", "--norm-first", "--eps", "1e-6"],
            layers=1, activation="gelu", normalize_first=True, layer_norm_epsilon=1e-6)
    transformer(out, keras, keras_hub)
    seq2seq(out, keras)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))

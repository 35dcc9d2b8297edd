"""Layout conversion with the real frameworks: `ckpt convert --layout` output loads into the
equivalent model of the target framework and reproduces the source framework's outputs.

Sources are the framework fixtures of Fixtures/engine (models saved by tf_keras, PyTorch,
Keras 3 + keras_hub and HF transformers, with their inputs and outputs). Each framework runs in
its own subprocess (tf_keras and Keras 3 cannot share one). Heavy: CKPT_HEAVY=1 (`make interop`).

    CKPT=.build/debug/ckpt CKPT_HEAVY=1 python3 -m pytest Tests/interop/test_layout.py
"""
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENGINE = ROOT / "Fixtures" / "engine"
CKPT = os.environ.get("CKPT", str(ROOT / ".build" / "debug" / "ckpt"))
HEAVY = pytest.mark.skipif(os.environ.get("CKPT_HEAVY") != "1", reason="set CKPT_HEAVY=1 for framework checks")
TOLERANCE = 1e-5

# Loads a fixture's inputs and outputs and compares named outputs (used inside the subprocesses).
PRELUDE = """
import numpy as np
ENGINE = {engine!r}
def fixture(name):
    return dict(np.load(f"{{ENGINE}}/{{name}}.inputs.npz")), dict(np.load(f"{{ENGINE}}/{{name}}.outputs.npz"))
def check(got, want, label):
    got = np.asarray(got, dtype=np.float32)
    assert got.shape == want.shape, (label, got.shape, want.shape)
    error = float(np.max(np.abs(got - want)))
    assert error <= {tolerance}, (label, error)
    print(label, error)
"""


def ckpt(*args):
    result = subprocess.run([CKPT, *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def run_python(code, **env):
    source = PRELUDE.format(engine=str(ENGINE), tolerance=TOLERANCE) + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", **env))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@HEAVY
def test_tf_keras_seq2seq_lstm_into_torch(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "s2s.safetensors"
    ckpt("convert", ENGINE / "seq2seq_lstm_keras2.h5", out, "--layout", "pytorch")
    run_python(f"""
        import torch, torch.nn as nn
        from safetensors.torch import load_file
        class Seq2Seq(nn.Module):   # module names = the Keras layer names
            def __init__(self):
                super().__init__()
                self.embedding, self.embedding_1 = nn.Embedding(11, 6), nn.Embedding(9, 4)
                self.lstm_2 = nn.LSTM(6, 5, batch_first=True)
                self.lstm_3 = nn.LSTM(4, 5, batch_first=True)
                self.dense = nn.Linear(5, 9)
            def forward(self, src, tgt):
                _, state = self.lstm_2(self.embedding(src))
                y, _ = self.lstm_3(self.embedding_1(tgt), state)
                return self.dense(y)
        model = Seq2Seq().eval()
        model.load_state_dict(load_file({str(out)!r}), strict=True)
        inputs, outputs = fixture("seq2seq_lstm_keras2")
        with torch.no_grad():
            logits = model(torch.from_numpy(inputs["src"]), torch.from_numpy(inputs["tgt"]))
        check(logits.numpy(), outputs["logits"], "logits")
    """)


@HEAVY
def test_tf_keras_bidirectional_gru_into_torch(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "gru.pt"
    ckpt("convert", ENGINE / "gru_keras2.h5", out, "--layout", "pytorch")
    run_python(f"""
        import torch, torch.nn as nn
        gru = nn.GRU(6, 4, num_layers=2, bidirectional=True, batch_first=True).eval()
        gru.load_state_dict(torch.load({str(out)!r}, weights_only=True), strict=True)
        inputs, outputs = fixture("gru_keras2")
        with torch.no_grad():
            y, h = gru(torch.from_numpy(inputs["x"]))
        check(y.numpy(), outputs["y"], "y")
        check(h.numpy(), outputs["h_n"], "h_n")
    """)


@HEAVY
def test_torch_bidirectional_lstm_into_tf_keras(tmp_path):
    pytest.importorskip("tf_keras")
    out = tmp_path / "lstm.h5"
    ckpt("convert", ENGINE / "lstm_pytorch.pt", out, "--layout", "keras")
    run_python(f"""
        import tf_keras as keras
        inp = keras.Input((5, 6))
        y = inp
        for _ in range(2):
            y = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))(y)
        model = keras.Model(inp, y)
        model.load_weights({str(out)!r})
        inputs, outputs = fixture("lstm_pytorch")
        check(model(inputs["x"]), outputs["y"], "y")
    """, TF_USE_LEGACY_KERAS="1")


@HEAVY
def test_torch_transformer_into_keras_hub(tmp_path):
    pytest.importorskip("keras")
    pytest.importorskip("keras_hub")
    out = tmp_path / "transformer.weights.h5"
    ckpt("convert", ENGINE / "transformer_pytorch.pt", out, "--layout", "keras3", "--heads", "2")
    run_python(f"""
        import keras, keras_hub
        src, tgt = keras.Input((6, 8)), keras.Input((4, 8))
        def encoder():
            return keras_hub.layers.TransformerEncoder(16, 2, dropout=0.0, layer_norm_epsilon=1e-5)
        def decoder():
            return keras_hub.layers.TransformerDecoder(16, 2, dropout=0.0, layer_norm_epsilon=1e-5)
        memory = encoder()(encoder()(src))
        memory = keras.layers.LayerNormalization(epsilon=1e-5)(memory)    # nn.Transformer's encoder.norm
        y = decoder()(tgt, memory)
        y = decoder()(y, memory)
        y = keras.layers.LayerNormalization(epsilon=1e-5)(y)              # decoder.norm
        model = keras.Model([src, tgt], y)
        model.load_weights({str(out)!r})
        inputs, outputs = fixture("transformer_pytorch")
        check(model([inputs["src"], inputs["tgt"]]), outputs["out"], "out")
    """, KERAS_BACKEND="tensorflow")


@HEAVY
def test_keras_hub_transformer_into_torch(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "transformer.safetensors"
    ckpt("convert", ENGINE / "transformer_keras3.weights.h5", out, "--layout", "pytorch")
    run_python(f"""
        import torch, torch.nn as nn
        from safetensors.torch import load_file
        state = load_file({str(out)!r})
        layers = lambda prefix: len({{k.split(".")[2] for k in state if k.startswith(prefix)}})
        E, F = state["encoder.layers.0.linear1.weight"].shape[1], state["encoder.layers.0.linear1.weight"].shape[0]
        kw = dict(dim_feedforward=F, dropout=0.0, batch_first=True, layer_norm_eps=1e-5)
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.TransformerEncoder(
                    nn.TransformerEncoderLayer(E, 2, **kw), layers("encoder."), enable_nested_tensor=False)
                self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, 2, **kw), layers("decoder."))
        model = Model().eval()
        model.load_state_dict(state, strict=True)
        inputs, outputs = fixture("transformer_keras3")
        src, tgt = torch.from_numpy(inputs["src"]), torch.from_numpy(inputs["tgt"])
        causal = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1])
        with torch.no_grad():
            y = model.decoder(tgt, model.encoder(src), tgt_mask=causal, tgt_is_causal=True)
        check(y.numpy(), outputs["out"], "out")
    """)


@HEAVY
def test_bert_encoder_into_torch_encoder_layers(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "bert.safetensors"
    ckpt("convert", ENGINE / "encoder_bert_hf.safetensors", out, "--layout", "pytorch")
    run_python(f"""
        import torch, torch.nn as nn
        from safetensors.torch import load_file
        state = {{k: v for k, v in load_file({str(out)!r}).items() if k.startswith("encoder.")}}
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", layer_norm_eps=1e-12,
                                           batch_first=True)
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        model = Model().eval()
        model.load_state_dict(state, strict=True)
        inputs, outputs = fixture("encoder_bert_hf")
        with torch.no_grad():
            y = model.encoder(torch.from_numpy(inputs["x"]),
                              src_key_padding_mask=torch.from_numpy(inputs["mask"]) == 0)
        keep = inputs["mask"].astype(bool)
        check(y.numpy()[keep], outputs["y"][keep], "y (unpadded positions)")
    """)


@HEAVY
def test_torch_encoder_layers_into_bert(tmp_path):
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    out = tmp_path / "bert.safetensors"
    ckpt("convert", ENGINE / "encoder_post_relu_pytorch.safetensors", out, "--layout", "hf")
    run_python(f"""
        import torch, transformers as tr
        from safetensors.torch import load_file
        cfg = tr.BertConfig(hidden_size=8, num_attention_heads=2, intermediate_size=16, num_hidden_layers=2,
                            hidden_act="relu", layer_norm_eps=1e-5, hidden_dropout_prob=0.0,
                            attention_probs_dropout_prob=0.0)
        bert = tr.BertModel(cfg, add_pooling_layer=False).eval()
        encoder = bert.encoder   # its state_dict names: layer.N.attention.self.query.weight, …
        encoder.load_state_dict(load_file({str(out)!r}), strict=True)
        inputs, outputs = fixture("encoder_post_relu_pytorch")
        keep = torch.from_numpy(inputs["mask"])
        with torch.no_grad():
            additive = bert.get_extended_attention_mask(keep, keep.shape)
            y = encoder(torch.from_numpy(inputs["x"]), attention_mask=additive).last_hidden_state
        mask = inputs["mask"].astype(bool)
        check(y.numpy()[mask], outputs["y"][mask], "y (unpadded positions)")
    """)


@HEAVY
@pytest.mark.parametrize("layout", ["keras", "keras3"])
def test_torch_multihead_attention_into_keras(tmp_path, layout):
    pytest.importorskip("torch")
    pytest.importorskip("tf_keras" if layout == "keras" else "keras")
    source, arrays = tmp_path / "mha.safetensors", tmp_path / "mha.npz"
    run_python(f"""
        import torch, torch.nn as nn
        from safetensors.torch import save_file
        torch.manual_seed(0)
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        model = Model().eval()
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn_like(p) * 0.5)
            q, kv = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
            y, _ = model.attn(q, kv, kv, need_weights=False)
        save_file(model.state_dict(), {str(source)!r})
        np.savez({str(arrays)!r}, q=q.numpy(), kv=kv.numpy(), y=y.numpy())
    """)
    out = tmp_path / ("mha.h5" if layout == "keras" else "mha.weights.h5")
    ckpt("convert", source, out, "--layout", layout, "--heads", "2")
    module = "tf_keras" if layout == "keras" else "keras"
    run_python(f"""
        import {module} as keras
        data = np.load({str(arrays)!r})
        q, kv = keras.Input((3, 8)), keras.Input((5, 8))
        y = keras.layers.MultiHeadAttention(2, 4)(q, kv)
        model = keras.Model([q, kv], y)
        model.load_weights({str(out)!r})
        check(model([data["q"], data["kv"]]), data["y"], "y")
    """, TF_USE_LEGACY_KERAS="1" if layout == "keras" else "0", KERAS_BACKEND="tensorflow")

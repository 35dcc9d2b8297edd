"""Engine fixtures: tiny seeded models, their inputs and the framework's outputs.

For every model `NAME` this writes, into Fixtures/engine/:

- `NAME.safetensors` (and `NAME.pt` for PyTorch models, `NAME.weights.h5` / `NAME.h5`
  for Keras models): the checkpoint as the framework saves it;
- `NAME.inputs.npz`: the inputs named as `ckpt run` expects them (x, mask, src, tgt);
- `NAME.outputs.npz`: the framework's outputs (y, h_n, c_n, out, logits);
- `NAME.json`: the `ckpt run` arguments that reproduce the outputs (arch and flags).

Keras models are built in subprocesses (Keras 3 and tf_keras cannot share one), and
for those a `NAME.safetensors` copy of the .h5 datasets (same names, same values,
read with h5py) is written too, so the engine's recognisers are tested on the real
Keras names even without an HDF5 reader.
"""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def _save(out, name, arch, inputs, outputs, flags=(), layout="pytorch"):
    np.savez(out / f"{name}.inputs.npz", **inputs)
    np.savez(out / f"{name}.outputs.npz", **outputs)
    (out / f"{name}.json").write_text(json.dumps(
        {"arch": arch, "layout": layout, "flags": list(flags)}, indent=1) + "\n")


def _torch_checkpoint(out, name, module, pt=True):
    import torch
    from safetensors.torch import save_file
    state = {k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}
    save_file(state, str(out / f"{name}.safetensors"))
    if pt:
        torch.save(state, str(out / f"{name}.pt"))


def _np(t):
    return t.detach().cpu().numpy().astype(np.float32)


def pytorch(out):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)
    B, T, I = 2, 5, 6

    # LSTM: 2 layers, bidirectional.
    lstm = nn.LSTM(I, 4, num_layers=2, bidirectional=True, batch_first=True).eval()
    x = torch.randn(B, T, I)
    with torch.no_grad():
        y, (h, c) = lstm(x)
    _torch_checkpoint(out, "lstm_pytorch", lstm)
    _save(out, "lstm_pytorch", "lstm", {"x": _np(x)}, {"y": _np(y), "h_n": _np(h), "c_n": _np(c)})

    # LSTM with proj_size, 2 layers, bidirectional.
    lstmp = nn.LSTM(I, 5, num_layers=2, bidirectional=True, proj_size=3, batch_first=True).eval()
    with torch.no_grad():
        y, (h, c) = lstmp(x)
    _torch_checkpoint(out, "lstm_proj_pytorch", lstmp, pt=False)
    _save(out, "lstm_proj_pytorch", "lstm", {"x": _np(x)}, {"y": _np(y), "h_n": _np(h), "c_n": _np(c)})

    # GRU: 2 layers, bidirectional.
    gru = nn.GRU(I, 4, num_layers=2, bidirectional=True, batch_first=True).eval()
    with torch.no_grad():
        y, h = gru(x)
    _torch_checkpoint(out, "gru_pytorch", gru)
    _save(out, "gru_pytorch", "gru", {"x": _np(x)}, {"y": _np(y), "h_n": _np(h)})

    # Transformer encoders with a key-padding mask (1 = keep). The reference is the
    # math path (no nested-tensor fast path, which would zero the padded rows).
    E, S = 8, 6
    xs = torch.randn(B, S, E)
    keep = torch.ones(B, S, dtype=torch.int64)
    keep[1, 4:] = 0
    variants = [
        ("encoder_post_relu_pytorch", dict(activation="relu"), False,
         ["--activation", "relu", "--no-norm-first", "--eps", "1e-5"]),
        ("encoder_pre_gelu_pytorch", dict(activation="gelu", norm_first=True, layer_norm_eps=1e-6), True,
         ["--activation", "gelu", "--norm-first", "--eps", "1e-6"]),
        ("encoder_post_gelu_tanh_pytorch", dict(activation=lambda t: F.gelu(t, approximate="tanh")), False,
         ["--activation", "gelu_tanh", "--no-norm-first", "--eps", "1e-5"]),
    ]
    for name, kwargs, final_norm, flags in variants:
        layer = nn.TransformerEncoderLayer(E, 2, dim_feedforward=16, dropout=0.0, batch_first=True, **kwargs)
        norm = nn.LayerNorm(E, eps=kwargs.get("layer_norm_eps", 1e-5)) if final_norm else None
        enc = nn.TransformerEncoder(layer, 2, norm=norm, enable_nested_tensor=False).eval()
        with torch.no_grad():
            # Randomise the LayerNorm affine parameters so they are exercised.
            for n, p in enc.named_parameters():
                if "norm" in n:
                    p.copy_(torch.randn_like(p) * 0.3 + (1.0 if n.endswith("weight") else 0.0))
            ys = enc(xs, src_key_padding_mask=keep == 0)
        _torch_checkpoint(out, name, enc, pt=name == "encoder_post_relu_pytorch")
        _save(out, name, "transformer-encoder", {"x": _np(xs), "mask": keep.numpy().astype(np.int64)},
              {"y": _np(ys)}, ["--heads", "2", *flags])

    # Encoder-decoder nn.Transformer (post-norm, relu, final norms); causal decoder.
    Tt = 4
    tr = nn.Transformer(E, 2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
                        batch_first=True).eval()
    src = torch.randn(B, S, E)
    tgt = torch.randn(B, Tt, E)
    with torch.no_grad():
        causal = nn.Transformer.generate_square_subsequent_mask(Tt)
        o = tr(src, tgt, tgt_mask=causal, tgt_is_causal=True)
    _torch_checkpoint(out, "transformer_pytorch", tr)
    _save(out, "transformer_pytorch", "transformer", {"src": _np(src), "tgt": _np(tgt)}, {"out": _np(o)},
          ["--heads", "2", "--activation", "relu", "--no-norm-first", "--eps", "1e-5"])

    # Pre-norm gelu encoder-decoder.
    tr2 = nn.Transformer(E, 4, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=12, dropout=0.0,
                         activation="gelu", norm_first=True, batch_first=True).eval()
    with torch.no_grad():
        o = tr2(src, tgt, tgt_mask=causal, tgt_is_causal=True)
    _torch_checkpoint(out, "transformer_pre_gelu_pytorch", tr2, pt=False)
    _save(out, "transformer_pre_gelu_pytorch", "transformer", {"src": _np(src), "tgt": _np(tgt)},
          {"out": _np(o)}, ["--heads", "4", "--activation", "gelu", "--norm-first", "--eps", "1e-5"])

    # A bias-free encoder layer (bias=False: no Linear, attention or LayerNorm offsets).
    torch.manual_seed(6)
    enc = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(E, 2, dim_feedforward=12, dropout=0.0, batch_first=True, bias=False), 1,
        enable_nested_tensor=False).eval()
    with torch.no_grad():
        ys = enc(xs, src_key_padding_mask=keep == 0)
    _torch_checkpoint(out, "encoder_nobias_pytorch", enc, pt=False)
    _save(out, "encoder_nobias_pytorch", "transformer-encoder", {"x": _np(xs), "mask": keep.numpy().astype(np.int64)},
          {"y": _np(ys)}, ["--heads", "2", "--activation", "relu", "--no-norm-first", "--eps", "1e-5"])

    # seq2seq-lstm: encoder embedding + LSTM, decoder embedding + LSTM started from the
    # encoder's final (h, c), then a Linear output projection (logits).
    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(11, 6)
            self.lstm = nn.LSTM(6, 5, num_layers=2, batch_first=True)

        def forward(self, src):
            _, state = self.lstm(self.embedding(src))
            return state

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(9, 4)
            self.lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True)
            self.out = nn.Linear(5, 9)

        def forward(self, tgt, state):
            y, _ = self.lstm(self.embedding(tgt), state)
            return self.out(y)

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.decoder = Decoder()

        def forward(self, src, tgt):
            return self.decoder(tgt, self.encoder(src))

    s2s = Seq2Seq().eval()
    src_tok = torch.randint(0, 11, (B, 7))
    tgt_tok = torch.randint(0, 9, (B, 4))
    with torch.no_grad():
        logits = s2s(src_tok, tgt_tok)
    _torch_checkpoint(out, "seq2seq_lstm_pytorch", s2s)
    _save(out, "seq2seq_lstm_pytorch", "seq2seq-lstm",
          {"src": src_tok.numpy().astype(np.int64), "tgt": tgt_tok.numpy().astype(np.int64)},
          {"logits": _np(logits)})


def huggingface(out):
    """HF BERT and BART layer stacks, run through the real transformers modules."""
    import torch
    import transformers as tr

    torch.manual_seed(5)
    B, S, T, E = 2, 6, 4, 8
    cfg = tr.BertConfig(vocab_size=10, hidden_size=E, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=16, attn_implementation="eager")
    bert = tr.BertModel(cfg, add_pooling_layer=False).eval()
    x = torch.randn(B, S, E)
    keep = torch.ones(B, S, dtype=torch.int64)
    keep[1, 4:] = 0
    with torch.no_grad():
        for n, p in bert.named_parameters():
            if "LayerNorm" in n or n.endswith("bias"):
                p.copy_(torch.randn_like(p) * 0.3 + (1.0 if "LayerNorm.weight" in n else 0.0))
        ext = bert.get_extended_attention_mask(keep, (B, S))
        y = bert.encoder(x, attention_mask=ext).last_hidden_state
    _torch_checkpoint(out, "encoder_bert_hf", bert, pt=False)
    _save(out, "encoder_bert_hf", "transformer-encoder", {"x": _np(x), "mask": keep.numpy()}, {"y": _np(y)},
          ["--heads", "2", "--activation", "gelu", "--eps", "1e-12"], layout="hf-bert")

    cfg = tr.BartConfig(vocab_size=10, d_model=E, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
                        decoder_attention_heads=2, encoder_ffn_dim=16, decoder_ffn_dim=12, max_position_embeddings=16,
                        attn_implementation="eager")
    bart = tr.BartModel(cfg).eval()
    src = torch.randn(B, S, E)
    tgt = torch.randn(B, T, E)
    with torch.no_grad():
        for n, p in bart.named_parameters():
            if "layer_norm" in n or n.endswith("bias"):
                p.copy_(torch.randn_like(p) * 0.3 + (1.0 if n.endswith("layer_norm.weight") else 0.0))
        m = src
        for layer in bart.encoder.layers:
            m = layer(m, attention_mask=None, layer_head_mask=None)[0]
        causal = torch.full((T, T), torch.finfo(torch.float32).min).triu(1)[None, None].expand(B, 1, T, T)
        o = tgt
        for layer in bart.decoder.layers:
            o = layer(o, attention_mask=causal, encoder_hidden_states=m, use_cache=False)[0]
    state = {k: v for k, v in bart.state_dict().items() if k != "shared.weight"}
    from safetensors.torch import save_file
    save_file({k: v.contiguous().clone() for k, v in state.items()}, str(out / "transformer_bart_hf.safetensors"))
    _save(out, "transformer_bart_hf", "transformer", {"src": _np(src), "tgt": _np(tgt)}, {"out": _np(o)},
          ["--heads", "2", "--activation", "gelu", "--no-norm-first", "--eps", "1e-5"], layout="hf-bart")


def generate(out_dir: pathlib.Path):
    pytorch(out_dir)
    try:
        import transformers  # noqa: F401
    except ImportError:
        print("warning: transformers is not installed; the HF BERT/BART fixtures were not regenerated")
    else:
        huggingface(out_dir)
    for script, env in [("_engine_keras3.py", {"KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow")}),
                        ("_engine_keras2.py", {"TF_USE_LEGACY_KERAS": "1"})]:
        path = HERE / script
        if not path.exists():
            continue
        result = subprocess.run([sys.executable, "-P", str(path), str(out_dir)], env={**os.environ, **env})
        if result.returncode != 0:
            print(f"warning: {script} failed ({result.returncode}); its fixtures were not regenerated")

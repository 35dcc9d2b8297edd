"""`ckpt verify` and `ckpt diff` on files the real libraries write (numpy + safetensors only).

Seeded faults are made with numpy on the committed engine fixtures and saved with
safetensors; the CLI must exit non-zero naming the faulty module (verify) or tensor (diff).
"""
import json
import pathlib

import numpy as np
from safetensors.numpy import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENGINE = ROOT / "Fixtures" / "engine"


def verify(ckpt, a, b, *flags):
    result = ckpt("verify", a, b, "--json", *flags, check=False)
    return result.returncode, json.loads(result.stdout)


def test_same_model_in_two_formats_verifies(ckpt):
    code, report = verify(ckpt, ENGINE / "lstm_pytorch.safetensors", ENGINE / "lstm_pytorch.pt")
    assert code == 0 and report["passed"] and report["first_failure"] is None
    assert [m["name"] for m in report["modules"]] == ["lstm.l0", "lstm.l1"]
    assert report["tolerances"] == {"dtype": "F32", "rtol": 1.3e-6, "atol": 1e-5}


def test_swapped_gates_located(ckpt, tmp_path):
    state = load_file(str(ENGINE / "lstm_pytorch.safetensors"))
    w = state["weight_hh_l1_reverse"].copy()  # [4H, H], gates i, f, g, o
    h = w.shape[1]
    w[0:h], w[2 * h:3 * h] = state["weight_hh_l1_reverse"][2 * h:3 * h], state["weight_hh_l1_reverse"][0:h]
    state["weight_hh_l1_reverse"] = w
    save_file(state, str(tmp_path / "b.safetensors"))
    code, report = verify(ckpt, ENGINE / "lstm_pytorch.safetensors", tmp_path / "b.safetensors")
    assert code == 1 and report["first_failure"] == "lstm.l1"
    assert report["modules"][0]["passed"] and not report["modules"][1]["passed"]


# What a bare nn.Transformer state dict cannot record: the settings its layers were built with.
NN_DEFAULTS = ("--activation", "relu", "--no-norm-first", "--eps", "1e-5")


def test_transposed_out_proj_located(ckpt, tmp_path):
    state = load_file(str(ENGINE / "encoder_post_relu_pytorch.safetensors"))
    state["layers.0.self_attn.out_proj.weight"] = np.ascontiguousarray(state["layers.0.self_attn.out_proj.weight"].T)
    save_file(state, str(tmp_path / "b.safetensors"))
    code, report = verify(ckpt, ENGINE / "encoder_post_relu_pytorch.safetensors", tmp_path / "b.safetensors",
                          "--heads", "2", *NN_DEFAULTS)
    assert code == 1 and report["first_failure"] == "encoder.layers.0.self_attn"


def test_diff_names_the_changed_tensor(ckpt, tmp_path):
    state = load_file(str(ENGINE / "gru_pytorch.safetensors"))
    state["bias_hh_l0"] = np.zeros_like(state["bias_hh_l0"])
    save_file(state, str(tmp_path / "b.safetensors"))
    result = ckpt("diff", ENGINE / "gru_pytorch.safetensors", tmp_path / "b.safetensors", "--json", check=False)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    changed = [t for t in report["tensors"] if t["status"] != "identical"]
    assert [t["name"] for t in changed] == ["bias_hh_l0"]
    expected = float(np.abs(load_file(str(ENGINE / "gru_pytorch.safetensors"))["bias_hh_l0"]).max())
    assert abs(changed[0]["max_abs_error"] - expected) < 1e-7


def test_float16_copy_verifies_with_its_tolerance(ckpt, tmp_path):
    state = load_file(str(ENGINE / "transformer_pytorch.safetensors"))
    save_file({k: v.astype(np.float16) for k, v in state.items()}, str(tmp_path / "b.safetensors"))
    code, report = verify(ckpt, ENGINE / "transformer_pytorch.safetensors", tmp_path / "b.safetensors",
                          "--heads", "2", *NN_DEFAULTS)
    assert code == 0, report
    assert report["tolerances"]["dtype"] == "F16"
    assert report["whole"]["max_abs_error"] > 0

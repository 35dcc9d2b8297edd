"""Prints the accuracy figures of Docs/quantization.md: `ckpt quantize --json` of the fixture
Transformer and seq2seq models (Fixtures/gguf/models) with every scheme.

    python3 Benchmarks/quantization_report.py --ckpt .build/release/ckpt
"""
import argparse
import json
import pathlib
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODELS = [
    ("Transformer (torch nn.Transformer, d_model 32, 4 heads, 2+2 layers)", "transformer.safetensors"),
    ("seq2seq (embedding + LSTM encoder/decoder, hidden 32, vocabulary 48)", "seq2seq_lstm.safetensors"),
]
SCHEMES = ["f16", "bf16", "int8", "q8_0", "q4_0"]


def report(ckpt, src, scheme, folder):
    out = pathlib.Path(folder) / f"{src.stem}_{scheme}.gguf"
    result = subprocess.run([ckpt, "quantize", src, out, "--scheme", scheme, "--json"], capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout)


def total(tensors):
    quantized = [t for t in tensors if "kept_reason" not in t]
    return len(quantized), max((t["max_abs_error"] for t in quantized), default=0.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", default=str(ROOT / ".build" / "debug" / "ckpt"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for title, file in MODELS:
            src = ROOT / "Fixtures" / "gguf" / "models" / file
            print(f"### {title}\n")
            print("| scheme | tensors quantized | tensor bytes | worst tensor SNR (dB) | max abs weight error | "
                  "end-to-end cosine similarity | end-to-end max abs error |")
            print("|---|---|---|---|---|---|---|")
            details = {}
            for scheme in SCHEMES:
                r = report(args.ckpt, src, scheme, folder)
                count, worst = total(r["tensors"])
                snrs = [t["snr_db"] for t in r["tensors"] if "kept_reason" not in t and t["snr_db"] is not None]
                e2e = r.get("end_to_end") or {}
                print(f"| {scheme} | {count} of {len(r['tensors'])} | {r['bytes_in']} → {r['bytes_out']} B | "
                      f"{min(snrs):.2f} | {worst:.4g} | {e2e.get('cosine_similarity', float('nan')):.6f} | "
                      f"{e2e.get('max_abs_error', float('nan')):.4g} |")
                details[scheme] = r
            print()
            print(f"Per tensor, Q8_0 and Q4_0 ({file}; RMSE / max abs error / SNR dB):\n")
            print("| tensor | Q8_0 | Q4_0 |")
            print("|---|---|---|")
            kept = {}
            for t8, t4 in zip(details["q8_0"]["tensors"], details["q4_0"]["tensors"]):
                if "kept_reason" in t4:
                    kept[t4["kept_reason"]] = kept.get(t4["kept_reason"], 0) + 1
                    continue
                cells = [f"{t['rmse']:.3g} / {t['max_abs_error']:.3g} / {t['snr_db']:.2f}" for t in (t8, t4)]
                print(f"| {t4['name']} | {cells[0]} | {cells[1]} |")
            print()
            print("Kept as they were: " + "; ".join(f"{n} × {reason}" for reason, n in kept.items()) + ".\n")


if __name__ == "__main__":
    main()

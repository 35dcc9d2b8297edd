"""One module of a larger checkpoint, run alone by the framework (for `ckpt run --module`).

Into Fixtures/modules/: the encoder LSTM of Fixtures/engine/seq2seq_lstm_pytorch.safetensors
(`encoder.lstm`, 2 layers) as torch's nn.LSTM computes it on its own:
`encoder_lstm.inputs.npz` (x [2, 7, 6]) and `encoder_lstm.outputs.npz` (y, h_n, c_n).
Run after the engine area, whose checkpoint it reads.
"""
import pathlib

import numpy as np


def generate(out: pathlib.Path):
    import torch
    from safetensors.torch import load_file
    weights = load_file(str(out.parent / "engine" / "seq2seq_lstm_pytorch.safetensors"))
    prefix = "encoder.lstm."
    state = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    lstm = torch.nn.LSTM(6, 5, num_layers=2, batch_first=True)
    lstm.load_state_dict(state)
    lstm.eval()
    x = torch.from_numpy(np.random.default_rng(7).normal(size=(2, 7, 6)).astype(np.float32))
    with torch.no_grad():
        y, (h, c) = lstm(x)
    np.savez(out / "encoder_lstm.inputs.npz", x=x.numpy())
    np.savez(out / "encoder_lstm.outputs.npz", y=y.numpy(), h_n=h.numpy(), c_n=c.numpy())

"""PyTorch fixtures: torch.save archives written by real torch, plus malicious pickles.

Writes into Fixtures/pytorch/:
- lstm.pt, gru.pt, transformer.pt, seq2seq.pt: `state_dict()`s of small real modules.
- views.pt: a tensor with its transpose, a slice, a stepped view, a row, a column, a second name
  for the same tensor, an expanded (stride 0) view, a 0-d and a zero-size tensor (several tensors
  sharing one storage).
- dtypes.pt: one tensor per supported dtype (f32 f16 bf16 f64 i64 i32 i16 i8 u8 bool).
- nested.pt: a training checkpoint {"model", "optimizer" (Adam after one step), "epoch", ...}.
- legacy.pt (`_use_new_zipfile_serialization=False`) and scripted.pt (`torch.jit.save`):
  formats the reader must refuse as unsupported.
- expected.json: per file, per dotted tensor name: dtype, shape, sha256 of the C-contiguous
  little-endian bytes; scalar metadata of nested.pt.
- malicious/*.pt: torch-like zips whose data.pkl (written by Python's pickle) would run
  `touch SENTINEL` if unpickled by an unsafe loader. The reader must refuse each one, naming
  the global, and the sentinel file must not exist afterwards.
"""
import collections
import hashlib
import json
import os
import pickle
import subprocess
import zipfile

SENTINEL = "/tmp/ckpt-pytorch-malicious-sentinel"
DTYPE_NAMES = {
    "float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64", "int64": "I64",
    "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
}


def _sha256(t):
    import torch
    flat = t.detach().contiguous().reshape(-1)
    raw = flat.view(torch.uint8) if flat.dtype != torch.bool else flat.to(torch.uint8)
    return hashlib.sha256(raw.numpy().tobytes()).hexdigest()


def _describe(tensors):
    return {name: {"dtype": DTYPE_NAMES[str(t.dtype).removeprefix("torch.")], "shape": list(t.shape),
                   "sha256": _sha256(t)} for name, t in tensors.items()}


def _flatten(obj, prefix, tensors, metadata):
    """Dotted names for tensors at any depth; scalars become metadata."""
    import torch
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), tensors, metadata)
    elif isinstance(obj, (list, tuple)) and any(isinstance(v, (dict, list, tuple, torch.Tensor)) for v in obj):
        for i, v in enumerate(obj):
            _flatten(v, f"{prefix}.{i}" if prefix else str(i), tensors, metadata)
    else:
        metadata[prefix] = obj


def _models():
    import torch
    from torch import nn

    class Seq2SeqModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(12, 6)
            self.encoder = nn.LSTM(6, 8, batch_first=True)
            self.decoder = nn.LSTM(6, 8, batch_first=True)
            self.out = nn.Linear(8, 12)

    torch.manual_seed(0)
    return {
        "lstm": nn.LSTM(5, 4, num_layers=2, bidirectional=True),
        "gru": nn.GRU(5, 4),
        "transformer": nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                                      dim_feedforward=32),
        "seq2seq": Seq2SeqModel(),
    }


def _malicious(out_dir):
    """Pickles that would run `touch SENTINEL`, each packed like a torch.save zip."""
    import torch

    class SystemCall:
        def __reduce__(self):
            return (os.system, (f"touch {SENTINEL}",))

    class Eval:
        def __reduce__(self):
            return (eval, (f"__import__('os').system('touch {SENTINEL}')",))

    class Exec:
        def __reduce__(self):
            return (exec, (f"import os; os.system('touch {SENTINEL}')",))

    class Subprocess:
        def __reduce__(self):
            return (subprocess.call, (["touch", SENTINEL],))

    class StorageCall:
        """REDUCE on an allow-listed name that is not callable (a storage class)."""
        def __reduce__(self):
            return (torch.FloatStorage, (f"touch {SENTINEL}",))

    class Memo:
        """Protocol 4: the module string of STACK_GLOBAL comes from the memo (BINGET)."""
        def __reduce__(self):
            return (os.system, (f"touch {SENTINEL}",))

    cases = {
        "os_system": (collections.OrderedDict(weight=SystemCall()), 2),
        "builtins_eval": (collections.OrderedDict(weight=Eval()), 4),
        # Protocol 2 spells it the Python 2 way: __builtin__.eval.
        "builtin_eval_protocol2": (collections.OrderedDict(weight=Eval()), 2),
        "builtins_exec": (collections.OrderedDict(weight=Exec()), 3),
        "subprocess_call": (collections.OrderedDict(weight=Subprocess()), 3),
        "reduce_storage": (collections.OrderedDict(weight=StorageCall()), 2),
        # The very strings pickle uses for os.system appear as keys first, so STACK_GLOBAL fetches them from the memo.
        "memo_stack_global": ({os.system.__module__: 1, os.system.__qualname__: 2, "weight": Memo()}, 4),
    }
    folder = out_dir / "malicious"
    folder.mkdir(exist_ok=True)
    for name, (obj, protocol) in cases.items():
        data = pickle.dumps(obj, protocol=protocol)
        with zipfile.ZipFile(folder / f"{name}.pt", "w", zipfile.ZIP_STORED) as z:
            for record, content in (("data.pkl", data), ("byteorder", b"little"), ("version", b"3\n")):
                z.writestr(zipfile.ZipInfo(f"{name}/{record}", date_time=(1980, 1, 1, 0, 0, 0)), content)
    # The memo case must really go through BINGET before STACK_GLOBAL.
    import pickletools
    ops = [op.name for op, _, _ in pickletools.genops(pickle.dumps(cases["memo_stack_global"][0], protocol=4))]
    i = ops.index("STACK_GLOBAL")
    assert "BINGET" in ops[i - 4:i], ops


def generate(out_dir):
    import torch
    from torch import nn

    expected = {}
    for name, model in _models().items():
        sd = model.state_dict()
        torch.save(sd, out_dir / f"{name}.pt")
        expected[f"{name}.pt"] = {"tensors": _describe(sd), "order": list(sd.keys())}

    torch.manual_seed(1)
    base = torch.randn(4, 6)
    views = collections.OrderedDict()
    views["base"] = base
    views["transposed"] = base.t()
    views["slice"] = base[1:3, 2:5]
    views["strided"] = base[::2, ::3]
    views["row"] = base[2]
    views["alias"] = base
    views["scalar"] = torch.tensor(3.5)
    views["empty"] = torch.zeros(0, 3)
    views["offset_i64"] = torch.arange(3, dtype=torch.int64)[1:]
    views["expanded"] = torch.arange(3, dtype=torch.int16).expand(4, 3)  # stride (0, 1)
    views["column"] = base[:, 4:5]
    torch.save(views, out_dir / "views.pt")
    expected["views.pt"] = {"tensors": _describe(views), "order": list(views.keys())}

    torch.manual_seed(2)
    dtypes = collections.OrderedDict()
    ref = torch.randn(3, 5) * 10
    for dt in (torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int64, torch.int32,
               torch.int16, torch.int8, torch.uint8, torch.bool):
        key = str(dt).removeprefix("torch.")
        if dt == torch.bool:
            dtypes[key] = ref > 0
        elif dt == torch.uint8:
            dtypes[key] = ref.abs().to(dt)
        else:
            dtypes[key] = ref.to(dt)
    torch.save(dtypes, out_dir / "dtypes.pt")
    expected["dtypes.pt"] = {"tensors": _describe(dtypes), "order": list(dtypes.keys())}

    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    checkpoint = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "best_loss": 0.25,
                  "name": "run-1", "finished": False}
    torch.save(checkpoint, out_dir / "nested.pt")
    tensors, metadata = {}, {}
    _flatten(checkpoint, "", tensors, metadata)
    expected["nested.pt"] = {
        "tensors": _describe(tensors), "order": list(tensors.keys()),
        "metadata": {k: v for k, v in metadata.items() if isinstance(v, (int, float, str, bool))},
        "model": {"tensors": _describe(model.state_dict()), "order": list(model.state_dict().keys())},
    }

    torch.save(collections.OrderedDict(w=torch.ones(2)), out_dir / "legacy.pt",
               _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), str(out_dir / "scripted.pt"))

    _malicious(out_dir)
    (out_dir / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")

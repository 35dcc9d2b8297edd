#!/usr/bin/env bash
# `make demo`: the main job on bundled fixtures — inspect checkpoints made by the real
# frameworks, convert them between formats, prove the round trips are bit-exact, and show
# that hostile files are refused. Usage: Scripts/demo.sh PATH/TO/ckpt
set -eu
CKPT=${1:?usage: demo.sh PATH/TO/ckpt}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
F="$ROOT/Fixtures"
OUT=$(mktemp -d "${TMPDIR:-/tmp}/ckpt-demo.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
tidy() { sed "s#$F/#Fixtures/#g; s#$OUT/#out/#g"; }
# Runs ckpt, showing the command and its output with short paths; returns ckpt's status.
run() {
  printf '$ ckpt %s\n' "$*" | tidy
  "$CKPT" "$@" > "$OUT/.log" 2>&1 && status=0 || status=$?
  tidy < "$OUT/.log"
  return $status
}

step "1. What is in a sharded Hugging Face checkpoint (headers only)"
run inspect "$F/safetensors/sharded/model.safetensors.index.json" | head -14
echo "   ..."

step "2. Convert it between formats, then back"
run convert "$F/safetensors/sharded/model.safetensors.index.json" "$OUT/model.safetensors"
run convert "$OUT/model.safetensors" "$OUT/model.npz" --compress zlib:6
run convert "$OUT/model.npz" "$OUT/model.h5" --compress zlib:4
LAST="$OUT/model.h5"
if "$CKPT" --help | grep -q " check "; then
  run convert "$LAST" "$OUT/model.ckz" --compress zlib:6
  run check "$OUT/model.ckz"
  LAST="$OUT/model.ckz"
fi
run convert "$LAST" "$OUT/back.safetensors"
run convert "$OUT/back.safetensors" "$OUT/model.pt"

step "3. The round trips are bit-exact"
cmp "$OUT/model.safetensors" "$OUT/back.safetensors"
echo "model.safetensors and back.safetensors are byte-identical after npz, h5 and $(basename "$LAST")"
"$CKPT" convert --quiet "$F/safetensors/dtypes.safetensors" "$OUT/dtypes.npz"
"$CKPT" convert --quiet "$OUT/dtypes.npz" "$OUT/dtypes.safetensors"
cmp "$F/safetensors/dtypes.safetensors" "$OUT/dtypes.safetensors"
echo "a file written by the safetensors library survives safetensors -> npz -> safetensors byte for byte"
run convert "$OUT/model.safetensors" "$OUT/resharded/model.safetensors.index.json" --shard-size 16KB
ls "$OUT/resharded" | tidy
"$CKPT" convert --quiet "$OUT/resharded/model.safetensors.index.json" "$OUT/merged.safetensors"
cmp "$OUT/model.safetensors" "$OUT/merged.safetensors"
echo "sharded into 16 KB shards and merged again: byte-identical"

step "4. PyTorch archives, read without executing anything"
run inspect "$F/pytorch/nested.pt" --key model
run inspect "$F/pytorch/malicious/os_system.pt" || echo "(refused: exit status $?)"

step "5. Keras files: layers and weights"
run inspect --tree "$F/hdf5/keras2_weights.h5" | tail -12

E="$F/engine"
step "6. Keras weights into a PyTorch model, proven with our own forward pass"
run convert "$E/seq2seq_lstm_keras2.h5" "$OUT/seq2seq.pt" --layout pytorch --verify
run run "$OUT/seq2seq.pt" --arch seq2seq-lstm --inputs "$E/seq2seq_lstm_keras2.inputs.npz" --output "$OUT/logits.npz"
echo "Our forward pass of the converted .pt against tf_keras's own outputs:"
run diff "$OUT/logits.npz" "$E/seq2seq_lstm_keras2.outputs.npz"
run convert "$E/lstm_pytorch.safetensors" "$OUT/lstm.h5" --layout keras --verify

step "7. Scripts get JSON"
run inspect --json "$F/safetensors/bf16.safetensors"

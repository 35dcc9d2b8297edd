#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS seconds, one after the other.
#
#   Fuzz/run.sh SECONDS [TARGET...]      (targets: safetensors npy npz pytorch pickle hdf5 ckz gguf onnx)
#
# Build: Fuzz/ is its own SwiftPM package (release, -sanitize=fuzzer,address) in
# .build-fuzz. Seeds come from the fixtures (Fuzz/make_seeds.py -> .fuzz/seeds),
# new inputs go to .fuzz/corpus/<target>, crashes to .fuzz/artifacts/<target>/.
# Each campaign runs with `nice -n 19` in one process (libFuzzer without -jobs). A line per target is appended
# to .fuzz/summary.tsv: target, seconds, executions, exec/s, crashes, corpus files.
# Exit status: 1 if any target crashed, else 0. Targets whose format is not in
# this build (exit 77) are reported as skipped.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=${*:-safetensors npy npz pytorch pickle hdf5 ckz gguf onnx}
BUILD=$ROOT/.build-fuzz
OUT=$ROOT/.fuzz
SWIFT=${SWIFT:-swift}

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  (cd Fuzz && nice -n 19 "$SWIFT" build -c release --scratch-path "$BUILD" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library) || exit 2
fi
mkdir -p "$OUT/seeds" "$OUT/logs"
python3 Fuzz/make_seeds.py "$OUT/seeds"

export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:malloc_context_size=0}
status=0
for target in $TARGETS; do
  exe=$BUILD/release/fuzz-$target
  mkdir -p "$OUT/corpus/$target" "$OUT/artifacts/$target"
  log=$OUT/logs/$target.log
  echo "fuzz-$target: ${SECONDS_PER_TARGET}s (log $log)"
  max_len=65536
  [ "$target" = pickle ] && max_len=16384  # record lists: data.pkl comes first, storages after
  nice -n 19 "$exe" -max_total_time="$SECONDS_PER_TARGET" -max_len=$max_len -timeout=20 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
    -dict="Fuzz/dictionaries/$target.dict" -artifact_prefix="$OUT/artifacts/$target/" \
    "$OUT/corpus/$target" "$OUT/seeds/$target" >"$log" 2>&1
  rc=$?
  if [ $rc = 77 ]; then
    echo "  skipped: $(tail -1 "$log")"
    continue
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  crashes=$(find "$OUT/artifacts/$target" -type f | wc -l)
  corpus=$(find "$OUT/corpus/$target" -type f | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$SECONDS_PER_TARGET" "${execs:-?}" "${speed:-?}" "$crashes" "$corpus" \
    | tee -a "$OUT/summary.tsv"
  if [ $rc != 0 ] || [ "$crashes" != 0 ]; then
    echo "  fuzz-$target FAILED (exit $rc); see $log and $OUT/artifacts/$target/"
    status=1
  fi
done
exit $status

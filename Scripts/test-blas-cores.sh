#!/usr/bin/env bash
# Runs the tests whose numbers come from BLAS (the engine and verify) once per OpenBLAS kernel
# family this CPU can run, forced with OPENBLAS_CORETYPE: what a user's CPU (or a machine that
# sets the variable) picks must pass here too. Docs/determinism.md states what they assert.
# Usage: Scripts/test-blas-cores.sh [swift]   (after `swift build --build-tests`)
set -euo pipefail
SWIFT="${1:-swift}"
FILTER="CheckpointEngineTests|CheckpointVerificationTests"

flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
has() { for flag in "$@"; do [[ "$flags" == *" $flag "* ]] || return 1; done; }

cores=()
has ssse3 sse4_1 sse4_2 && cores+=(Nehalem)
has avx && cores+=(Sandybridge)
has avx avx2 fma && cores+=(Haswell Zen)
has avx512f avx512cd avx512bw avx512dq avx512vl && cores+=(SkylakeX)
if [ "${#cores[@]}" -eq 0 ]; then
  echo "test-blas-cores: no x86-64 kernel family to force on this CPU (not x86-64?); skipped"
  exit 0
fi

failed=()
for core in "${cores[@]}"; do
  echo "== engine and verify tests with OPENBLAS_CORETYPE=$core"
  if OPENBLAS_CORETYPE="$core" "$SWIFT" test --skip-build --filter "$FILTER" >".build/blas-core-$core.log" 2>&1; then
    grep -E "Executed [0-9]+ tests" ".build/blas-core-$core.log" | tail -1
  else
    grep -E "error:|Executed [0-9]+ tests" ".build/blas-core-$core.log" | cut -c1-400 | tail -20
    failed+=("$core")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "test-blas-cores: failed with OPENBLAS_CORETYPE=${failed[*]} (logs in .build/blas-core-*.log)"
  exit 1
fi
echo "test-blas-cores: ${#cores[@]} kernel families passed (${cores[*]})"

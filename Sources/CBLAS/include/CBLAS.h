#ifndef CHECKPOINTKIT_CBLAS_H
#define CHECKPOINTKIT_CBLAS_H

#include <limits.h>
#include <sched.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

// The one place that chooses the BLAS: Accelerate on Apple platforms (linked),
// OpenBLAS elsewhere, loaded with dlopen on the first matrix product rather
// than linked. Linking it costs every `ckpt` run 2–4 ms before main (its
// ~12,000 symbol relocations, and a thread pool started at load) although only
// `ckpt run`, `verify` and `quantize` ever multiply a matrix.
//
// The declarations below are CheckpointKit's own, so the Swift side does not
// depend on which cblas.h (OpenBLAS's, netlib's) the system has installed.

/// Loads the BLAS library once (thread-safe). Returns NULL on success, or a
/// message naming each library tried and why it failed (also on later calls).
///
/// On Linux the library is `$CKPT_LIBBLAS` when set, else `libopenblas.so.0`,
/// then other CBLAS libraries (`libcblas.so.3`, `libblas.so.3`).
const char *_Nullable checkpointkit_blas_load(void);

/// Row-major single-precision `C = alpha · op(A) · op(B) + beta · C` (CBLAS `sgemm`),
/// where op transposes when `trans_a` / `trans_b` is non-zero. Loads BLAS on first
/// use; callers check `checkpointkit_blas_load()` first for a clean error.
void checkpointkit_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float *_Nonnull a, int lda, const float *_Nonnull b, int ldb,
                         float beta, float *_Nonnull c, int ldc);

/// The number of threads a BLAS call may use: 1 once loaded (the library's own pool is set
/// to one thread and stopped at load; the engine splits products between its own threads).
/// Accelerate manages its threads itself and reports 1.
int checkpointkit_blas_threads(void);

/// The kernel family the BLAS library chose for this CPU (OpenBLAS's core name, such as
/// "Haswell" or "SkylakeX", which `OPENBLAS_CORETYPE` can force), or NULL when the library
/// does not say (Accelerate, netlib) or is not loaded.
const char *_Nullable checkpointkit_blas_core(void);

// A barrier for the engine's few threads around BLAS calls, on `state[0]` (arrivals),
// `state[1]` (generation) and `state[2]` (sleepers), all zero at first: spins briefly (the
// threads are expected within microseconds), then sleeps (a futex on Linux, else yields), so a
// thread kept off its core by another process is not left waiting behind a spinning one.
// Swift 5 mode has no portable atomics before macOS 15.
static inline void checkpointkit_barrier_wait(int *_Nonnull state, int parties) {
  int generation = __atomic_load_n(&state[1], __ATOMIC_ACQUIRE);
  if (__atomic_add_fetch(&state[0], 1, __ATOMIC_ACQ_REL) == parties) {
    __atomic_store_n(&state[0], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&state[1], generation + 1, __ATOMIC_SEQ_CST);
#if defined(__linux__)
    if (__atomic_load_n(&state[2], __ATOMIC_SEQ_CST) > 0) {
      syscall(SYS_futex, &state[1], FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    }
#endif
    return;
  }
  for (unsigned spins = 0; __atomic_load_n(&state[1], __ATOMIC_ACQUIRE) == generation; spins++) {
    if (spins < 4000) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#elif defined(__aarch64__)
      __asm__ __volatile__("yield");
#endif
    } else {
#if defined(__linux__)
      // Returns at once when the generation has moved on since the check above.
      __atomic_add_fetch(&state[2], 1, __ATOMIC_SEQ_CST);
      syscall(SYS_futex, &state[1], FUTEX_WAIT_PRIVATE, generation, NULL, NULL, 0);
      __atomic_sub_fetch(&state[2], 1, __ATOMIC_SEQ_CST);
#else
      sched_yield();
#endif
    }
  }
}

#endif

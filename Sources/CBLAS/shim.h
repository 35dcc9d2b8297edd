#ifndef CHECKPOINTKIT_CBLAS_SHIM_H
#define CHECKPOINTKIT_CBLAS_SHIM_H

// The one place that chooses the BLAS: Accelerate on Apple platforms,
// OpenBLAS (found through pkg-config `openblas`) elsewhere. Both expose the
// classic CBLAS interface (`cblas_sgemm`, `CblasRowMajor`, `CblasTrans`).
#if defined(__APPLE__)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif
#include <limits.h>
#include <sched.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

// The number of threads a BLAS call may use (OpenBLAS's own pool; always 1 for
// Accelerate, which manages its threads itself).
static inline int checkpointkit_blas_threads(void) {
#if defined(__APPLE__)
  return 1;
#else
  return openblas_get_num_threads();
#endif
}

// Sets the number of threads later BLAS calls may use (no effect with Accelerate).
static inline void checkpointkit_set_blas_threads(int count) {
#if defined(__APPLE__)
  (void)count;
#else
  openblas_set_num_threads(count);
#endif
}

#if !defined(__APPLE__)
// OpenBLAS's own (not in cblas.h); weak, since builds without a thread pool lack it.
extern int blas_thread_shutdown_(void) __attribute__((weak));
#endif

// Stops the BLAS thread pool until a later multi-threaded call starts it again. OpenBLAS's
// idle workers busy-wait (yielding) for about 0.1 s after start-up (the pool starts when the
// library is loaded) and after each call, which takes a core from threads of the caller's own
// and from commands that never multiply a matrix; stopped, they cost nothing. It is what
// OpenBLAS's own fork handler calls.
static inline void checkpointkit_park_blas_threads(void) {
#if !defined(__APPLE__)
  if (blas_thread_shutdown_) blas_thread_shutdown_();
#endif
}

// A barrier for the engine's few threads around BLAS calls, on `state[0]` (arrivals),
// `state[1]` (generation) and `state[2]` (sleepers), all zero at first: spins briefly (the
// threads are expected within microseconds), then sleeps (a futex on Linux, else yields), so a
// thread kept off its core by another process is not left waiting behind a spinning one.
// Swift 5 mode has no portable atomics before macOS 15.
static inline void checkpointkit_barrier_wait(int *state, int parties) {
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

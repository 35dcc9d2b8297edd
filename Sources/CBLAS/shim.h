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
// idle workers busy-wait (yielding) for about 0.1 s after start-up and after each call, which
// takes a core from threads of the caller's own; stopped, they cost nothing.
static inline void checkpointkit_park_blas_threads(void) {
#if !defined(__APPLE__)
  if (blas_thread_shutdown_) blas_thread_shutdown_();
#endif
}

#endif

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

#if !defined(__APPLE__)
// OpenBLAS starts its worker threads when the library is loaded, and each
// spins (sched_yield) for about 0.1 s waiting for work: a whole core taken
// from commands that never multiply a matrix. blas_thread_shutdown_ is what
// OpenBLAS's own fork handler calls; the first product that wants threads
// starts the pool again. Weak, so another BLAS without it still links.
extern int blas_thread_shutdown_(void) __attribute__((weak));
#endif

// Stops the BLAS library's idle worker threads (no effect with Accelerate).
static inline void checkpointkit_blas_stop_idle_threads(void) {
#if !defined(__APPLE__)
  if (blas_thread_shutdown_) blas_thread_shutdown_();
#endif
}

#endif

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

#endif

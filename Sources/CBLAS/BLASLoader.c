// The BLAS behind include/CBLAS.h: Accelerate (linked) on Apple platforms,
// a CBLAS library loaded with dlopen on first use elsewhere.

#include "CBLAS.h"

#include <stdio.h>
#include <stdlib.h>

// CBLAS's ABI: enum values from the reference cblas.h, 32-bit integers (the
// LP64 interface every distribution's libopenblas.so.0 and libcblas.so.3 use).
enum { CKBLAS_ROW_MAJOR = 101, CKBLAS_NO_TRANS = 111, CKBLAS_TRANS = 112 };

#if defined(__APPLE__)

#include <Accelerate/Accelerate.h>

const char *checkpointkit_blas_load(void) { return NULL; }

void checkpointkit_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                         int lda, const float *b, int ldb, float beta, float *c, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int checkpointkit_blas_threads(void) { return 1; }
const char *checkpointkit_blas_core(void) { return NULL; }

#else

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

typedef void (*ckblas_sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                                const float *a, int lda, const float *b, int ldb, float beta, float *c,
                                int ldc);

static pthread_once_t ckblas_once = PTHREAD_ONCE_INIT;
static char ckblas_error[2048];
static ckblas_sgemm_fn ckblas_sgemm;
// OpenBLAS's own thread controls; NULL for libraries without them (netlib's CBLAS runs on
// the caller's thread anyway).
static int (*ckblas_get_threads)(void);
static void (*ckblas_set_threads)(int);
static int (*ckblas_shutdown_pool)(void);
static char *(*ckblas_get_corename)(void);

static void ckblas_append(const char *text) {
  size_t used = strlen(ckblas_error);
  if (used + 1 < sizeof ckblas_error) snprintf(ckblas_error + used, sizeof ckblas_error - used, "%s", text);
}

static void *ckblas_symbol(void *handle, const char *name) { return dlsym(handle, name); }

static int ckblas_try(const char *name) {
  void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *why = dlerror();
    ckblas_append(why ? why : name);
    ckblas_append("; ");
    return 0;
  }
  void *sgemm = ckblas_symbol(handle, "cblas_sgemm");
  if (sgemm == NULL) {
    ckblas_append(name);
    ckblas_append(": has no symbol cblas_sgemm; ");
    dlclose(handle);
    return 0;
  }
  memcpy(&ckblas_sgemm, &sgemm, sizeof sgemm);
  void *symbol = ckblas_symbol(handle, "openblas_get_num_threads");
  memcpy(&ckblas_get_threads, &symbol, sizeof symbol);
  symbol = ckblas_symbol(handle, "openblas_set_num_threads");
  memcpy(&ckblas_set_threads, &symbol, sizeof symbol);
  symbol = ckblas_symbol(handle, "blas_thread_shutdown_");
  memcpy(&ckblas_shutdown_pool, &symbol, sizeof symbol);
  symbol = ckblas_symbol(handle, "openblas_get_corename");
  memcpy(&ckblas_get_corename, &symbol, sizeof symbol);
  return 1;
}

static void ckblas_load_once(void) {
  const char *explicit = getenv("CKPT_LIBBLAS");
  int loaded = 0;
  if (explicit != NULL && explicit[0] != '\0') {
    loaded = ckblas_try(explicit);
  } else {
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3"};
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !loaded; i++) loaded = ckblas_try(names[i]);
  }
  if (loaded) {
    ckblas_error[0] = '\0';
    // Every product runs on its caller's thread: the engine splits products between its own
    // threads, by a rule that depends only on the shapes and its thread count, so the bits of a
    // result never depend on how many threads the library's pool would have used (under some
    // OpenBLAS kernels, Haswell and Zen among them, a product split by the pool differs in the
    // last bits from the same product on one thread). OpenBLAS starts its pool when loaded, and
    // the idle workers spin: with one thread the pool is stopped and never starts again.
    if (ckblas_set_threads != NULL) ckblas_set_threads(1);
    if (ckblas_shutdown_pool != NULL) ckblas_shutdown_pool();
  } else {
    size_t used = strlen(ckblas_error);
    if (used >= 2) ckblas_error[used - 2] = '\0';  // the last "; "
    ckblas_append(" (the engine needs a CBLAS library: install OpenBLAS, e.g. apt-get install "
                  "libopenblas0, or set CKPT_LIBBLAS to its path)");
  }
}

const char *checkpointkit_blas_load(void) {
  pthread_once(&ckblas_once, ckblas_load_once);
  return ckblas_sgemm != NULL ? NULL : ckblas_error;
}

void checkpointkit_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                         int lda, const float *b, int ldb, float beta, float *c, int ldc) {
  const char *failure = checkpointkit_blas_load();
  if (failure != NULL) {
    // CheckpointEngine checks the load before any forward pass; this is a programming error.
    fprintf(stderr, "CheckpointKit internal error: a matrix product without BLAS: %s\n", failure);
    abort();
  }
  ckblas_sgemm(CKBLAS_ROW_MAJOR, trans_a ? CKBLAS_TRANS : CKBLAS_NO_TRANS,
               trans_b ? CKBLAS_TRANS : CKBLAS_NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int checkpointkit_blas_threads(void) {
  if (checkpointkit_blas_load() != NULL || ckblas_get_threads == NULL) return 1;
  return ckblas_get_threads();
}

const char *checkpointkit_blas_core(void) {
  if (checkpointkit_blas_load() != NULL || ckblas_get_corename == NULL) return NULL;
  return ckblas_get_corename();
}

#endif

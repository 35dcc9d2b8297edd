#ifndef CHECKPOINTKIT_CZLIB_SHIM_H
#define CHECKPOINTKIT_CZLIB_SHIM_H

#include <zlib.h>

// zlib's init functions are macros that pass the library version and the
// stream size; Swift cannot import function-like macros, so wrap them.
static inline int ckz_deflateInit2(z_streamp strm, int level, int windowBits) {
  return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}

static inline int ckz_inflateInit2(z_streamp strm, int windowBits) {
  return inflateInit2(strm, windowBits);
}

#endif

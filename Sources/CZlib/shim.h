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

// CRC-32 (the zlib/zip polynomial) by carry-less multiplication, for x86-64
// CPUs with PCLMULQDQ and SSE4.1. zlib 1.2 computes CRC-32 with tables at a
// few GB/s; folding 64 bytes per step with PCLMULQDQ is several times
// faster, and CRC-32 runs over every byte that zip and .ckz files store.
// The method and its constants are those of Gopal et al., "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction" (Intel,
// 2009), for the bit-reflected polynomial 0x104C11DB7. CPUs with AVX-512
// VPCLMULQDQ fold four 512-bit lanes (256 bytes) per step with the same
// method; its constants are x^(2048+32) and x^(2048-32) mod P, reflected and
// shifted left by one like the others (0x11542778a, 0x1322d1430).
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <cpuid.h>
#include <stddef.h>
#include <stdint.h>
#include <immintrin.h>
#include <smmintrin.h>
#include <wmmintrin.h>

/// Whether the CPU has PCLMULQDQ and SSE4.1 (CPUID leaf 1, ECX bits 1 and 19).
static inline int ckz_crc32_fold_available(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  return (ecx & (1u << 1)) != 0 && (ecx & (1u << 19)) != 0;
}

/// Folds one 128-bit lane forward by the distance the constants `k` encode.
__attribute__((target("pclmul,sse4.1")))
static inline __m128i ckz_crc32_fold(__m128i lane, __m128i k) {
  return _mm_xor_si128(_mm_clmulepi64_si128(lane, k, 0x00), _mm_clmulepi64_si128(lane, k, 0x11));
}

/// The end of a fold: four 128-bit lanes `a`–`d` hold the register state for the 64 bytes
/// before `data`; folds `length` more bytes (a multiple of 16) into them and reduces the
/// result to the 32-bit CRC register.
__attribute__((target("pclmul,sse4.1")))
static inline uint32_t ckz_crc32_fold_lanes(__m128i a, __m128i b, __m128i c, __m128i d,
                                            const unsigned char *data, size_t length) {
  // x^(4*128+32) and x^(4*128-32) mod P, reflected: fold four lanes by 64 bytes.
  const __m128i fold64 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
  // x^(128+32) and x^(128-32) mod P: fold one lane by 16 bytes.
  const __m128i fold16 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
  // x^64 mod P, then the Barrett constants (P' = floor(x^64 / P) and P).
  const __m128i fold8 = _mm_set_epi64x(0, 0x0163cd6124);
  const __m128i barrett = _mm_set_epi64x(0x01f7011641, 0x01db710641);
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);

  while (length >= 64) {
    a = _mm_xor_si128(ckz_crc32_fold(a, fold64), _mm_loadu_si128((const __m128i *)data));
    b = _mm_xor_si128(ckz_crc32_fold(b, fold64), _mm_loadu_si128((const __m128i *)(data + 16)));
    c = _mm_xor_si128(ckz_crc32_fold(c, fold64), _mm_loadu_si128((const __m128i *)(data + 32)));
    d = _mm_xor_si128(ckz_crc32_fold(d, fold64), _mm_loadu_si128((const __m128i *)(data + 48)));
    data += 64;
    length -= 64;
  }
  // Four lanes into one, then the remaining 16-byte blocks.
  a = _mm_xor_si128(ckz_crc32_fold(a, fold16), b);
  a = _mm_xor_si128(ckz_crc32_fold(a, fold16), c);
  a = _mm_xor_si128(ckz_crc32_fold(a, fold16), d);
  while (length >= 16) {
    a = _mm_xor_si128(ckz_crc32_fold(a, fold16), _mm_loadu_si128((const __m128i *)data));
    data += 16;
    length -= 16;
  }
  // 128 bits to 64, to 32 by Barrett reduction.
  __m128i t = _mm_clmulepi64_si128(a, fold16, 0x10);
  a = _mm_xor_si128(_mm_srli_si128(a, 8), t);
  t = _mm_srli_si128(a, 4);
  a = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(a, low32), fold8, 0x00), t);
  t = _mm_clmulepi64_si128(_mm_and_si128(a, low32), barrett, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
  a = _mm_xor_si128(a, t);
  return (uint32_t)_mm_extract_epi32(a, 1);
}

/// Continues a CRC-32 over `length` bytes: `state` and the result are the
/// running register (the CRC value with its bits inverted), as inside zlib.
/// `length` must be at least 64 and a multiple of 16. Call only when
/// ckz_crc32_fold_available() returns 1.
__attribute__((target("pclmul,sse4.1")))
static inline uint32_t ckz_crc32_fold_update(uint32_t state, const unsigned char *data, size_t length) {
  __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)data), _mm_cvtsi32_si128((int)state));
  __m128i b = _mm_loadu_si128((const __m128i *)(data + 16));
  __m128i c = _mm_loadu_si128((const __m128i *)(data + 32));
  __m128i d = _mm_loadu_si128((const __m128i *)(data + 48));
  return ckz_crc32_fold_lanes(a, b, c, d, data + 64, length - 64);
}

/// Whether the CPU and the operating system support the 512-bit fold: AVX-512F and
/// VPCLMULQDQ (CPUID leaf 7), with the ZMM and opmask registers enabled in XCR0.
static inline int ckz_crc32_wide_fold_available(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!ckz_crc32_fold_available() || !__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  if ((ecx & (1u << 27)) == 0) return 0;  // OSXSAVE: XGETBV is usable
  unsigned int xcr0_low, xcr0_high;
  __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  if ((xcr0_low & 0xE6) != 0xE6) return 0;  // SSE, AVX, opmask, ZMM0-15 high halves, ZMM16-31
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  return (ebx & (1u << 16)) != 0 && (ecx & (1u << 10)) != 0;
}

/// ckz_crc32_fold_update, folding four 512-bit lanes by 256 bytes per step (VPCLMULQDQ)
/// while at least 256 bytes remain, then as above. `length` must be at least 256 and a
/// multiple of 16. Call only when ckz_crc32_wide_fold_available() returns 1.
__attribute__((target("pclmul,sse4.1,avx512f,vpclmulqdq")))
static inline uint32_t ckz_crc32_wide_fold_update(uint32_t state, const unsigned char *data, size_t length) {
  // x^(4*512+32) and x^(4*512-32) mod P, reflected, in every 128-bit lane: fold by 256 bytes.
  const __m512i fold256 = _mm512_broadcast_i32x4(_mm_set_epi64x(0x01322d1430, 0x011542778a));
  // The same for 64 bytes: one 512-bit lane into the next.
  const __m512i fold64 = _mm512_broadcast_i32x4(_mm_set_epi64x(0x01c6e41596, 0x0154442bd4));
  __m512i w = _mm512_xor_si512(_mm512_loadu_si512((const void *)data),
                               _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)state)));
  __m512i x = _mm512_loadu_si512((const void *)(data + 64));
  __m512i y = _mm512_loadu_si512((const void *)(data + 128));
  __m512i z = _mm512_loadu_si512((const void *)(data + 192));
  data += 256;
  length -= 256;
#define CKZ_FOLD512(lane, k, next) \
  _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(lane, k, 0x00), _mm512_clmulepi64_epi128(lane, k, 0x11), next, 0x96)
  while (length >= 256) {
    w = CKZ_FOLD512(w, fold256, _mm512_loadu_si512((const void *)data));
    x = CKZ_FOLD512(x, fold256, _mm512_loadu_si512((const void *)(data + 64)));
    y = CKZ_FOLD512(y, fold256, _mm512_loadu_si512((const void *)(data + 128)));
    z = CKZ_FOLD512(z, fold256, _mm512_loadu_si512((const void *)(data + 192)));
    data += 256;
    length -= 256;
  }
  // Four 512-bit lanes into one, which holds four consecutive 128-bit lanes.
  x = CKZ_FOLD512(w, fold64, x);
  y = CKZ_FOLD512(x, fold64, y);
  z = CKZ_FOLD512(y, fold64, z);
#undef CKZ_FOLD512
  return ckz_crc32_fold_lanes(_mm512_extracti32x4_epi32(z, 0), _mm512_extracti32x4_epi32(z, 1),
                              _mm512_extracti32x4_epi32(z, 2), _mm512_extracti32x4_epi32(z, 3), data,
                              length);
}
#else
static inline int ckz_crc32_fold_available(void) { return 0; }
static inline int ckz_crc32_wide_fold_available(void) { return 0; }
static inline uint32_t ckz_crc32_fold_update(uint32_t state, const unsigned char *data, size_t length) {
  (void)data;
  (void)length;
  return state;
}
static inline uint32_t ckz_crc32_wide_fold_update(uint32_t state, const unsigned char *data, size_t length) {
  (void)data;
  (void)length;
  return state;
}
#endif

#endif

/*
 * What Kiln's AVX-512 kernels share: lane masks, ReLU and its gradient gate with Java's semantics, and the one
 * warning that GCC's own headers raise here.
 */
#ifndef KILN_AVX512_H
#define KILN_AVX512_H

#include <immintrin.h>

/* GCC 12's own avx512fintrin.h trips these (its _mm512_undefined_ps) once inlined into our kernels. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

/** Lanes [0, n) of a 16-float vector, n clamped to [0, 16]. */
static inline __mmask16 kiln_lanes(long n) {
    return n >= 16 ? (__mmask16) 0xFFFF : n <= 0 ? (__mmask16) 0 : (__mmask16) ((1u << n) - 1);
}

/** Java's Math.max(v, 0f): NaN stays NaN, -0 becomes +0. */
__attribute__((target("avx512f")))
static inline __m512 kiln_relu(__m512 v) {
    __m512 r = _mm512_max_ps(v, _mm512_setzero_ps());
    return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
}

/** dy where z > 0 (NaN is not), else +0: the ReLU's gradient given its output (Java's Relu.gate). */
__attribute__((target("avx512f")))
static inline __m512 kiln_relu_gate(__m512 z, __m512 dy) {
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ), dy);
}

#endif

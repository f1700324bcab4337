/*
 * Direct convolution of one image, stride 1, on AVX-512: Kiln's own CPU kernel for the convolutions where
 * im2col + sgemm runs thin GEMMs (3x3 kernels, and 1x1 kernels on large images).
 *
 * The formulation is the one of ShiftedGemmConvolution.java, without the GEMM library in between. The input
 * is zero-padded to planes of Hp x Wp and read as one flat row per channel; output (p, q) is computed at grid
 * position p * Wp + q, where tap (r, s) reads the input at that position plus r * Wp + s. The last Wp - Q
 * positions of each grid row are garbage and are never stored.
 *
 * The register tile is 8 output channels x 48 consecutive grid positions: 24 zmm accumulators. For each input
 * channel and tap the kernel loads 3 vectors of input (contiguous, thanks to the grid) and broadcasts 8
 * weights, for 24 FMAs. Weights are packed so those 8 are adjacent: (ceil(K/8), C, R, S, 8).
 *
 * Output channel k at grid position p sums over c, r, s in that order, in float, with FMAs. Threads split
 * work by image and by block of output channels, so the result does not depend on the thread count.
 *
 * The epilogue reproduces the separate Java kernels' float operations in their order (a bias add, then the
 * inference batch norm's x * scale + shift, then + residual, then ReLU with Java's Math.max semantics), with
 * explicit multiplies and adds, never contracted into FMAs, so fused and separate results are bit-identical.
 */
#ifndef KILN_DIRECT_CONV_H
#define KILN_DIRECT_CONV_H

#include <immintrin.h>
#include <string.h>

/* GCC 12's own avx512fintrin.h trips -Wmaybe-uninitialized (its _mm512_undefined_ps) once inlined here. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define KILN_KB 8          /* output channels per register tile */
#define KILN_PT 48         /* grid positions per register tile: three 16-float vectors */
#define KILN_CHUNK 65536   /* input floats per cache block (256 KiB, within L2) */

/** 1 if this CPU runs the kernels below (AVX-512F), else 0. */
static inline int kiln_direct_conv_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/**
 * Packs w (K, C, R, S) for kiln_direct_conv as (ceil(K/8), C, R, S, 8), zero past K. With transpose_flip, packs
 * the weights of backward-data instead, W^T with the taps flipped: output channel c, input channel k, tap
 * (r, s) = w[k][c][R-1-r][S-1-s], as (ceil(C/8), K, R, S, 8).
 */
static inline void kiln_pack_weights(const float *w, int K, int C, int R, int S, int transpose_flip,
                                     float *packed) {
    int outs = transpose_flip ? C : K, ins = transpose_flip ? K : C, taps = R * S;
    int blocks = (outs + KILN_KB - 1) / KILN_KB;
    memset(packed, 0, (size_t) blocks * ins * taps * KILN_KB * sizeof(float));
    for (int o = 0; o < outs; o++) {
        float *dst = packed + (size_t) (o / KILN_KB) * ins * taps * KILN_KB + o % KILN_KB;
        for (int i = 0; i < ins; i++) {
            for (int t = 0; t < taps; t++) {
                float v = transpose_flip ? w[((size_t) i * C + o) * taps + (taps - 1 - t)]
                                         : w[((size_t) o * C + i) * taps + t];
                dst[((size_t) i * taps + t) * KILN_KB] = v;
            }
        }
    }
}

/** Copies C planes of H x W into the centre of C zero-bordered planes of Hp x Wp. */
static inline void kiln_pad_planes(const float *x, int C, int H, int W, int pad_h, int pad_w, int Hp, int Wp,
                                   float *padded) {
    for (int c = 0; c < C; c++) {
        float *dst = padded + (size_t) c * Hp * Wp;
        const float *src = x + (size_t) c * H * W;
        memset(dst, 0, (size_t) pad_h * Wp * sizeof(float));
        for (int h = 0; h < H; h++) {
            float *row = dst + (size_t) (h + pad_h) * Wp;
            memset(row, 0, (size_t) pad_w * sizeof(float));
            memcpy(row + pad_w, src + (size_t) h * W, (size_t) W * sizeof(float));
            memset(row + pad_w + W, 0, (size_t) (Wp - pad_w - W) * sizeof(float));
        }
        memset(dst + (size_t) (H + pad_h) * Wp, 0, (size_t) (Hp - H - pad_h) * Wp * sizeof(float));
    }
}

/** Java's Math.max(v, 0f): NaN stays NaN, -0 becomes +0. */
__attribute__((target("avx512f")))
static inline __m512 kiln_relu(__m512 v) {
    __m512 r = _mm512_max_ps(v, _mm512_setzero_ps());
    return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
}

/** Stores len (at most 48) values of one output row, each through the epilogue. Null pointers skip a step. */
__attribute__((target("avx512f")))
static inline void kiln_store_row(const float *values, int len, float *out, float bias, int has_bias,
                                  const float *scale, const float *shift, const float *residual, int relu, int k) {
    for (int j = 0; j < len; j += 16) {
        __mmask16 m = (__mmask16) (len - j >= 16 ? 0xFFFF : (1u << (len - j)) - 1);
        __m512 v = _mm512_loadu_ps(values + j);
        if (has_bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias));
        if (scale) {
            v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(scale[k])), _mm512_set1_ps(shift[k]));
            if (residual) v = kiln_relu(_mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual + j)));
            else if (relu) v = kiln_relu(v);
        }
        _mm512_mask_storeu_ps(out + j, m, v);
    }
}

/** Accumulates one register tile over every input channel and tap; masked loads where mask is not all ones. */
__attribute__((target("avx512f")))
static inline void kiln_tile(const float *x, size_t cstride, int C, int Wp, int R, int S, const float *wb,
                             __mmask64 lanes, float tile[KILN_KB][KILN_PT]) {
    __m512 acc[KILN_KB][3];
    for (int k = 0; k < KILN_KB; k++) {
        for (int j = 0; j < 3; j++) acc[k][j] = _mm512_setzero_ps();
    }
    __mmask16 m0 = (__mmask16) lanes, m1 = (__mmask16) (lanes >> 16), m2 = (__mmask16) (lanes >> 32);
    int full = lanes == (((__mmask64) 1 << KILN_PT) - 1);
    const float *w = wb;
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t) c * cstride;
        for (int r = 0; r < R; r++) {
            for (int s = 0; s < S; s++, w += KILN_KB) {
                const float *xa = xc + (size_t) r * Wp + s;
                __m512 a0, a1, a2;
                if (full) {
                    a0 = _mm512_loadu_ps(xa);
                    a1 = _mm512_loadu_ps(xa + 16);
                    a2 = _mm512_loadu_ps(xa + 32);
                } else {
                    a0 = _mm512_maskz_loadu_ps(m0, xa);
                    a1 = _mm512_maskz_loadu_ps(m1, xa + 16);
                    a2 = _mm512_maskz_loadu_ps(m2, xa + 32);
                }
#pragma GCC unroll 8
                for (int k = 0; k < KILN_KB; k++) {
                    __m512 b = _mm512_set1_ps(w[k]);
                    acc[k][0] = _mm512_fmadd_ps(b, a0, acc[k][0]);
                    acc[k][1] = _mm512_fmadd_ps(b, a1, acc[k][1]);
                    acc[k][2] = _mm512_fmadd_ps(b, a2, acc[k][2]);
                }
            }
        }
    }
    for (int k = 0; k < KILN_KB; k++) {
        for (int j = 0; j < 3; j++) _mm512_storeu_ps(&tile[k][16 * j], acc[k][j]);
    }
}

/**
 * Output channel blocks [kb0, kb1) of one image. x: C zero-padded planes of Hp x Wp, consecutive. packed: from
 * kiln_pack_weights. y: K planes of P x Q with P = Hp - R + 1 and Q = Wp - S + 1. The epilogue, per output
 * channel k: + bias[k] when bias is not null; then, when scale is not null, * scale[k] + shift[k], and + residual
 * (K planes of P x Q) with ReLU when residual is not null, else ReLU when relu is set.
 */
__attribute__((target("avx512f")))
static inline void kiln_direct_conv(const float *x, int C, int Hp, int Wp, int R, int S, const float *packed,
                                    int K, int kb0, int kb1, float *y, const float *bias, const float *scale,
                                    const float *shift, const float *residual, int relu) {
    int P = Hp - R + 1, Q = Wp - S + 1;
    size_t cstride = (size_t) Hp * Wp, plane = (size_t) P * Q, taps = (size_t) R * S;
    int grid = P * Wp;
    /* The last lanes whose taps stay inside the last channel's plane; past it only garbage positions lie. */
    int readable = grid - (S - 1);
    int chunk = (KILN_CHUNK / (C > 0 ? C : 1)) / KILN_PT * KILN_PT;
    if (chunk < KILN_PT) chunk = KILN_PT;
    float tile[KILN_KB][KILN_PT];
    for (int q0 = 0; q0 < grid; q0 += chunk) {
        int qend = q0 + chunk < grid ? q0 + chunk : grid;
        for (int kb = kb0; kb < kb1; kb++) {
            const float *wb = packed + (size_t) kb * C * taps * KILN_KB;
            for (int p0 = q0; p0 < qend; p0 += KILN_PT) {
                int lanesOk = readable - p0 < KILN_PT ? readable - p0 : KILN_PT;
                __mmask64 lanes = lanesOk <= 0 ? 0 : (((__mmask64) 1 << lanesOk) - 1);
                kiln_tile(x + p0, cstride, C, Wp, R, S, wb, lanes, tile);
                int pend = p0 + KILN_PT < qend ? p0 + KILN_PT : qend;
                if (Wp == Q) {
                    /* No garbage columns (a 1x1 kernel, or no padding along the row): the tile is one run. */
                    for (int k = kb * KILN_KB; k < (kb + 1) * KILN_KB && k < K; k++) {
                        size_t at = (size_t) k * plane + p0;
                        kiln_store_row(&tile[k - kb * KILN_KB][0], pend - p0, y + at, bias ? bias[k] : 0.0f,
                                       bias != 0, scale, shift, residual ? residual + at : 0, relu, k);
                    }
                    continue;
                }
                for (int p = p0; p < pend;) {
                    int h = p / Wp, w = p - h * Wp;
                    if (w >= Q) {
                        p = (h + 1) * Wp;
                        continue;
                    }
                    int end = h * Wp + Q < pend ? h * Wp + Q : pend;
                    for (int k = kb * KILN_KB; k < (kb + 1) * KILN_KB && k < K; k++) {
                        size_t at = (size_t) k * plane + (size_t) h * Q + w;
                        kiln_store_row(&tile[k - kb * KILN_KB][p - p0], end - p, y + at,
                                       bias ? bias[k] : 0.0f, bias != 0, scale, shift,
                                       residual ? residual + at : 0, relu, k);
                    }
                    p = end;
                }
            }
        }
    }
}

#endif

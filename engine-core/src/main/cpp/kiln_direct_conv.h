/*
 * Direct convolution of one image on AVX-512: Kiln's own CPU kernel for the convolutions where im2col + sgemm
 * runs thin GEMMs (3x3 kernels, the strided stem, and 1x1 kernels on large images).
 *
 * The input is rearranged into "phase planes" (kiln_phase_planes): for stride 1 these are the zero-padded
 * channels; for stride t, each padded channel is split into t x t planes by row and column remainder, so that
 * every tap of a strided convolution reads one plane with unit stride. Output (p, q) is computed at grid
 * position p * G + q, where G is the planes' width, and tap (c, r, s) reads its plane at that position plus a
 * fixed offset: plane(c, r % t, s % t) * plane_size + (r / t) * G + s / t. The caller lists those offsets, one
 * per row of the packed weights (c, r, s), so one loop serves every stride and kernel size. The last G - Q
 * positions of each grid row are garbage and are never stored.
 *
 * The register tile is 8 output channels x 48 consecutive grid positions: 24 zmm accumulators. For each
 * (c, r, s) the kernel loads 3 vectors of input (contiguous, thanks to the grid) and broadcasts 8 weights, for
 * 24 FMAs. Weights are packed so those 8 are adjacent: (ceil(K/8), C, R, S, 8).
 *
 * Output channel k at grid position p sums over c, r, s in that order, in float, with FMAs. Threads split
 * work by image and by block of output channels, so the result does not depend on the thread count.
 *
 * The epilogue reproduces the separate Java kernels' float operations in their order (a bias add, then the
 * inference batch norm's x * scale + shift, then + residual, then ReLU with Java's Math.max semantics). The
 * build compiles with -ffp-contract=off, so no multiply and add is fused into an FMA there, and fused and
 * separate results are bit-identical.
 */
#ifndef KILN_DIRECT_CONV_H
#define KILN_DIRECT_CONV_H

#include "kiln_avx512.h"
#include <string.h>


#define KILN_KB 8          /* output channels per register tile */
#define KILN_PT 48         /* grid positions per register tile: three 16-float vectors */
#define KILN_CHUNK 65536   /* input floats per cache block (256 KiB, within L2) */

/** 1 if this CPU runs the kernels below (AVX-512F), else 0. */
static inline int kiln_direct_conv_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/** Packs w (K, C, R, S) for kiln_direct_conv as (ceil(K/8), C, R, S, 8), zero past K. */
static inline void kiln_pack_weights(const float *w, int K, int C, int R, int S, float *packed) {
    int taps = R * S, blocks = (K + KILN_KB - 1) / KILN_KB;
    memset(packed, 0, (size_t) blocks * C * taps * KILN_KB * sizeof(float));
    for (int k = 0; k < K; k++) {
        float *dst = packed + (size_t) (k / KILN_KB) * C * taps * KILN_KB + k % KILN_KB;
        for (int c = 0; c < C; c++) {
            for (int t = 0; t < taps; t++) dst[((size_t) c * taps + t) * KILN_KB] = w[((size_t) k * C + c) * taps + t];
        }
    }
}

/**
 * Packs the weights of one phase of backward-data (the transposed convolution) for kiln_direct_conv: output
 * channel c, input channel k, tap (m, n) of an ma x mb kernel = w[k][c][r0 + th * (ma-1-m)][s0 + tw * (mb-1-n)],
 * that is W^T restricted to the taps that reach the phase, flipped; as (ceil(C/8), K, ma, mb, 8). At stride 1
 * (r0 = s0 = 0, ma = R, mb = S) it is all of W^T, flipped.
 */
static inline void kiln_pack_weights_phase(const float *w, int K, int C, int R, int S, int r0, int s0, int th,
                                           int tw, int ma, int mb, float *packed) {
    int taps = ma * mb, blocks = (C + KILN_KB - 1) / KILN_KB;
    memset(packed, 0, (size_t) blocks * K * taps * KILN_KB * sizeof(float));
    for (int c = 0; c < C; c++) {
        float *dst = packed + (size_t) (c / KILN_KB) * K * taps * KILN_KB + c % KILN_KB;
        for (int k = 0; k < K; k++) {
            for (int m = 0; m < ma; m++) {
                for (int n = 0; n < mb; n++) {
                    int r = r0 + th * (ma - 1 - m), s = s0 + tw * (mb - 1 - n);
                    dst[((size_t) k * taps + m * mb + n) * KILN_KB] = w[(((size_t) k * C + c) * R + r) * S + s];
                }
            }
        }
    }
}

/**
 * Writes C planes of rows x cols into phase (a, b) of C planes of H x W: out[c][th * u + a][tw * v + b] =
 * src[c][u][v]; the phase's other pixels are left as they are.
 */
static inline void kiln_scatter_phase(const float *src, int C, int rows, int cols, float *out, int H, int W, int a,
                                      int b, int th, int tw) {
    for (int c = 0; c < C; c++) {
        for (int u = 0; u < rows; u++) {
            const float *in = src + ((size_t) c * rows + u) * cols;
            float *row = out + ((size_t) c * H + (size_t) th * u + a) * W + b;
            for (int v = 0; v < cols; v++) row[(size_t) tw * v] = in[v];
        }
    }
}

/**
 * Rearranges C channels of H x W, zero-padded by (pad_h, pad_w), into the phase planes of a convolution with
 * stride (stride_h, stride_w): for each channel, phases_h x phases_w planes of rows x cols, plane (a, b) holding
 * padded[stride_h * i + a][stride_w * j + b], zero outside the image. Plane (c, a, b) starts at
 * planes + c * channel_stride + (a * phases_w + b) * phase_stride (in floats), so the planes of one image can be
 * consecutive (the forward) or interleaved with other images' (the weight gradient).
 */
static inline void kiln_phase_planes(const float *x, int C, int H, int W, int pad_h, int pad_w, int stride_h,
                                     int stride_w, int phases_h, int phases_w, int rows, int cols,
                                     long channel_stride, long phase_stride, float *planes) {
    for (int c = 0; c < C; c++) {
        const float *src = x + (size_t) c * H * W;
        for (int a = 0; a < phases_h; a++) {
            for (int b = 0; b < phases_w; b++) {
                float *dst = planes + c * channel_stride + (a * phases_w + b) * phase_stride;
                /* Input column of plane column j: stride_w * j + b - pad_w; the image spans [j0, j1). */
                int j0 = 0, j1 = 0;
                while (j0 < cols && stride_w * j0 + b - pad_w < 0) j0++;
                for (j1 = j0; j1 < cols && stride_w * j1 + b - pad_w < W; j1++) {
                }
                for (int i = 0; i < rows; i++, dst += cols) {
                    int h = stride_h * i + a - pad_h;
                    if (h < 0 || h >= H || j1 <= j0) {
                        memset(dst, 0, (size_t) cols * sizeof(float));
                        continue;
                    }
                    const float *row = src + (size_t) h * W + (stride_w * j0 + b - pad_w);
                    memset(dst, 0, (size_t) j0 * sizeof(float));
                    if (stride_w == 1) {
                        memcpy(dst + j0, row, (size_t) (j1 - j0) * sizeof(float));
                    } else {
                        for (int j = j0; j < j1; j++) dst[j] = row[(size_t) (j - j0) * stride_w];
                    }
                    memset(dst + j1, 0, (size_t) (cols - j1) * sizeof(float));
                }
            }
        }
    }
}

/**
 * Stores len (at most 48) values of one output run, each through the epilogue: + bias[k] (when bias is not
 * null), * scale[k] + shift[k] (when scale is not null), + residual and ReLU (when residual is not null), else
 * ReLU when relu is set.
 */
__attribute__((target("avx512f")))
static inline void kiln_store_run(const float *values, int len, float *out, const float *bias,
                                  const float *scale, const float *shift, const float *residual, int relu, int k) {
    for (int j = 0; j < len; j += 16) {
        __mmask16 m = kiln_lanes(len - j);
        __m512 v = _mm512_maskz_loadu_ps(m, values + j);
        if (bias) v = _mm512_add_ps(v, _mm512_set1_ps(bias[k]));
        if (scale) v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(scale[k])), _mm512_set1_ps(shift[k]));
        if (residual) v = kiln_relu(_mm512_add_ps(v, _mm512_maskz_loadu_ps(m, residual + j)));
        else if (relu) v = kiln_relu(v);
        _mm512_mask_storeu_ps(out + j, m, v);
    }
}

/**
 * One register tile: for each of the taps rows of the packed weights wb, 8 weights times the 48 floats at
 * x + offsets[row], summed in row order. Lanes outside the mask read nothing and sum to 0.
 */
__attribute__((target("avx512f")))
static inline void kiln_tile(const float *x, const int *offsets, int taps, const float *wb, __mmask64 lanes,
                             float tile[KILN_KB][KILN_PT]) {
    __m512 acc[KILN_KB][3];
    for (int k = 0; k < KILN_KB; k++) {
        for (int j = 0; j < 3; j++) acc[k][j] = _mm512_setzero_ps();
    }
#define KILN_ACCUMULATE(row)                                                     \
    do {                                                                         \
        const float *w = wb + (size_t) (row) * KILN_KB;                          \
        _Pragma("GCC unroll 8")                                                  \
        for (int k = 0; k < KILN_KB; k++) {                                      \
            __m512 b = _mm512_set1_ps(w[k]);                                     \
            acc[k][0] = _mm512_fmadd_ps(b, a0, acc[k][0]);                       \
            acc[k][1] = _mm512_fmadd_ps(b, a1, acc[k][1]);                       \
            acc[k][2] = _mm512_fmadd_ps(b, a2, acc[k][2]);                       \
        }                                                                        \
    } while (0)
    if (lanes == (((__mmask64) 1 << KILN_PT) - 1)) {
        for (int i = 0; i < taps; i++) {
            const float *xa = x + offsets[i];
            __m512 a0 = _mm512_loadu_ps(xa), a1 = _mm512_loadu_ps(xa + 16), a2 = _mm512_loadu_ps(xa + 32);
            KILN_ACCUMULATE(i);
        }
    } else {
        __mmask16 m0 = (__mmask16) lanes, m1 = (__mmask16) (lanes >> 16), m2 = (__mmask16) (lanes >> 32);
        for (int i = 0; i < taps; i++) {
            const float *xa = x + offsets[i];
            __m512 a0 = _mm512_maskz_loadu_ps(m0, xa), a1 = _mm512_maskz_loadu_ps(m1, xa + 16),
                   a2 = _mm512_maskz_loadu_ps(m2, xa + 32);
            KILN_ACCUMULATE(i);
        }
    }
#undef KILN_ACCUMULATE
    for (int k = 0; k < KILN_KB; k++) {
        for (int j = 0; j < 3; j++) _mm512_storeu_ps(&tile[k][16 * j], acc[k][j]);
    }
}

/**
 * Output channel blocks [kb0, kb1) of one image. x: its input planes (planes of them, for cache blocking);
 * offsets: one per row of the packed weights (from kiln_pack_weights), where that row reads, relative to the
 * grid position. The grid is P rows of G positions; only grid positions below readable may be read (the rest
 * lie past the input's end and count as garbage). y: K planes of P x Q, Q <= G. The epilogue, per output
 * channel k: + bias[k] when bias is not null; then, when scale is not null, * scale[k] + shift[k], and
 * + residual (K planes of P x Q) with ReLU when residual is not null, else ReLU when relu is set.
 */
__attribute__((target("avx512f")))
static inline void kiln_direct_conv(const float *x, int planes, const int *offsets, int taps, const float *packed,
                                    int K, int kb0, int kb1, int G, int P, int Q, int readable, float *y,
                                    const float *bias, const float *scale, const float *shift,
                                    const float *residual, int relu) {
    size_t plane = (size_t) P * Q;
    int grid = P * G;
    int chunk = (KILN_CHUNK / (planes > 0 ? planes : 1)) / KILN_PT * KILN_PT;
    if (chunk < KILN_PT) chunk = KILN_PT;
    float tile[KILN_KB][KILN_PT];
    for (int q0 = 0; q0 < grid; q0 += chunk) {
        int qend = q0 + chunk < grid ? q0 + chunk : grid;
        for (int kb = kb0; kb < kb1; kb++) {
            const float *wb = packed + (size_t) kb * taps * KILN_KB;
            int k1 = (kb + 1) * KILN_KB < K ? (kb + 1) * KILN_KB : K;
            for (int p0 = q0; p0 < qend; p0 += KILN_PT) {
                int ok = readable - p0 < KILN_PT ? readable - p0 : KILN_PT;
                __mmask64 lanes = ok <= 0 ? 0 : (((__mmask64) 1 << ok) - 1);
                kiln_tile(x + p0, offsets, taps, wb, lanes, tile);
                int pend = p0 + KILN_PT < qend ? p0 + KILN_PT : qend;
                if (G == Q) {
                    /* No garbage columns: the tile is one run of the output. */
                    for (int k = kb * KILN_KB; k < k1; k++) {
                        size_t at = (size_t) k * plane + p0;
                        kiln_store_run(tile[k - kb * KILN_KB], pend - p0, y + at, bias, scale, shift,
                                       residual ? residual + at : 0, relu, k);
                    }
                    continue;
                }
                for (int p = p0; p < pend;) {
                    int h = p / G, w = p - h * G;
                    if (w >= Q) {
                        p = (h + 1) * G;
                        continue;
                    }
                    int end = h * G + Q < pend ? h * G + Q : pend;
                    for (int k = kb * KILN_KB; k < k1; k++) {
                        size_t at = (size_t) k * plane + (size_t) h * Q + w;
                        kiln_store_run(&tile[k - kb * KILN_KB][p - p0], end - p, y + at, bias, scale, shift,
                                       residual ? residual + at : 0, relu, k);
                    }
                    p = end;
                }
            }
        }
    }
}

#endif

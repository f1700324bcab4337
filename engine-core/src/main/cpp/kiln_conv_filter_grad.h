/*
 * The weight gradient of a convolution, dW (K, C, R, S), on AVX-512: Kiln's own kernel for the kernels larger
 * than 1x1, where im2col + sgemm ran at half the machine's speed.
 *
 * Both operands are laid out so that the sum over images and output pixels is one long run of positions:
 *   dy: K rows of L positions, image n's P x Q outputs on a grid of rows x cols at n * rows * cols (zeros at the
 *       grid's garbage rows and columns, and from L up to the next multiple of 16);
 *   x:  the forward's phase planes (kiln_phase_planes), ordered (phase, channel, image), so that every image's
 *       plane sits at the same distance from its grid as in the forward.
 * Row i = (c, r, s) of dW then reads x at one fixed offset from the grid position:
 *     dW[k][i] = sum over g of dy[k][g] * x[offset[i] + g]
 * and the garbage positions, where dy is 0, add nothing. The register tile is 4 rows of dW by 6 of its
 * columns, 24 zmm accumulators of 16 positions each: per 16 positions, 4 loads of dy and 6 of x for 24 FMAs.
 * Positions are summed in blocks that keep dy's rows in L1; each block's lanes are added up once, in float, and
 * blocks are added in order, so the result does not depend on the thread count (the caller's image groups do not
 * either). One deviation from a plain sum: at garbage positions dy is 0 but x holds real neighbouring pixels, so
 * an infinite input pixel makes 0 * inf = NaN there and turns weights NaN that a reference leaves infinite or
 * finite. Training on such an input is lost either way.
 */
#ifndef KILN_CONV_FILTER_GRAD_H
#define KILN_CONV_FILTER_GRAD_H

#include "kiln_avx512.h"
#include <string.h>


#define KILN_FGRAD_BLOCK 2048   /* positions per block: 4 rows of dy take 32 KiB */

/** Zeroes n floats. */
static inline void kiln_zero(float *p, long n) {
    memset(p, 0, (size_t) n * sizeof(float));
}

/** KT rows of dW by IT columns over positions [g0, g1), a multiple of 16 apart; added to dw when accumulate. */
template <int KT, int IT>
__attribute__((target("avx512f")))
static inline void kiln_fgrad_tile(const float *dy, long ldy, const float *x, const int *offsets, const int *columns,
                                   long g0, long g1, float *dw, int ldw, int accumulate) {
    __m512 acc[KT][IT];
    for (int a = 0; a < KT; a++) {
        for (int b = 0; b < IT; b++) acc[a][b] = _mm512_setzero_ps();
    }
    for (long g = g0; g < g1; g += 16) {
        __m512 dv[KT];
        for (int a = 0; a < KT; a++) dv[a] = _mm512_loadu_ps(dy + a * ldy + g);
        for (int b = 0; b < IT; b++) {
            __m512 xv = _mm512_loadu_ps(x + offsets[b] + g);
            for (int a = 0; a < KT; a++) acc[a][b] = _mm512_fmadd_ps(dv[a], xv, acc[a][b]);
        }
    }
    for (int a = 0; a < KT; a++) {
        for (int b = 0; b < IT; b++) {
            float s = _mm512_reduce_add_ps(acc[a][b]);
            float *d = dw + a * ldw + columns[b];
            *d = accumulate ? *d + s : s;
        }
    }
}

/** The tile for KT rows and it (1 to 6) columns. */
template <int KT>
__attribute__((target("avx512f")))
static inline void kiln_fgrad_columns(int it, const float *dy, long ldy, const float *x, const int *offsets,
                                      const int *columns, long g0, long g1, float *dw, int ldw, int accumulate) {
    switch (it) {
        case 6: kiln_fgrad_tile<KT, 6>(dy, ldy, x, offsets, columns, g0, g1, dw, ldw, accumulate); break;
        case 5: kiln_fgrad_tile<KT, 5>(dy, ldy, x, offsets, columns, g0, g1, dw, ldw, accumulate); break;
        case 4: kiln_fgrad_tile<KT, 4>(dy, ldy, x, offsets, columns, g0, g1, dw, ldw, accumulate); break;
        case 3: kiln_fgrad_tile<KT, 3>(dy, ldy, x, offsets, columns, g0, g1, dw, ldw, accumulate); break;
        case 2: kiln_fgrad_tile<KT, 2>(dy, ldy, x, offsets, columns, g0, g1, dw, ldw, accumulate); break;
        default: kiln_fgrad_tile<KT, 1>(dy, ldy, x, offsets, columns, g0, g1, dw, ldw, accumulate); break;
    }
}

/**
 * Rows [k0, k1) of dw (K rows of T = C * R * S): dw[k][columns[i]] = sum over g in [0, L) of dy[k * L + g] *
 * x[offsets[i] + g], added to dw when accumulate (a later group of images), else overwriting it. The caller orders
 * the rows i so that neighbours read the same plane (columns maps them back). L is a multiple of 16; x must be
 * readable (and finite) up to max(offsets) + L.
 */
__attribute__((target("avx512f")))
static inline void kiln_conv_filter_grad(const float *dy, long L, const float *x, const int *offsets,
                                         const int *columns, int T, int k0, int k1, float *dw, int accumulate_all) {
    for (long g0 = 0; g0 < L; g0 += KILN_FGRAD_BLOCK) {
        long g1 = g0 + KILN_FGRAD_BLOCK < L ? g0 + KILN_FGRAD_BLOCK : L;
        int accumulate = accumulate_all || g0 > 0;
        for (int k = k0; k < k1; k += 4) {
            const float *dyk = dy + (long) k * L;
            for (int i = 0; i < T; i += 6) {
                int it = T - i < 6 ? T - i : 6;
                float *d = dw + (long) k * T;
                switch (k1 - k < 4 ? k1 - k : 4) {
                    case 4: kiln_fgrad_columns<4>(it, dyk, L, x, offsets + i, columns + i, g0, g1, d, T, accumulate); break;
                    case 3: kiln_fgrad_columns<3>(it, dyk, L, x, offsets + i, columns + i, g0, g1, d, T, accumulate); break;
                    case 2: kiln_fgrad_columns<2>(it, dyk, L, x, offsets + i, columns + i, g0, g1, d, T, accumulate); break;
                    default: kiln_fgrad_columns<1>(it, dyk, L, x, offsets + i, columns + i, g0, g1, d, T, accumulate); break;
                }
            }
        }
    }
}

#endif

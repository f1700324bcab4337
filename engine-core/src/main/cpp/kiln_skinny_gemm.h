/*
 * The two GEMMs of a dense layer at a small batch, on AVX-512: Kiln's own kernels for the shapes where a GEMM
 * library spends most of its time packing and zeroing (a Flatten -> Dense head: batch 16, 100352 inputs, 1024
 * outputs, whose weight matrix alone is 411 MB).
 *
 *   forward        c (M, N) = a (M, K) b(N, K)^T     M small (the batch), K and N large
 *   weight grad    c (N, K) = a (M, N)^T b (M, K)    M small (the batch): an outer-product sum, c written once
 *
 * Both are memory-bound on the big operand: the forward streams b once, in chunks of K that keep a's chunk in
 * L2; the weight gradient writes c once, with streaming stores where c's rows are 64-byte aligned (no read for
 * ownership of 411 MB that is about to be overwritten). Each output sums over the small dimension in a fixed
 * order, in float with FMAs, whatever the thread count.
 */
#ifndef KILN_SKINNY_GEMM_H
#define KILN_SKINNY_GEMM_H

#include "kiln_avx512.h"
#include <stdint.h>


#define KILN_SKINNY_KC 4096   /* forward: floats of K per cache block */
#define KILN_SKINNY_NC 2016   /* weight grad: floats of K per cache block (a multiple of the 48-column tile) */

/** Forward tile: MB rows of a times NB rows of b over k in [k0, k1), into c (added when accumulate). */
template <int MB, int NB>
__attribute__((target("avx512f")))
static inline void kiln_abt_tile(const float *a, long lda, const float *b, long ldb, float *c, long ldc, long k0,
                                 long k1, int accumulate) {
    __m512 acc[MB][NB];
    for (int i = 0; i < MB; i++) {
        for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_ps();
    }
    long k = k0;
    for (; k + 16 <= k1; k += 16) {
        __m512 bv[NB];
        for (int j = 0; j < NB; j++) bv[j] = _mm512_loadu_ps(b + j * ldb + k);
        for (int i = 0; i < MB; i++) {
            __m512 av = _mm512_loadu_ps(a + i * lda + k);
            for (int j = 0; j < NB; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
    }
    if (k < k1) {
        __mmask16 m = kiln_lanes(k1 - k);
        __m512 bv[NB];
        for (int j = 0; j < NB; j++) bv[j] = _mm512_maskz_loadu_ps(m, b + j * ldb + k);
        for (int i = 0; i < MB; i++) {
            __m512 av = _mm512_maskz_loadu_ps(m, a + i * lda + k);
            for (int j = 0; j < NB; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < MB; i++) {
        for (int j = 0; j < NB; j++) {
            float s = _mm512_reduce_add_ps(acc[i][j]);
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
        }
    }
}

/** Rows [m0, m0 + mb) of a against rows [n0, n0 + nb) of b, mb <= 4 and nb <= 6, by the matching tile. */
template <int MB>
__attribute__((target("avx512f")))
static inline void kiln_abt_rows(const float *a, long lda, const float *b, long ldb, float *c, long ldc, int nb,
                                 long k0, long k1, int accumulate) {
    switch (nb) {
        case 6: kiln_abt_tile<MB, 6>(a, lda, b, ldb, c, ldc, k0, k1, accumulate); break;
        case 5: kiln_abt_tile<MB, 5>(a, lda, b, ldb, c, ldc, k0, k1, accumulate); break;
        case 4: kiln_abt_tile<MB, 4>(a, lda, b, ldb, c, ldc, k0, k1, accumulate); break;
        case 3: kiln_abt_tile<MB, 3>(a, lda, b, ldb, c, ldc, k0, k1, accumulate); break;
        case 2: kiln_abt_tile<MB, 2>(a, lda, b, ldb, c, ldc, k0, k1, accumulate); break;
        default: kiln_abt_tile<MB, 1>(a, lda, b, ldb, c, ldc, k0, k1, accumulate); break;
    }
}

/**
 * c[m][n] = sum over k of a[m][k] * b[n][k] for columns n in [n0, n1) of c: a (M, K), b (N, K), c (M, N), all
 * row-major and dense, K > 0. K is summed in blocks, the first overwriting c and the others adding to it.
 */
__attribute__((target("avx512f")))
static inline void kiln_gemm_abt_skinny(const float *a, int M, long K, const float *b, int n0, int n1, float *c,
                                        int N) {
    for (long k0 = 0; k0 < K; k0 += KILN_SKINNY_KC) {
        long k1 = k0 + KILN_SKINNY_KC < K ? k0 + KILN_SKINNY_KC : K;
        for (int n = n0; n < n1; n += 6) {
            int nb = n1 - n < 6 ? n1 - n : 6;
            for (int m = 0; m < M; m += 4) {
                const float *ar = a + (long) m * K;
                const float *br = b + (long) n * K;
                float *cr = c + (long) m * N + n;
                int acc = k0 > 0;
                switch (M - m < 4 ? M - m : 4) {
                    case 4: kiln_abt_rows<4>(ar, K, br, K, cr, N, nb, k0, k1, acc); break;
                    case 3: kiln_abt_rows<3>(ar, K, br, K, cr, N, nb, k0, k1, acc); break;
                    case 2: kiln_abt_rows<2>(ar, K, br, K, cr, N, nb, k0, k1, acc); break;
                    default: kiln_abt_rows<1>(ar, K, br, K, cr, N, nb, k0, k1, acc); break;
                }
            }
        }
    }
}

/**
 * Weight-gradient tile: NB rows of c by 48 columns (16 * 3), summed over the M rows of a and b. Full tiles load
 * and store whole vectors (streaming stores when c is 64-byte aligned there); a partial tile masks lanes past
 * len.
 */
template <int NB, bool FULL, bool STREAM>
__attribute__((target("avx512f")))
static inline void kiln_atb_tile(const float *a, int M, int lda, const float *b, long ldb, float *c, long ldc,
                                 int len) {
    __m512 acc[NB][3];
    for (int j = 0; j < NB; j++) {
        for (int v = 0; v < 3; v++) acc[j][v] = _mm512_setzero_ps();
    }
    __mmask16 lane[3];
    for (int v = 0; v < 3; v++) lane[v] = FULL ? (__mmask16) 0xFFFF : kiln_lanes(len - 16 * v);
    for (int m = 0; m < M; m++) {
        const float *br = b + (long) m * ldb;
        __m512 bv[3];
        for (int v = 0; v < 3; v++) {
            bv[v] = FULL ? _mm512_loadu_ps(br + 16 * v) : _mm512_maskz_loadu_ps(lane[v], br + 16 * v);
        }
        for (int j = 0; j < NB; j++) {
            __m512 s = _mm512_set1_ps(a[(long) m * lda + j]);
            for (int v = 0; v < 3; v++) acc[j][v] = _mm512_fmadd_ps(s, bv[v], acc[j][v]);
        }
    }
    for (int j = 0; j < NB; j++) {
        for (int v = 0; v < 3; v++) {
            float *at = c + j * ldc + 16 * v;
            if (!FULL) _mm512_mask_storeu_ps(at, lane[v], acc[j][v]);
            else if (STREAM) _mm512_stream_ps(at, acc[j][v]);
            else _mm512_storeu_ps(at, acc[j][v]);
        }
    }
}

/**
 * Rows [n, n + NB) of c, columns [0, K): a head of columns up to c's first 64-byte boundary (when every row of
 * the block shares one alignment, so the full tiles after it can stream), full 48-column tiles, a masked tail.
 */
template <int NB>
__attribute__((target("avx512f")))
static inline void kiln_atb_rows(const float *a, int M, int lda, const float *b, long K, float *c) {
    int shared = K % 16 == 0;
    long head = shared ? (long) ((64 - ((uintptr_t) c & 63)) & 63) / 4 : 0;
    if (head > K || ((uintptr_t) c & 3) != 0) head = 0, shared = 0;
    if (head > 0) kiln_atb_tile<NB, false, false>(a, M, lda, b, K, c, K, (int) head);
    long k = head;
    for (long k0 = head; k0 < K; k0 += KILN_SKINNY_NC) {
        long k1 = k0 + KILN_SKINNY_NC < K ? k0 + KILN_SKINNY_NC : K;
        for (k = k0; k + 48 <= k1; k += 48) {
            if (shared) kiln_atb_tile<NB, true, true>(a, M, lda, b + k, K, c + k, K, 48);
            else kiln_atb_tile<NB, true, false>(a, M, lda, b + k, K, c + k, K, 48);
        }
        if (k < k1) kiln_atb_tile<NB, false, false>(a, M, lda, b + k, K, c + k, K, (int) (k1 - k));
    }
}

/**
 * c[n][k] = sum over m of a[m][n] * b[m][k] for rows n in [n0, n1) of c: a (M, N), b (M, K), c (N, K), all
 * row-major and dense. Blocks of 8 rows of c sweep K in cache blocks of b.
 */
__attribute__((target("avx512f")))
static inline void kiln_gemm_atb_skinny(const float *a, int M, int N, const float *b, long K, int n0, int n1,
                                        float *c) {
    for (int n = n0; n < n1; n += 8) {
        const float *ar = a + n;
        float *cr = c + (long) n * K;
        switch (n1 - n < 8 ? n1 - n : 8) {
            case 8: kiln_atb_rows<8>(ar, M, N, b, K, cr); break;
            case 7: kiln_atb_rows<7>(ar, M, N, b, K, cr); break;
            case 6: kiln_atb_rows<6>(ar, M, N, b, K, cr); break;
            case 5: kiln_atb_rows<5>(ar, M, N, b, K, cr); break;
            case 4: kiln_atb_rows<4>(ar, M, N, b, K, cr); break;
            case 3: kiln_atb_rows<3>(ar, M, N, b, K, cr); break;
            case 2: kiln_atb_rows<2>(ar, M, N, b, K, cr); break;
            default: kiln_atb_rows<1>(ar, M, N, b, K, cr); break;
        }
    }
    _mm_sfence(); /* streaming stores are weakly ordered: make them visible before returning */
}

#endif

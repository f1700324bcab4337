/*
 * Batch normalization over channel 1 of (N, C, plane) tensors on AVX-512, channels [c0, c1) per call: Kiln's own
 * kernels for the passes that a training step makes over every activation, where Java's loops (through heap
 * copies) moved about half the bytes per second that this machine can.
 *
 * A channel's N planes are read twice: once for its sums, once to write the result; at ResNet sizes they are a
 * few hundred KB, so the second read hits the cache. Sums run in double (each 16-float vector converted), so
 * their rounding does not grow with the batch. The per-element arithmetic is the Java kernels' (CpuBatchNorm),
 * in float and in the same order, compiled with -ffp-contract=off: y = x * scale + bias, + residual, ReLU as
 * Math.max; dx = k * g + a * (x - mean) + b with g the ReLU-gated dy.
 */
#ifndef KILN_BATCH_NORM_H
#define KILN_BATCH_NORM_H

#include "kiln_avx512.h"
#include <math.h>


/** dy's lanes k at index at, gated by the ReLU output z where there is one. */
__attribute__((target("avx512f")))
static inline __m512 kiln_bn_gated(const float *dy, const float *z, long at, __mmask16 k) {
    __m512 g = _mm512_maskz_loadu_ps(k, dy + at);
    return z ? kiln_relu_gate(_mm512_maskz_loadu_ps(k, z + at), g) : g;
}

/** Adds the 16 floats of v, widened to double, into the 8 double lanes of acc. */
__attribute__((target("avx512f")))
static inline __m512d kiln_bn_widen_add(__m512d acc, __m512 v) {
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    return _mm512_add_pd(acc, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
}

/**
 * Training-mode forward of channels [c0, c1): statistics over the batch, then y = x * scale + bias, + residual
 * (nullable) and ReLU when relu (a residual implies ReLU). gamma and beta nullable (1 and 0). Writes each
 * channel's mean and biased variance to mean[c] and var[c].
 */
__attribute__((target("avx512f")))
static inline void kiln_bn_forward_training(const float *x, const float *residual, float *y, int N, int C,
                                            long plane, const float *gamma, const float *beta, double eps,
                                            int relu, int c0, int c1, double *mean, double *var) {
    long m = (long) N * plane;
    for (int c = c0; c < c1; c++) {
        /* One pass with a shift (the channel's first value) keeps E[x^2] - E[x]^2 from cancelling. */
        float shift = m > 0 ? x[(long) c * plane] : 0.0f;
        __m512 sh = _mm512_set1_ps(shift);
        __m512d s1 = _mm512_setzero_pd(), s2 = _mm512_setzero_pd();
        for (int n = 0; n < N; n++) {
            const float *xr = x + ((long) n * C + c) * plane;
            for (long j = 0; j < plane; j += 16) {
                __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(kiln_lanes(plane - j), xr + j), sh);
                d = _mm512_maskz_mov_ps(kiln_lanes(plane - j), d);
                s1 = kiln_bn_widen_add(s1, d);
                s2 = kiln_bn_widen_add(s2, _mm512_mul_ps(d, d));
            }
        }
        double mean_shifted = m > 0 ? _mm512_reduce_add_pd(s1) / m : 0;
        double mu = shift + mean_shifted;
        double v = m > 0 ? _mm512_reduce_add_pd(s2) / m - mean_shifted * mean_shifted : 0;
        if (v < 0) v = 0;
        double inv_std = 1.0 / sqrt(v + eps);
        float scale = (float) ((gamma ? gamma[c] : 1.0f) * inv_std);
        float bias = (float) ((beta ? beta[c] : 0.0f) - mu * (double) scale);
        mean[c] = mu;
        var[c] = v;
        __m512 sc = _mm512_set1_ps(scale), bi = _mm512_set1_ps(bias);
        for (int n = 0; n < N; n++) {
            long at = ((long) n * C + c) * plane;
            for (long j = 0; j < plane; j += 16) {
                __mmask16 k = kiln_lanes(plane - j);
                __m512 o = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + at + j), sc), bi);
                if (residual) o = kiln_relu(_mm512_add_ps(o, _mm512_maskz_loadu_ps(k, residual + at + j)));
                else if (relu) o = kiln_relu(o);
                _mm512_mask_storeu_ps(y + at + j, k, o);
            }
        }
    }
}

/**
 * Gradients of channels [c0, c1), given each channel's mean and inverse standard deviation. z (nullable) is the
 * fused ReLU's output: dy is gated by it first, and the gated dy is written to dres (nullable; only with z) as the
 * residual's gradient. Writes sum(g) to dbeta[c] and sum(g * (x - mean)) * inv_std to dgamma[c] (each nullable). With dx,
 * training mode writes dx = k * g + a * (x - mean) + b, inference mode dx = k * g, where k = gamma * inv_std and
 * a, b fold in the batch means' gradients.
 */
__attribute__((target("avx512f")))
static inline void kiln_bn_backward(const float *x, const float *z, const float *dy, float *dx, float *dres,
                                    int N, int C, long plane, const double *mean, const double *inv_std,
                                    const float *gamma, int training, int c0, int c1, double *dgamma,
                                    double *dbeta) {
    long m = (long) N * plane;
    int need_x = training || dgamma;
    for (int c = c0; c < c1; c++) {
        double mu = mean[c], is = inv_std[c];
        float mu_f = (float) mu;
        __m512 muv = _mm512_set1_ps(mu_f);
        __m512d s1 = _mm512_setzero_pd(), s2 = _mm512_setzero_pd();
        for (int n = 0; n < N; n++) {
            long at = ((long) n * C + c) * plane;
            for (long j = 0; j < plane; j += 16) {
                __mmask16 k = kiln_lanes(plane - j);
                __m512 g = kiln_bn_gated(dy, z, at + j, k);
                if (z && dres) _mm512_mask_storeu_ps(dres + at + j, k, g);
                s1 = kiln_bn_widen_add(s1, g);
                if (need_x) {
                    __m512 xc = _mm512_maskz_mov_ps(k, _mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + at + j), muv));
                    s2 = kiln_bn_widen_add(s2, _mm512_mul_ps(g, xc));
                }
            }
        }
        double sum_dy = _mm512_reduce_add_pd(s1), sum_dy_xhat = _mm512_reduce_add_pd(s2) * is;
        if (dbeta) dbeta[c] = sum_dy;
        if (dgamma) dgamma[c] = sum_dy_xhat;
        if (!dx) continue;
        double gain = (gamma ? gamma[c] : 1.0f) * is;
        __m512 kv = _mm512_set1_ps((float) gain);
        __m512 av = _mm512_set1_ps(training && m > 0 ? (float) (-gain * sum_dy_xhat * is / m) : 0.0f);
        __m512 bv = _mm512_set1_ps(training && m > 0 ? (float) (-gain * sum_dy / m) : 0.0f);
        for (int n = 0; n < N; n++) {
            long at = ((long) n * C + c) * plane;
            for (long j = 0; j < plane; j += 16) {
                __mmask16 k = kiln_lanes(plane - j);
                __m512 g = kiln_bn_gated(dy, z, at + j, k);
                __m512 o = _mm512_mul_ps(kv, g);
                if (training) {
                    __m512 xc = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + at + j), muv);
                    o = _mm512_add_ps(_mm512_add_ps(o, _mm512_mul_ps(av, xc)), bv);
                }
                _mm512_mask_storeu_ps(dx + at + j, k, o);
            }
        }
    }
}

#endif

package dev.kiln.backend.cpu;

import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;

/**
 * Batch normalization over channel 1 of (N, C, ...) tensors, in parallel over channels, optionally fused with the
 * ReLU that follows it. Channel statistics are accumulated in double; each channel visits its N planes of
 * {@code plane} contiguous floats.
 *
 * <p>Passes over memory: forward-training reads x twice (statistics, then normalize) and writes y once; backward
 * reads x and dy twice (sums, then dx) and writes dx once. With a fused ReLU the gate is applied on the fly from
 * the saved output z, so no separate ReLU pass and no pre-ReLU tensor exist. Sums use four accumulators each: one
 * double accumulator is a chain of dependent adds that runs at a quarter of the load bandwidth.
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {
    }

    /** Strides of a (N, C, plane) layout. */
    private record Layout(int n, int c, int plane) {
        static Layout of(Tensor x) {
            int n = x.dim(0), c = x.dim(1);
            return new Layout(n, c, Math.toIntExact(x.numel() / Math.max(1, (long) n * c)));
        }

        int start(int image, int channel) {
            return (image * c + channel) * plane;
        }

        long count() {
            return (long) n * plane;
        }
    }

    /** A per-channel vector (C), or null. */
    private record Vec(FloatBuffer b, int o) {
        static Vec of(Tensor t) {
            return t == null ? null : new Vec(CpuStorage.floats(t), CpuStorage.offset(t));
        }

        float get(int c) {
            return b.get(o + c);
        }

        void put(int c, double v) {
            b.put(o + c, (float) v);
        }
    }

    /** A float buffer and the offset of its tensor's first element. */
    private record Buf(FloatBuffer b, int o) {
        static Buf of(Tensor t) {
            return t == null ? null : new Buf(CpuStorage.floats(t), CpuStorage.offset(t));
        }
    }

    /**
     * x, y, residual (N, C, ...); gamma, beta, running*, save* (C). Running and save tensors are nullable. With
     * {@code relu}, y = max(normalized + residual, 0), the residual nullable; without, residual must be null.
     */
    static void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor y, Tensor runningMean,
                                Tensor runningVar, double momentum, double eps, Tensor saveMean, Tensor saveInvStd,
                                boolean relu) {
        Layout l = Layout.of(x);
        Buf xb = Buf.of(x), yb = Buf.of(y), rb = Buf.of(residual);
        Vec g = Vec.of(gamma), b = Vec.of(beta), rm = Vec.of(runningMean), rv = Vec.of(runningVar);
        Vec sm = Vec.of(saveMean), si = Vec.of(saveInvStd);
        long m = l.count();
        ParallelLoops.forRange(l.c(), 3 * m, (c0, c1) -> {
            double[] sums = new double[2];
            for (int c = c0; c < c1; c++) {
                // One pass with a shift (the channel's first value) keeps E[x^2] - E[x]^2 from cancelling.
                double shift = m > 0 ? xb.b().get(xb.o() + l.start(0, c)) : 0;
                double s1 = 0, s2 = 0;
                for (int i = 0; i < l.n(); i++) {
                    shiftedSums(xb.b(), xb.o() + l.start(i, c), l.plane(), shift, sums);
                    s1 += sums[0];
                    s2 += sums[1];
                }
                double meanShifted = s1 / m;
                double mean = shift + meanShifted;
                double var = Math.max(0, s2 / m - meanShifted * meanShifted);
                double invStd = 1.0 / Math.sqrt(var + eps);
                float scale = (float) ((g == null ? 1 : g.get(c)) * invStd);
                float bias = (float) ((b == null ? 0 : b.get(c)) - mean * scale);
                for (int i = 0; i < l.n(); i++) affine(xb, yb, rb, l.start(i, c), l.plane(), scale, bias, relu);
                if (sm != null) sm.put(c, mean);
                if (si != null) si.put(c, invStd);
                if (rm != null) rm.put(c, (1 - momentum) * rm.get(c) + momentum * mean);
                if (rv != null) {
                    double unbiased = m > 1 ? var * m / (m - 1) : var;
                    rv.put(c, (1 - momentum) * rv.get(c) + momentum * unbiased);
                }
            }
        });
    }

    /** y = (x - mean) / sqrt(var + eps) * gamma + beta, then + residual (nullable) and max(., 0) with {@code relu}. */
    static void forwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                 Tensor residual, Tensor y, boolean relu) {
        Layout l = Layout.of(x);
        Buf xb = Buf.of(x), yb = Buf.of(y), rb = Buf.of(residual);
        Vec g = Vec.of(gamma), b = Vec.of(beta), mu = Vec.of(mean), v = Vec.of(var);
        ParallelLoops.forRange(l.c(), l.count(), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                double invStd = 1.0 / Math.sqrt(v.get(c) + eps);
                float scale = (float) ((g == null ? 1 : g.get(c)) * invStd);
                float bias = (float) ((b == null ? 0 : b.get(c)) - mu.get(c) * (double) scale);
                for (int i = 0; i < l.n(); i++) affine(xb, yb, rb, l.start(i, c), l.plane(), scale, bias, relu);
            }
        });
    }

    /** sums[0] = sum of (x - shift), sums[1] = sum of (x - shift)^2 over {@code length} floats from {@code from}. */
    private static void shiftedSums(FloatBuffer x, int from, int length, double shift, double[] sums) {
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0;
        int j = from, end = from + length, end4 = from + (length & ~3);
        for (; j < end4; j += 4) {
            double d0 = x.get(j) - shift, d1 = x.get(j + 1) - shift, d2 = x.get(j + 2) - shift, d3 = x.get(j + 3) - shift;
            a0 += d0;
            a1 += d1;
            a2 += d2;
            a3 += d3;
            q0 += d0 * d0;
            q1 += d1 * d1;
            q2 += d2 * d2;
            q3 += d3 * d3;
        }
        for (; j < end; j++) {
            double d = x.get(j) - shift;
            a0 += d;
            q0 += d * d;
        }
        sums[0] = (a0 + a1) + (a2 + a3);
        sums[1] = (q0 + q1) + (q2 + q3);
    }

    /** y = x * scale + bias over one plane, then + residual (nullable) and max(., 0) with {@code relu}. */
    private static void affine(Buf x, Buf y, Buf residual, int start, int length, float scale, float bias,
                               boolean relu) {
        FloatBuffer xb = x.b(), yb = y.b();
        int xs = x.o() + start, ys = y.o() + start;
        if (residual != null) {
            FloatBuffer rb = residual.b();
            int rs = residual.o() + start;
            for (int j = 0; j < length; j++) {
                yb.put(ys + j, Relu.forward(xb.get(xs + j) * scale + bias + rb.get(rs + j)));
            }
        } else if (relu) {
            for (int j = 0; j < length; j++) yb.put(ys + j, Relu.forward(xb.get(xs + j) * scale + bias));
        } else {
            for (int j = 0; j < length; j++) yb.put(ys + j, xb.get(xs + j) * scale + bias);
        }
    }

    /**
     * Training-mode gradients: with xhat = (x - mean) * invStd and M = N * plane,
     * dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * invStd * (dy - dbeta / M - xhat * dgamma / M).
     * With a fused ReLU (z its output, nullable otherwise), dy is first gated: dy where z > 0.
     */
    static void backwardTraining(Tensor x, Tensor z, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                 Tensor dx, Tensor dgamma, Tensor dbeta) {
        backward(x, z, dy, gamma, Vec.of(saveMean), Vec.of(saveInvStd), Double.NaN, dx, dgamma, dbeta, true);
    }

    /** Inference-mode gradients (statistics constant): dx = dy * gamma * invStd, dy gated by z when z is given. */
    static void backwardInference(Tensor x, Tensor z, Tensor dy, Tensor gamma, Tensor mean, Tensor var, double eps,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        backward(x, z, dy, gamma, Vec.of(mean), Vec.of(var), eps, dx, dgamma, dbeta, false);
    }

    /** stat2 is invStd (training) or var, turned into invStd with eps (inference). z is null without a ReLU. */
    private static void backward(Tensor x, Tensor z, Tensor dy, Tensor gamma, Vec mean, Vec stat2, double eps,
                                 Tensor dx, Tensor dgamma, Tensor dbeta, boolean training) {
        Layout l = Layout.of(x);
        Buf xb = Buf.of(x), gb = Buf.of(dy), zb = Buf.of(z), dxb = Buf.of(dx);
        Vec g = Vec.of(gamma), dg = Vec.of(dgamma), db = Vec.of(dbeta);
        long m = l.count();
        ParallelLoops.forRange(l.c(), 3 * m, (c0, c1) -> {
            double[] sums = new double[2];
            for (int c = c0; c < c1; c++) {
                double mu = mean.get(c);
                double invStd = training ? stat2.get(c) : 1.0 / Math.sqrt(stat2.get(c) + eps);
                double sumDy = 0, sumDyXc = 0;
                if (training || dg != null || db != null) {
                    for (int i = 0; i < l.n(); i++) {
                        int start = l.start(i, c);
                        gradientSums(xb, gb, zb, start, l.plane(), mu, sums);
                        sumDy += sums[0];
                        sumDyXc += sums[1];
                    }
                }
                double sumDyXhat = sumDyXc * invStd;
                if (db != null) db.put(c, sumDy);
                if (dg != null) dg.put(c, sumDyXhat);
                if (dxb == null) continue;
                double gain = (g == null ? 1 : g.get(c)) * invStd;
                // dx = k * dy + a * (x - mean) + b, with the mean terms folded into per-channel constants.
                float k = (float) gain;
                float a = training && m > 0 ? (float) (-gain * sumDyXhat * invStd / m) : 0f;
                float b = training && m > 0 ? (float) (-gain * sumDy / m) : 0f;
                for (int i = 0; i < l.n(); i++) {
                    inputGradient(xb, gb, zb, dxb, l.start(i, c), l.plane(), (float) mu, k, a, b);
                }
            }
        });
    }

    /** sums[0] = sum of dy, sums[1] = sum of dy * (x - mu) over one plane; dy gated by z when z is not null. */
    private static void gradientSums(Buf x, Buf dy, Buf z, int start, int length, double mu, double[] sums) {
        FloatBuffer xb = x.b(), gb = dy.b();
        int xs = x.o() + start, gs = dy.o() + start;
        double a0 = 0, a1 = 0, q0 = 0, q1 = 0;
        int j = 0, end2 = length & ~1;
        if (z == null) {
            for (; j < end2; j += 2) {
                double d0 = gb.get(gs + j), d1 = gb.get(gs + j + 1);
                a0 += d0;
                a1 += d1;
                q0 += d0 * (xb.get(xs + j) - mu);
                q1 += d1 * (xb.get(xs + j + 1) - mu);
            }
            for (; j < length; j++) {
                double d = gb.get(gs + j);
                a0 += d;
                q0 += d * (xb.get(xs + j) - mu);
            }
        } else {
            FloatBuffer zb = z.b();
            int zs = z.o() + start;
            for (; j < end2; j += 2) {
                double d0 = Relu.gate(zb.get(zs + j), gb.get(gs + j));
                double d1 = Relu.gate(zb.get(zs + j + 1), gb.get(gs + j + 1));
                a0 += d0;
                a1 += d1;
                q0 += d0 * (xb.get(xs + j) - mu);
                q1 += d1 * (xb.get(xs + j + 1) - mu);
            }
            for (; j < length; j++) {
                double d = Relu.gate(zb.get(zs + j), gb.get(gs + j));
                a0 += d;
                q0 += d * (xb.get(xs + j) - mu);
            }
        }
        sums[0] = a0 + a1;
        sums[1] = q0 + q1;
    }

    /** dx = k * dy + a * (x - mu) + b over one plane; dy gated by z when z is not null. */
    private static void inputGradient(Buf x, Buf dy, Buf z, Buf dx, int start, int length, float mu, float k, float a,
                                      float b) {
        FloatBuffer xb = x.b(), gb = dy.b(), db = dx.b();
        int xs = x.o() + start, gs = dy.o() + start, ds = dx.o() + start;
        if (z == null) {
            for (int j = 0; j < length; j++) db.put(ds + j, k * gb.get(gs + j) + a * (xb.get(xs + j) - mu) + b);
        } else {
            FloatBuffer zb = z.b();
            int zs = z.o() + start;
            for (int j = 0; j < length; j++) {
                float d = Relu.gate(zb.get(zs + j), gb.get(gs + j));
                db.put(ds + j, k * d + a * (xb.get(xs + j) - mu) + b);
            }
        }
    }
}

package dev.kiln.backend.cpu;

import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;

/**
 * Batch normalization over channel 1 of (N, C, ...) tensors, in parallel over channels. Channel statistics are
 * accumulated in double; each channel visits its N planes of {@code plane} contiguous floats.
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {
    }

    /** Strides of a (N, C, plane) layout, and buffer views with offsets of the per-channel vectors. */
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

    /** x, y (N, C, ...); gamma, beta, running*, save* (C). Running and save tensors are nullable. */
    static void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean, Tensor runningVar,
                                double momentum, double eps, Tensor saveMean, Tensor saveInvStd) {
        Layout l = Layout.of(x);
        FloatBuffer xb = CpuStorage.floats(x), yb = CpuStorage.floats(y);
        int xo = CpuStorage.offset(x), yo = CpuStorage.offset(y);
        Vec g = Vec.of(gamma), b = Vec.of(beta), rm = Vec.of(runningMean), rv = Vec.of(runningVar);
        Vec sm = Vec.of(saveMean), si = Vec.of(saveInvStd);
        long m = l.count();
        ParallelLoops.forRange(l.c(), 2 * m, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                // One pass with a shift (the channel's first value) keeps E[x^2] - E[x]^2 from cancelling.
                double shift = m > 0 ? xb.get(xo + l.start(0, c)) : 0, s1 = 0, s2 = 0;
                for (int i = 0; i < l.n(); i++) {
                    for (int j = xo + l.start(i, c), end = j + l.plane(); j < end; j++) {
                        double d = xb.get(j) - shift;
                        s1 += d;
                        s2 += d * d;
                    }
                }
                double meanShifted = s1 / m;
                double mean = shift + meanShifted;
                double var = Math.max(0, s2 / m - meanShifted * meanShifted);
                double invStd = 1.0 / Math.sqrt(var + eps);
                float scale = (float) ((g == null ? 1 : g.get(c)) * invStd);
                float bias = (float) ((b == null ? 0 : b.get(c)) - mean * scale);
                for (int i = 0; i < l.n(); i++) {
                    int src = xo + l.start(i, c), dst = yo + l.start(i, c);
                    for (int j = 0; j < l.plane(); j++) yb.put(dst + j, xb.get(src + j) * scale + bias);
                }
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

    /** y = (x - mean) / sqrt(var + eps) * gamma + beta. */
    static void forwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps, Tensor y) {
        Layout l = Layout.of(x);
        FloatBuffer xb = CpuStorage.floats(x), yb = CpuStorage.floats(y);
        int xo = CpuStorage.offset(x), yo = CpuStorage.offset(y);
        Vec g = Vec.of(gamma), b = Vec.of(beta), mu = Vec.of(mean), v = Vec.of(var);
        ParallelLoops.forRange(l.c(), l.count(), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                double invStd = 1.0 / Math.sqrt(v.get(c) + eps);
                float scale = (float) ((g == null ? 1 : g.get(c)) * invStd);
                float bias = (float) ((b == null ? 0 : b.get(c)) - mu.get(c) * (double) scale);
                for (int i = 0; i < l.n(); i++) {
                    int src = xo + l.start(i, c), dst = yo + l.start(i, c);
                    for (int j = 0; j < l.plane(); j++) yb.put(dst + j, xb.get(src + j) * scale + bias);
                }
            }
        });
    }

    /**
     * Training-mode gradients: with xhat = (x - mean) * invStd and M = N * plane,
     * dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * invStd * (dy - dbeta / M - xhat * dgamma / M).
     */
    static void backwardTraining(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                 Tensor dgamma, Tensor dbeta) {
        backward(x, dy, gamma, Vec.of(saveMean), Vec.of(saveInvStd), Double.NaN, dx, dgamma, dbeta, true);
    }

    /** Inference-mode gradients (statistics constant): dx = dy * gamma * invStd. */
    static void backwardInference(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, double eps, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        backward(x, dy, gamma, Vec.of(mean), Vec.of(var), eps, dx, dgamma, dbeta, false);
    }

    /** stat2 is invStd (training) or var, turned into invStd with eps (inference). */
    private static void backward(Tensor x, Tensor dy, Tensor gamma, Vec mean, Vec stat2, double eps, Tensor dx,
                                 Tensor dgamma, Tensor dbeta, boolean training) {
        Layout l = Layout.of(x);
        FloatBuffer xb = CpuStorage.floats(x), gb = CpuStorage.floats(dy);
        FloatBuffer dxb = dx == null ? null : CpuStorage.floats(dx);
        int xo = CpuStorage.offset(x), go = CpuStorage.offset(dy), dxo = dx == null ? 0 : CpuStorage.offset(dx);
        Vec g = Vec.of(gamma), dg = Vec.of(dgamma), db = Vec.of(dbeta);
        long m = l.count();
        ParallelLoops.forRange(l.c(), 2 * m, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                double mu = mean.get(c);
                double invStd = training ? stat2.get(c) : 1.0 / Math.sqrt(stat2.get(c) + eps);
                double sumDy = 0, sumDyXc = 0;
                boolean needSums = training || dg != null || db != null;
                if (needSums) {
                    for (int i = 0; i < l.n(); i++) {
                        int xs = xo + l.start(i, c), gs = go + l.start(i, c);
                        for (int j = 0; j < l.plane(); j++) {
                            double d = gb.get(gs + j);
                            sumDy += d;
                            sumDyXc += d * (xb.get(xs + j) - mu);
                        }
                    }
                }
                double sumDyXhat = sumDyXc * invStd;
                if (db != null) db.put(c, sumDy);
                if (dg != null) dg.put(c, sumDyXhat);
                if (dxb == null) continue;
                double gain = (g == null ? 1 : g.get(c)) * invStd;
                // dx = k * dy + a * (x - mean) + b, with the mean terms folded into per-channel constants.
                float k = (float) gain, muF = (float) mu;
                float a = training && m > 0 ? (float) (-gain * sumDyXhat * invStd / m) : 0f;
                float b = training && m > 0 ? (float) (-gain * sumDy / m) : 0f;
                for (int i = 0; i < l.n(); i++) {
                    int xs = xo + l.start(i, c), gs = go + l.start(i, c), ds = dxo + l.start(i, c);
                    for (int j = 0; j < l.plane(); j++) {
                        dxb.put(ds + j, k * gb.get(gs + j) + a * (xb.get(xs + j) - muF) + b);
                    }
                }
            }
        });
    }
}

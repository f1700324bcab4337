package dev.kiln.backend.cpu;

import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;

/**
 * Batch normalization over channel 1 of (N, C, ...) tensors, in parallel over channels, optionally fused with a
 * residual add and the ReLU that follow it.
 *
 * <p>Each channel's N planes are first copied into heap arrays, one array per image ({@link ChannelRows}): bulk
 * copies out of direct buffers run at memcpy speed, and loops over {@code float[]} are vectorized by C2 where
 * loops over direct buffers are not (about 2× here). A channel is at most a few hundred KB at ResNet sizes, so the
 * second pass over it hits the cache. One array per image is what lets the channel sums vectorize too
 * ({@link LaneSums}).
 */
final class CpuBatchNorm {
    /**
     * Whether training-mode forward and every backward run Kiln's own kernels ({@link NativeBatchNorm}) instead of
     * the Java loops below: wherever they loaded. Tests turn it off to check the Java loops as well.
     */
    static boolean nativeKernels = NativeKernels.AVAILABLE;

    private CpuBatchNorm() {
    }

    /** Strides of a (N, C, plane) layout. */
    record Layout(int n, int c, int plane) {
        static Layout of(Tensor x) {
            int n = x.dim(0), c = x.dim(1);
            return new Layout(n, c, Math.toIntExact(x.numel() / Math.max(1, (long) n * c)));
        }

        int start(int image, int channel) {
            return (image * c + channel) * plane;
        }

        int count() {
            return n * plane;
        }
    }

    /** A per-channel vector (C), or null. */
    record Vec(FloatBuffer b, int o) {
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

    /** A tensor's buffer and offset, and copies of one channel's N planes between it and a heap array. */
    private record ChannelRows(FloatBuffer b, int o, Layout l) {
        static ChannelRows of(Tensor t, Layout l) {
            return t == null ? null : new ChannelRows(CpuStorage.floats(t), CpuStorage.offset(t), l);
        }

        /** dst[i][j] = channel c, image i, element j. */
        void read(int c, float[][] dst) {
            for (int i = 0; i < l.n(); i++) b.get(o + l.start(i, c), dst[i], 0, l.plane());
        }

        void write(int c, float[][] src) {
            for (int i = 0; i < l.n(); i++) b.put(o + l.start(i, c), src[i], 0, l.plane());
        }
    }

    /** Per-thread scratch: three sets of per-image rows, grown to the largest channel seen. */
    private static final ThreadLocal<float[][][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][0][0]);

    /** Three arrays of {@code n} rows, each at least {@code plane} long. */
    private static float[][][] scratch(int n, int plane) {
        float[][][] s = SCRATCH.get();
        for (int k = 0; k < s.length; k++) {
            if (s[k].length < n || (n > 0 && s[k][0].length < plane)) {
                s[k] = new float[Math.max(n, s[k].length)][plane];
            }
        }
        return s;
    }

    /**
     * x, y, residual (N, C, ...); gamma, beta, running*, save* (C). Running and save tensors are nullable. With
     * {@code relu}, y = max(normalized + residual, 0), the residual nullable; without, residual must be null.
     */
    static void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor y, Tensor runningMean,
                                Tensor runningVar, double momentum, double eps, Tensor saveMean, Tensor saveInvStd,
                                boolean relu) {
        if (nativeKernels) {
            NativeBatchNorm.forwardTraining(x, gamma, beta, residual, y, runningMean, runningVar, momentum, eps,
                    saveMean, saveInvStd, relu);
            return;
        }
        Layout l = Layout.of(x);
        ChannelRows xr = ChannelRows.of(x, l), yr = ChannelRows.of(y, l), rr = ChannelRows.of(residual, l);
        Vec g = Vec.of(gamma), b = Vec.of(beta), rm = Vec.of(runningMean), rv = Vec.of(runningVar);
        Vec sm = Vec.of(saveMean), si = Vec.of(saveInvStd);
        int m = l.count();
        ParallelLoops.forRange(l.c(), 3L * m, (c0, c1) -> {
            float[][][] s = scratch(l.n(), l.plane());
            float[][] xs = s[0], rs = s[1];
            for (int c = c0; c < c1; c++) {
                xr.read(c, xs);
                // One pass with a shift (the channel's first value) keeps E[x^2] - E[x]^2 from cancelling.
                float shift = m > 0 ? xs[0][0] : 0;
                double[] sums = LaneSums.shifted(xs, l.n(), l.plane(), shift);
                double meanShifted = sums[0] / m;
                double mean = shift + meanShifted;
                double var = Math.max(0, sums[1] / m - meanShifted * meanShifted);
                double invStd = 1.0 / Math.sqrt(var + eps);
                float scale = (float) ((g == null ? 1 : g.get(c)) * invStd);
                float bias = (float) ((b == null ? 0 : b.get(c)) - mean * scale);
                if (rr != null) rr.read(c, rs);
                affine(xs, rr == null ? null : rs, l, scale, bias, relu);
                yr.write(c, xs);
                keepStatistics(c, mean, var, invStd, m, momentum, sm, si, rm, rv);
            }
        });
    }

    /** Saves channel c's batch mean and inverse std, and updates the running statistics (each vector nullable). */
    static void keepStatistics(int c, double mean, double var, double invStd, int m, double momentum, Vec saveMean,
                               Vec saveInvStd, Vec runningMean, Vec runningVar) {
        if (saveMean != null) saveMean.put(c, mean);
        if (saveInvStd != null) saveInvStd.put(c, invStd);
        if (runningMean != null) runningMean.put(c, (1 - momentum) * runningMean.get(c) + momentum * mean);
        if (runningVar != null) {
            double unbiased = m > 1 ? var * m / (m - 1) : var;
            runningVar.put(c, (1 - momentum) * runningVar.get(c) + momentum * unbiased);
        }
    }

    /** y = (x - mean) / sqrt(var + eps) * gamma + beta, then + residual (nullable) and max(., 0) with {@code relu}. */
    static void forwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                 Tensor residual, Tensor y, boolean relu) {
        Layout l = Layout.of(x);
        ChannelRows xr = ChannelRows.of(x, l), yr = ChannelRows.of(y, l), rr = ChannelRows.of(residual, l);
        InferenceAffine affine = InferenceAffine.of(gamma, beta, mean, var, eps);
        int m = l.count();
        ParallelLoops.forRange(l.c(), 2L * m, (c0, c1) -> {
            float[][][] s = scratch(l.n(), l.plane());
            float[][] xs = s[0], rs = s[1];
            for (int c = c0; c < c1; c++) {
                xr.read(c, xs);
                if (rr != null) rr.read(c, rs);
                for (int i = 0; i < l.n(); i++) {
                    affine.apply(c, xs[i], rr == null ? null : rs[i], l.plane(), relu);
                }
                yr.write(c, xs);
            }
        });
    }

    /** In place: x = x * scale + bias, then + residual (nullable) and max(., 0) with {@code relu}. */
    private static void affine(float[][] xs, float[][] residuals, Layout l, float scale, float bias, boolean relu) {
        for (int i = 0; i < l.n(); i++) {
            affineRow(xs[i], residuals == null ? null : residuals[i], l.plane(), scale, bias, relu);
        }
    }

    /**
     * In place on x[0, len): x * scale + bias, then + residual and max(., 0) when residual is not null, else
     * max(., 0) with {@code relu}.
     */
    static void affineRow(float[] x, float[] residual, int len, float scale, float bias, boolean relu) {
        if (residual != null) {
            for (int j = 0; j < len; j++) x[j] = Math.max(x[j] * scale + bias + residual[j], 0f);
        } else if (relu) {
            for (int j = 0; j < len; j++) x[j] = Math.max(x[j] * scale + bias, 0f);
        } else {
            for (int j = 0; j < len; j++) x[j] = x[j] * scale + bias;
        }
    }

    /** An inference-mode batch norm as the per-channel affine map y = x * scale[c] + shift[c], in float. */
    record InferenceAffine(float[] scale, float[] shift) {
        static InferenceAffine of(Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps) {
            Vec g = Vec.of(gamma), b = Vec.of(beta), mu = Vec.of(mean), v = Vec.of(var);
            int channels = mean.dim(0);
            float[] scale = new float[channels], shift = new float[channels];
            for (int c = 0; c < channels; c++) {
                double invStd = 1.0 / Math.sqrt(v.get(c) + eps);
                scale[c] = (float) ((g == null ? 1 : g.get(c)) * invStd);
                shift[c] = (float) ((b == null ? 0 : b.get(c)) - mu.get(c) * (double) scale[c]);
            }
            return new InferenceAffine(scale, shift);
        }

        /** {@link #affineRow} with channel c's scale and shift. */
        void apply(int c, float[] x, float[] residual, int len, boolean relu) {
            affineRow(x, residual, len, scale[c], shift[c], relu);
        }
    }

    /**
     * Training-mode gradients: with xhat = (x - mean) * invStd and M = N * plane,
     * dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * invStd * (dy - dbeta / M - xhat * dgamma / M).
     * With a fused ReLU (z its output, nullable otherwise), dy is first gated: dy where z > 0, and the gated dy is
     * also the residual's gradient (dresidual, nullable).
     */
    static void backwardTraining(Tensor x, Tensor z, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                 Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dresidual) {
        backward(x, z, dy, gamma, Vec.of(saveMean), Vec.of(saveInvStd), Double.NaN, dx, dgamma, dbeta, dresidual,
                true);
    }

    /** Inference-mode gradients (statistics constant): dx = dy * gamma * invStd, dy gated by z when z is given. */
    static void backwardInference(Tensor x, Tensor z, Tensor dy, Tensor gamma, Tensor mean, Tensor var, double eps,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dresidual) {
        backward(x, z, dy, gamma, Vec.of(mean), Vec.of(var), eps, dx, dgamma, dbeta, dresidual, false);
    }

    /** stat2 is invStd (training) or var, turned into invStd with eps (inference). z is null without a ReLU. */
    private static void backward(Tensor x, Tensor z, Tensor dy, Tensor gamma, Vec mean, Vec stat2, double eps,
                                 Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dresidual, boolean training) {
        if (nativeKernels) {
            NativeBatchNorm.backward(x, z, dy, gamma, mean, stat2, eps, dx, dgamma, dbeta, dresidual, training);
            return;
        }
        Layout l = Layout.of(x);
        ChannelRows xr = ChannelRows.of(x, l), gr = ChannelRows.of(dy, l), zr = ChannelRows.of(z, l);
        ChannelRows dxr = ChannelRows.of(dx, l), drr = ChannelRows.of(dresidual, l);
        Vec g = Vec.of(gamma), dg = Vec.of(dgamma), db = Vec.of(dbeta);
        int m = l.count();
        ParallelLoops.forRange(l.c(), 4L * m, (c0, c1) -> {
            float[][][] s = scratch(l.n(), l.plane());
            float[][] xs = s[0], gs = s[1], zs = s[2];
            for (int c = c0; c < c1; c++) {
                double mu = mean.get(c);
                double invStd = training ? stat2.get(c) : 1.0 / Math.sqrt(stat2.get(c) + eps);
                gr.read(c, gs);
                if (zr != null) {
                    zr.read(c, zs);
                    gate(zs, gs, l);
                    if (drr != null) drr.write(c, gs);
                }
                boolean needX = training || dg != null;
                if (needX) xr.read(c, xs);
                double sumDy = 0, sumDyXc = 0;
                if (training || dg != null || db != null) {
                    double[] sums = needX ? LaneSums.gradient(gs, xs, l.n(), l.plane(), (float) mu)
                            : new double[]{LaneSums.shifted(gs, l.n(), l.plane(), 0f)[0], 0};
                    sumDy = sums[0];
                    sumDyXc = sums[1];
                }
                double sumDyXhat = sumDyXc * invStd;
                if (db != null) db.put(c, sumDy);
                if (dg != null) dg.put(c, sumDyXhat);
                if (dxr == null) continue;
                double gain = (g == null ? 1 : g.get(c)) * invStd;
                // dx = k * dy + a * (x - mean) + b, with the mean terms folded into per-channel constants.
                float k = (float) gain;
                float a = training && m > 0 ? (float) (-gain * sumDyXhat * invStd / m) : 0f;
                float b = training && m > 0 ? (float) (-gain * sumDy / m) : 0f;
                float muF = (float) mu;
                for (int i = 0; i < l.n(); i++) {
                    float[] gi = gs[i], xi = xs[i];
                    if (training) {
                        for (int j = 0; j < l.plane(); j++) gi[j] = k * gi[j] + a * (xi[j] - muF) + b;
                    } else {
                        for (int j = 0; j < l.plane(); j++) gi[j] = k * gi[j];
                    }
                }
                dxr.write(c, gs);
            }
        });
    }

    /** In place: dy = dy where z > 0, else 0 (the ReLU's gradient given its output). */
    private static void gate(float[][] zs, float[][] dys, Layout l) {
        for (int i = 0; i < l.n(); i++) {
            float[] z = zs[i], dy = dys[i];
            for (int j = 0; j < l.plane(); j++) dy[j] = Relu.gate(z[j], dy[j]);
        }
    }
}

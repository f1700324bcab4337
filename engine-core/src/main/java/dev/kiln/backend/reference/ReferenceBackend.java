package dev.kiln.backend.reference;

import dev.kiln.backend.AdamConfig;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Storage;
import dev.kiln.tensor.Tensor;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The reference backend: every kernel of {@link Backend} as plain Java loops over {@code double[]}, written to be
 * obviously correct rather than fast. It is the oracle the OpenBLAS and CUDA backends are tested against, the
 * baseline of the benchmarks, and the backend of float64 gradient checks.
 *
 * <p>How every kernel is written:
 * <ol>
 *   <li>{@link #load} copies each input into a fresh row-major {@code double[]} (honouring the tensor's offset, and
 *       its strides too, although callers pass contiguous tensors);</li>
 *   <li>the arithmetic runs in double precision on those arrays, with the shapes written next to the loops;</li>
 *   <li>{@link #store} writes the result, rounding it to the output's dtype (see {@link ReferenceStorage}).</li>
 * </ol>
 * Because inputs are copied before anything is written, an output may alias an input (in-place ReLU, axpy into
 * itself, a copy between overlapping views) and the result is still the mathematical one.
 *
 * <p>Single-threaded, no caching, no state: one shared {@link #INSTANCE} serves the whole process.
 */
public final class ReferenceBackend implements Backend {

    /** The one instance; the backend has no state. */
    public static final ReferenceBackend INSTANCE = new ReferenceBackend();

    private ReferenceBackend() {
    }

    public static ReferenceBackend get() {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public boolean supports(DType dtype) {
        return true; // every dtype is held as double
    }

    // ================================================================== memory

    @Override
    public Storage allocate(DType dtype, long numel) {
        return new ReferenceStorage(this, dtype, numel); // zero-filled, although callers must not rely on it
    }

    @Override
    public void write(Tensor dst, float[] src) {
        double[] values = new double[src.length];
        for (int i = 0; i < src.length; i++) values[i] = src[i];
        store(dst, values);
    }

    @Override
    public void write(Tensor dst, double[] src) {
        store(dst, src);
    }

    @Override
    public void write(Tensor dst, int[] src) {
        double[] values = new double[src.length];
        for (int i = 0; i < src.length; i++) values[i] = src[i];
        store(dst, values);
    }

    @Override
    public float[] readFloats(Tensor src) {
        double[] values = load(src);
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) out[i] = (float) values[i];
        return out;
    }

    @Override
    public double[] readDoubles(Tensor src) {
        return load(src);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        // load and store both walk the multi-index, so any strides and offsets work on either side, and the dtype
        // conversion is the rounding in store.
        store(dst, load(src));
    }

    @Override
    public void fill(Tensor dst, double value) {
        double[] values = new double[numel(dst)];
        Arrays.fill(values, value);
        store(dst, values);
    }

    // ================================================================== elementwise

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        double[] av = load(a), bv = load(b);
        double[] result = new double[av.length];
        for (int i = 0; i < av.length; i++) result[i] = av[i] + bv[i];
        store(out, result);
    }

    @Override
    public void axpy(double alpha, Tensor x, Tensor y) {
        double[] xv = load(x), yv = load(y);
        for (int i = 0; i < yv.length; i++) yv[i] += alpha * xv[i];
        store(y, yv);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        double[] av = load(a), bv = load(b);
        double[] result = new double[av.length];
        for (int i = 0; i < av.length; i++) result[i] = av[i] * bv[i];
        store(out, result);
    }

    @Override
    public void scale(Tensor x, double alpha, Tensor out) {
        double[] xv = load(x);
        double[] result = new double[xv.length];
        for (int i = 0; i < xv.length; i++) result[i] = alpha * xv[i];
        store(out, result);
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        double[] xv = load(x);
        double[] result = new double[xv.length];
        // Math.max returns NaN for a NaN input, so NaN propagates as it does through torch.relu.
        for (int i = 0; i < xv.length; i++) result[i] = Math.max(xv[i], 0.0);
        store(y, result);
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        double[] yv = load(y), dyv = load(dy);
        double[] result = new double[yv.length];
        for (int i = 0; i < yv.length; i++) result[i] = yv[i] > 0 ? dyv[i] : 0.0; // gradient at exactly 0 is 0
        store(dx, result);
    }

    @Override
    public void dropoutMask(Tensor mask, double p, long seed) {
        // One draw per element in row-major order, so the mask depends only on (seed, numel, p).
        SplittableRandom random = new SplittableRandom(seed);
        double keptValue = 1.0 / (1.0 - p);
        double[] result = new double[numel(mask)];
        for (int i = 0; i < result.length; i++) result[i] = random.nextDouble() < p ? 0.0 : keptValue;
        store(mask, result);
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        double total = 0;
        for (double v : load(x)) total += v;
        store(out, new double[]{total});
    }

    // ================================================================== dense algebra

    @Override
    public void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        // op(a): (M, K), op(b): (K, N), c: (M, N); a is stored (K, M) when transA, b is stored (N, K) when transB.
        int m = c.dim(0), n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        int aCols = a.dim(1), bCols = b.dim(1);
        double[] av = load(a), bv = load(b);
        // As in BLAS, beta == 0 means c is not read at all, so NaN in uninitialized memory cannot leak in.
        double[] cv = beta == 0 ? new double[m * n] : load(c);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int l = 0; l < k; l++) {
                    double aIl = transA ? av[l * aCols + i] : av[i * aCols + l];
                    double bLj = transB ? bv[j * bCols + l] : bv[l * bCols + j];
                    dot += aIl * bLj;
                }
                cv[i * n + j] = alpha * dot + (beta == 0 ? 0.0 : beta * cv[i * n + j]);
            }
        }
        store(c, cv);
    }

    @Override
    public void addChannelBias(Tensor y, Tensor bias) {
        // y: (N, C, inner) with inner = H * W, or 1 for (N, C); bias: (C)
        double[] yv = load(y), bv = load(bias);
        int batch = y.dim(0), channels = y.dim(1), inner = innerSize(y);
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < inner; i++) yv[(n * channels + c) * inner + i] += bv[c];
            }
        }
        store(y, yv);
    }

    @Override
    public void channelSum(Tensor dy, Tensor out) {
        // dy: (N, C, inner), out: (C)
        double[] dyv = load(dy);
        int batch = dy.dim(0), channels = dy.dim(1), inner = innerSize(dy);
        double[] sums = new double[channels];
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < inner; i++) sums[c] += dyv[(n * channels + c) * inner + i];
            }
        }
        store(out, sums);
    }

    // ================================================================== convolution
    //
    // Output pixel (p, q) sees input pixel (h, w) = (p * strideH - padH + r, q * strideW - padW + s) through weight
    // tap (r, s); taps that land in the zero padding contribute nothing. The three kernels are the same 7-deep loop
    // with a different product accumulated into a different array.

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec) {
        // x: (N, C, H, W), w: (K, C, R, S), bias: (K) or null, y: (N, K, P, Q)
        Dims4 xs = Dims4.of(x), ws = Dims4.of(w), ys = Dims4.of(y);
        double[] xv = load(x), wv = load(w), bv = bias == null ? null : load(bias);
        double[] yv = new double[ys.numel()];
        for (int n = 0; n < ys.d0; n++)
            for (int k = 0; k < ys.d1; k++)
                for (int p = 0; p < ys.d2; p++)
                    for (int q = 0; q < ys.d3; q++) {
                        double acc = 0;
                        for (int c = 0; c < xs.d1; c++)
                            for (int r = 0; r < ws.d2; r++)
                                for (int s = 0; s < ws.d3; s++) {
                                    int h = p * spec.strideH() - spec.padH() + r;
                                    int wi = q * spec.strideW() - spec.padW() + s;
                                    if (xs.inside(h, wi)) acc += xv[xs.at(n, c, h, wi)] * wv[ws.at(k, c, r, s)];
                                }
                        yv[ys.at(n, k, p, q)] = acc + (bv == null ? 0.0 : bv[k]);
                    }
        store(y, yv);
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        // dy: (N, K, P, Q), w: (K, C, R, S), dx: (N, C, H, W); dx[n,c,h,w] = sum dy[n,k,p,q] * w[k,c,r,s]
        Dims4 dys = Dims4.of(dy), ws = Dims4.of(w), dxs = Dims4.of(dx);
        double[] dyv = load(dy), wv = load(w);
        double[] dxv = new double[dxs.numel()];
        for (int n = 0; n < dys.d0; n++)
            for (int k = 0; k < dys.d1; k++)
                for (int p = 0; p < dys.d2; p++)
                    for (int q = 0; q < dys.d3; q++) {
                        double g = dyv[dys.at(n, k, p, q)];
                        for (int c = 0; c < dxs.d1; c++)
                            for (int r = 0; r < ws.d2; r++)
                                for (int s = 0; s < ws.d3; s++) {
                                    int h = p * spec.strideH() - spec.padH() + r;
                                    int wi = q * spec.strideW() - spec.padW() + s;
                                    if (dxs.inside(h, wi)) dxv[dxs.at(n, c, h, wi)] += g * wv[ws.at(k, c, r, s)];
                                }
                    }
        store(dx, dxv);
    }

    @Override
    public void conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        // x: (N, C, H, W), dy: (N, K, P, Q), dw: (K, C, R, S); dw[k,c,r,s] = sum dy[n,k,p,q] * x[n,c,h,w]
        Dims4 xs = Dims4.of(x), dys = Dims4.of(dy), dws = Dims4.of(dw);
        double[] xv = load(x), dyv = load(dy);
        double[] dwv = new double[dws.numel()];
        for (int n = 0; n < dys.d0; n++)
            for (int k = 0; k < dys.d1; k++)
                for (int p = 0; p < dys.d2; p++)
                    for (int q = 0; q < dys.d3; q++) {
                        double g = dyv[dys.at(n, k, p, q)];
                        for (int c = 0; c < xs.d1; c++)
                            for (int r = 0; r < dws.d2; r++)
                                for (int s = 0; s < dws.d3; s++) {
                                    int h = p * spec.strideH() - spec.padH() + r;
                                    int wi = q * spec.strideW() - spec.padW() + s;
                                    if (xs.inside(h, wi)) dwv[dws.at(k, c, r, s)] += g * xv[xs.at(n, c, h, wi)];
                                }
                    }
        store(dw, dwv);
    }

    // ================================================================== batch normalization
    //
    // Every batch-norm kernel sees x as (N, C, inner), inner = H * W (or 1 for (N, C)), and reduces over the
    // M = N * inner values of each channel.

    @Override
    public void batchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor runningMean,
                                         Tensor runningVar, double momentum, double eps, Tensor saveMean,
                                         Tensor saveInvStd) {
        // x, y: (N, C, inner); gamma, beta, running*, save*: (C)
        double[] xv = load(x);
        int channels = x.dim(1);
        double[] mean = channelMeans(xv, x);
        double[] var = channelBiasedVariances(xv, x, mean);
        double[] invStd = new double[channels];
        for (int c = 0; c < channels; c++) invStd[c] = 1.0 / Math.sqrt(var[c] + eps);

        store(y, normalize(xv, x, mean, invStd, load(gamma), load(beta)));
        store(saveMean, mean);
        store(saveInvStd, invStd);
        if (runningMean != null) updateRunning(runningMean, mean, momentum);
        if (runningVar != null) updateRunning(runningVar, unbiased(var, valuesPerChannel(x)), momentum);
    }

    @Override
    public void batchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                          Tensor y) {
        // x, y: (N, C, inner); gamma, beta, mean, var: (C)
        store(y, normalize(load(x), x, load(mean), inverseStd(load(var), eps), load(gamma), load(beta)));
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        // x, dy, dx: (N, C, inner); gamma, saveMean, saveInvStd, dgamma, dbeta: (C)
        double[] xv = load(x), dyv = load(dy), g = load(gamma), mean = load(saveMean), invStd = load(saveInvStd);
        double[] xHat = normalize(xv, x, mean, invStd, ones(g.length), new double[g.length]);
        double[] sumDy = channelSums(dyv, x);               // = dbeta
        double[] sumDyXHat = channelSums(product(dyv, xHat), x); // = dgamma
        if (dbeta != null) store(dbeta, sumDy);
        if (dgamma != null) store(dgamma, sumDyXHat);
        if (dx == null) return;
        // The mean and variance depend on every x of the channel, hence the two correction terms:
        // dx = gamma * invStd / M * (M * dy - sum(dy) - xHat * sum(dy * xHat))
        int channels = x.dim(1), inner = innerSize(x), m = valuesPerChannel(x);
        double[] dxv = new double[xv.length];
        for (int i = 0; i < xv.length; i++) {
            int c = (i / inner) % channels;
            dxv[i] = g[c] * invStd[c] / m * (m * dyv[i] - sumDy[c] - xHat[i] * sumDyXHat[c]);
        }
        store(dx, dxv);
    }

    @Override
    public void batchNormBackwardInference(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, double eps,
                                           Tensor dx, Tensor dgamma, Tensor dbeta) {
        // x, dy, dx: (N, C, inner); gamma, mean, var, dgamma, dbeta: (C). Statistics are constants here, so
        // y is affine in x: dx = dy * gamma * invStd.
        double[] xv = load(x), dyv = load(dy), g = load(gamma), invStd = inverseStd(load(var), eps);
        double[] xHat = normalize(xv, x, load(mean), invStd, ones(g.length), new double[g.length]);
        if (dbeta != null) store(dbeta, channelSums(dyv, x));
        if (dgamma != null) store(dgamma, channelSums(product(dyv, xHat), x));
        if (dx == null) return;
        int channels = x.dim(1), inner = innerSize(x);
        double[] dxv = new double[xv.length];
        for (int i = 0; i < xv.length; i++) {
            int c = (i / inner) % channels;
            dxv[i] = dyv[i] * g[c] * invStd[c];
        }
        store(dx, dxv);
    }

    /** The number M = N * inner of values each channel's statistics are taken over. */
    private static int valuesPerChannel(Tensor x) {
        return x.dim(0) * innerSize(x);
    }

    /** mean[c] of x (N, C, inner). */
    private static double[] channelMeans(double[] xv, Tensor x) {
        double[] sums = channelSums(xv, x);
        int m = valuesPerChannel(x);
        for (int c = 0; c < sums.length; c++) sums[c] /= m;
        return sums;
    }

    /** The biased (divide by M) variance of each channel, the one batch norm normalizes with. */
    private static double[] channelBiasedVariances(double[] xv, Tensor x, double[] mean) {
        int channels = x.dim(1), inner = innerSize(x), m = valuesPerChannel(x);
        double[] var = new double[channels];
        for (int i = 0; i < xv.length; i++) {
            int c = (i / inner) % channels;
            double d = xv[i] - mean[c];
            var[c] += d * d;
        }
        for (int c = 0; c < channels; c++) var[c] /= m;
        return var;
    }

    /** Converts biased variances over m values to unbiased ones (m / (m - 1)), as PyTorch's running variance. */
    private static double[] unbiased(double[] biasedVar, int m) {
        if (m < 2) {
            throw new IllegalArgumentException("batch norm: expected more than 1 value per channel when training, got "
                    + m + "; the unbiased variance of the running statistics is undefined");
        }
        double[] out = new double[biasedVar.length];
        for (int c = 0; c < out.length; c++) out[c] = biasedVar[c] * m / (m - 1);
        return out;
    }

    /** running = (1 - momentum) * running + momentum * batch, per channel. */
    private static void updateRunning(Tensor running, double[] batch, double momentum) {
        double[] r = load(running);
        for (int c = 0; c < r.length; c++) r[c] = (1 - momentum) * r[c] + momentum * batch[c];
        store(running, r);
    }

    private static double[] inverseStd(double[] var, double eps) {
        double[] out = new double[var.length];
        for (int c = 0; c < out.length; c++) out[c] = 1.0 / Math.sqrt(var[c] + eps);
        return out;
    }

    /** (x - mean[c]) * invStd[c] * gamma[c] + beta[c] for x (N, C, inner). */
    private static double[] normalize(double[] xv, Tensor x, double[] mean, double[] invStd, double[] gamma,
                                      double[] beta) {
        int channels = x.dim(1), inner = innerSize(x);
        double[] out = new double[xv.length];
        for (int i = 0; i < xv.length; i++) {
            int c = (i / inner) % channels;
            out[i] = (xv[i] - mean[c]) * invStd[c] * gamma[c] + beta[c];
        }
        return out;
    }

    /** sum over n and inner of v, viewed as (N, C, inner) with the geometry of {@code like}. */
    private static double[] channelSums(double[] v, Tensor like) {
        int channels = like.dim(1), inner = innerSize(like);
        double[] sums = new double[channels];
        for (int i = 0; i < v.length; i++) sums[(i / inner) % channels] += v[i];
        return sums;
    }

    // ================================================================== pooling

    @Override
    public void maxPool2dForward(Tensor x, Tensor y, Pool2dSpec spec) {
        // x: (N, C, H, W), y: (N, C, P, Q)
        Dims4 xs = Dims4.of(x), ys = Dims4.of(y);
        double[] xv = load(x);
        double[] yv = new double[ys.numel()];
        for (int n = 0; n < ys.d0; n++)
            for (int c = 0; c < ys.d1; c++)
                for (int p = 0; p < ys.d2; p++)
                    for (int q = 0; q < ys.d3; q++) {
                        int best = windowArgmax(xv, xs, n, c, p, q, spec);
                        yv[ys.at(n, c, p, q)] = best < 0 ? Double.NEGATIVE_INFINITY : xv[best];
                    }
        store(y, yv);
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, Pool2dSpec spec) {
        // x, dx: (N, C, H, W); y, dy: (N, C, P, Q). The argmax is recomputed from x with the same scan as the
        // forward pass, so y itself is not needed.
        Dims4 xs = Dims4.of(x), dys = Dims4.of(dy);
        double[] xv = load(x), dyv = load(dy);
        double[] dxv = new double[xs.numel()];
        for (int n = 0; n < dys.d0; n++)
            for (int c = 0; c < dys.d1; c++)
                for (int p = 0; p < dys.d2; p++)
                    for (int q = 0; q < dys.d3; q++) {
                        int best = windowArgmax(xv, xs, n, c, p, q, spec);
                        if (best >= 0) dxv[best] += dyv[dys.at(n, c, p, q)]; // overlapping windows accumulate
                    }
        store(dx, dxv);
    }

    /**
     * Flat index into x of the maximum of output pixel (p, q)'s window, or -1 for a window with no input pixel.
     * Padding is -infinity, so it is simply skipped. The window is scanned row-major and only a strictly greater
     * value replaces the current best, so on ties the first maximum wins (PyTorch's choice). A NaN always
     * replaces, so NaN propagates as in PyTorch.
     */
    private static int windowArgmax(double[] xv, Dims4 xs, int n, int c, int p, int q, Pool2dSpec spec) {
        int best = -1;
        for (int r = 0; r < spec.kernel(); r++) {
            for (int s = 0; s < spec.kernel(); s++) {
                int h = p * spec.stride() - spec.padding() + r;
                int w = q * spec.stride() - spec.padding() + s;
                if (!xs.inside(h, w)) continue;
                int i = xs.at(n, c, h, w);
                if (best < 0 || xv[i] > xv[best] || Double.isNaN(xv[i])) best = i;
            }
        }
        return best;
    }

    @Override
    public void globalAvgPoolForward(Tensor x, Tensor y) {
        // x: (N, C, H, W) seen as (N * C, H * W), y: (N, C)
        double[] xv = load(x);
        int planes = x.dim(0) * x.dim(1), area = innerSize(x);
        double[] yv = new double[planes];
        for (int i = 0; i < planes; i++) {
            double total = 0;
            for (int j = 0; j < area; j++) total += xv[i * area + j];
            yv[i] = total / area;
        }
        store(y, yv);
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        // dy: (N, C), dx: (N, C, H, W) seen as (N * C, H * W)
        double[] dyv = load(dy);
        int planes = dx.dim(0) * dx.dim(1), area = innerSize(dx);
        double[] dxv = new double[planes * area];
        for (int i = 0; i < planes; i++) {
            for (int j = 0; j < area; j++) dxv[i * area + j] = dyv[i] / area;
        }
        store(dx, dxv);
    }

    // ================================================================== softmax and loss

    @Override
    public void softmax(Tensor x, Tensor y) {
        // x, y: (N, K)
        double[] xv = load(x);
        int k = x.dim(-1), rows = xv.length / Math.max(k, 1);
        double[] yv = new double[xv.length];
        for (int n = 0; n < rows; n++) softmaxRow(xv, yv, n * k, k);
        store(y, yv);
    }

    @Override
    public void softmaxCrossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor rowLoss) {
        // logits, probs: (N, K); targets: (N) I32 class indices or (N, K) floats; rowLoss: (N)
        double[] z = load(logits), t = load(targets);
        int rows = logits.dim(0), k = logits.dim(1);
        double[] pv = new double[z.length];
        double[] loss = new double[rows];
        for (int n = 0; n < rows; n++) {
            double logSumExp = softmaxRow(z, pv, n * k, k);
            loss[n] = logSumExp - targetDotRow(t, targets, z, n, k);
        }
        store(probs, pv);
        store(rowLoss, loss);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor targets, double scale, Tensor dlogits) {
        // probs, dlogits: (N, K); targets: (N) I32 or (N, K)
        double[] pv = load(probs), target = denseTargets(load(targets), targets, probs.dim(0), probs.dim(1));
        double[] d = new double[pv.length];
        for (int i = 0; i < pv.length; i++) d[i] = scale * (pv[i] - target[i]);
        store(dlogits, d);
    }

    /**
     * Writes softmax(x[from .. from + k)) into y at the same place and returns logsumexp of that row. The row max
     * is subtracted before exponentiating, so no exp overflows and the largest term is exactly 1.
     */
    private static double softmaxRow(double[] x, double[] y, int from, int k) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) max = Math.max(max, x[from + j]);
        double sum = 0;
        for (int j = 0; j < k; j++) {
            y[from + j] = Math.exp(x[from + j] - max);
            sum += y[from + j];
        }
        for (int j = 0; j < k; j++) y[from + j] /= sum;
        return max + Math.log(sum);
    }

    /** sum_k target[n, k] * z[n, k], where an I32 target is the one-hot vector of its class index. */
    private static double targetDotRow(double[] t, Tensor targets, double[] z, int n, int k) {
        if (targets.dtype() == DType.I32) return z[n * k + classIndex(t, n, k)];
        double dot = 0;
        for (int j = 0; j < k; j++) dot += t[n * k + j] * z[n * k + j];
        return dot;
    }

    /** The targets as an (N, K) distribution: class indices become one-hot rows. */
    private static double[] denseTargets(double[] t, Tensor targets, int rows, int k) {
        if (targets.dtype() != DType.I32) return t;
        double[] oneHot = new double[rows * k];
        for (int n = 0; n < rows; n++) oneHot[n * k + classIndex(t, n, k)] = 1.0;
        return oneHot;
    }

    private static int classIndex(double[] labels, int n, int k) {
        int label = (int) labels[n];
        if (label < 0 || label >= k) {
            throw new IndexOutOfBoundsException("cross-entropy: target " + label + " of row " + n
                    + " is outside the " + k + " classes [0, " + k + ")");
        }
        return label;
    }

    // ================================================================== optimizers

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, AdamConfig config) {
        // param, grad, m, v: same shape. The formulas and their order are torch.optim.Adam's / AdamW's.
        double[] p = load(param), g = load(grad), mv = load(m), vv = load(v);
        double lr = config.lr(), b1 = config.beta1(), b2 = config.beta2(), wd = config.weightDecay();
        double biasCorrection1 = 1 - Math.pow(b1, config.step());
        double biasCorrection2 = 1 - Math.pow(b2, config.step());
        for (int i = 0; i < p.length; i++) {
            double gi = g[i];
            if (config.decoupled()) p[i] *= 1 - lr * wd; // AdamW: decay the weight itself
            else gi += wd * p[i];                          // Adam: L2 penalty folded into the gradient
            mv[i] = b1 * mv[i] + (1 - b1) * gi;
            vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
            double denominator = Math.sqrt(vv[i]) / Math.sqrt(biasCorrection2) + config.eps();
            p[i] -= lr / biasCorrection1 * mv[i] / denominator;
        }
        store(m, mv);
        store(v, vv);
        store(param, p);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor buf, double lr, double momentum, double weightDecay,
                        boolean firstStep) {
        // param, grad, buf: same shape; buf is only touched when momentum != 0. grad itself is never modified.
        double[] p = load(param), g = load(grad);
        double[] b = momentum == 0 ? null : (firstStep ? new double[p.length] : load(buf));
        for (int i = 0; i < p.length; i++) {
            double gi = g[i] + weightDecay * p[i];
            double step = gi;
            if (b != null) {
                b[i] = firstStep ? gi : momentum * b[i] + gi;
                step = b[i];
            }
            p[i] -= lr * step;
        }
        if (b != null) store(buf, b);
        store(param, p);
    }

    // ================================================================== helpers: memory access

    /** The reference storage behind {@code t}, or a clear error when a tensor from another backend slipped in. */
    private static ReferenceStorage storageOf(Tensor t) {
        Storage s = t.storage();
        if (!(s instanceof ReferenceStorage rs)) {
            throw new IllegalArgumentException("reference backend got a tensor on backend '" + s.backend().name()
                    + "'; move it with tensor.to(backend) first");
        }
        return rs;
    }

    private static int numel(Tensor t) {
        return Math.toIntExact(t.numel());
    }

    /** The elements of {@code t} in row-major order of its shape, as a new array. */
    static double[] load(Tensor t) {
        ReferenceStorage s = storageOf(t);
        int[] at = positions(t);
        double[] out = new double[at.length];
        for (int i = 0; i < at.length; i++) out[i] = s.get(at[i]);
        return out;
    }

    /** Writes {@code values}, given in row-major order of t's shape, into t, rounded to t's dtype. */
    static void store(Tensor t, double[] values) {
        ReferenceStorage s = storageOf(t);
        int[] at = positions(t);
        if (values.length != at.length) {
            throw new IllegalArgumentException("reference backend: " + values.length + " values for a tensor of shape "
                    + t.shape() + " (" + at.length + " elements)");
        }
        for (int i = 0; i < at.length; i++) s.set(at[i], values[i]);
    }

    /**
     * The storage index of each element of {@code t}, in row-major order of its shape: offset + sum_d i_d *
     * stride_d, with the multi-index (i_0, ..., i_last) advanced like an odometer, last dimension fastest.
     */
    static int[] positions(Tensor t) {
        int[] dims = t.shape().toArray();
        long[] strides = t.strides();
        int[] index = new int[dims.length];
        int[] out = new int[numel(t)];
        long position = t.offset();
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.toIntExact(position);
            // advance the odometer: bump the last digit, carrying into earlier ones when a digit wraps
            for (int d = dims.length - 1; d >= 0; d--) {
                index[d]++;
                position += strides[d];
                if (index[d] < dims[d]) break;
                position -= (long) index[d] * strides[d];
                index[d] = 0;
            }
        }
        return out;
    }

    // ================================================================== helpers: geometry and arrays

    /** Product of the dimensions after the first two: H * W for (N, C, H, W), 1 for (N, C). */
    private static int innerSize(Tensor t) {
        int inner = 1;
        for (int d = 2; d < t.rank(); d++) inner *= t.dim(d);
        return inner;
    }

    private static double[] ones(int n) {
        double[] out = new double[n];
        Arrays.fill(out, 1.0);
        return out;
    }

    private static double[] product(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] * b[i];
        return out;
    }

    /** The dimensions (d0, d1, d2, d3) of a contiguous 4-D tensor, and its row-major flat index. */
    private record Dims4(int d0, int d1, int d2, int d3) {
        static Dims4 of(Tensor t) {
            return new Dims4(t.dim(0), t.dim(1), t.dim(2), t.dim(3));
        }

        int at(int i0, int i1, int i2, int i3) {
            return ((i0 * d1 + i1) * d2 + i2) * d3 + i3;
        }

        /** Whether (i2, i3) = (h, w) is a pixel of the image rather than padding. */
        boolean inside(int i2, int i3) {
            return i2 >= 0 && i2 < d2 && i3 >= 0 && i3 < d3;
        }

        int numel() {
            return d0 * d1 * d2 * d3;
        }
    }
}

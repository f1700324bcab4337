package dev.kiln.backend.cpu;

import dev.kiln.tensor.DType;
import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.SplittableRandom;

/**
 * Elementwise and per-channel kernels on contiguous float32 tensors, parallel over ranges for large tensors.
 * Every loop indexes the storage's direct buffer at {@code offset + i}.
 */
final class CpuElementwise {
    /** Partial sums cover fixed blocks, so {@link #sum} gives the same bits whatever the thread count. */
    private static final int SUM_BLOCK = 1 << 14;

    private CpuElementwise() {
    }

    static void fill(Tensor dst, double value) {
        int n = Math.toIntExact(dst.numel());
        int o = CpuStorage.offset(dst);
        if (dst.dtype() == DType.I32) {
            IntBuffer d = CpuStorage.ints(dst);
            int v = (int) value;
            ParallelLoops.forRange(n, 1, (a, b) -> {
                for (int i = a; i < b; i++) d.put(o + i, v);
            });
        } else {
            FloatBuffer d = CpuStorage.floats(dst);
            float v = (float) value;
            ParallelLoops.forRange(n, 1, (a, b) -> {
                for (int i = a; i < b; i++) d.put(o + i, v);
            });
        }
    }

    /** out = a + b. */
    static void add(Tensor a, Tensor b, Tensor out) {
        FloatBuffer x = CpuStorage.floats(a), y = CpuStorage.floats(b), z = CpuStorage.floats(out);
        int xo = CpuStorage.offset(a), yo = CpuStorage.offset(b), zo = CpuStorage.offset(out);
        ParallelLoops.forRange(Math.toIntExact(out.numel()), 1, (s, e) -> {
            for (int i = s; i < e; i++) z.put(zo + i, x.get(xo + i) + y.get(yo + i));
        });
    }

    /** out = a * b. */
    static void mul(Tensor a, Tensor b, Tensor out) {
        FloatBuffer x = CpuStorage.floats(a), y = CpuStorage.floats(b), z = CpuStorage.floats(out);
        int xo = CpuStorage.offset(a), yo = CpuStorage.offset(b), zo = CpuStorage.offset(out);
        ParallelLoops.forRange(Math.toIntExact(out.numel()), 1, (s, e) -> {
            for (int i = s; i < e; i++) z.put(zo + i, x.get(xo + i) * y.get(yo + i));
        });
    }

    /** y += alpha * x. */
    static void axpy(double alpha, Tensor x, Tensor y) {
        // OpenBLAS's AVX-512 saxpy streams at memory speed; a Java loop over direct buffers does not vectorize.
        Blas.saxpy(y.numel(), (float) alpha, CpuStorage.pointer(x), x.offset(), CpuStorage.pointer(y), y.offset());
    }

    /** out = alpha * x. */
    static void scale(Tensor x, double alpha, Tensor out) {
        FloatBuffer xb = CpuStorage.floats(x), z = CpuStorage.floats(out);
        int xo = CpuStorage.offset(x), zo = CpuStorage.offset(out);
        float al = (float) alpha;
        ParallelLoops.forRange(Math.toIntExact(out.numel()), 1, (s, e) -> {
            for (int i = s; i < e; i++) z.put(zo + i, al * xb.get(xo + i));
        });
    }

    /** y = max(x, 0); NaN stays NaN, as in PyTorch. */
    static void reluForward(Tensor x, Tensor y) {
        FloatBuffer xb = CpuStorage.floats(x), yb = CpuStorage.floats(y);
        int xo = CpuStorage.offset(x), yo = CpuStorage.offset(y);
        ParallelLoops.forRange(Math.toIntExact(y.numel()), 1, (s, e) -> {
            for (int i = s; i < e; i++) yb.put(yo + i, Relu.forward(xb.get(xo + i)));
        });
    }

    /** dx = dy where y > 0, else 0. */
    static void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        FloatBuffer yb = CpuStorage.floats(y), g = CpuStorage.floats(dy), d = CpuStorage.floats(dx);
        int yo = CpuStorage.offset(y), go = CpuStorage.offset(dy), dO = CpuStorage.offset(dx);
        ParallelLoops.forRange(Math.toIntExact(dx.numel()), 1, (s, e) -> {
            for (int i = s; i < e; i++) d.put(dO + i, Relu.gate(yb.get(yo + i), g.get(go + i)));
        });
    }

    /** mask = 0 with probability p, else 1/(1-p); one sequential SplittableRandom(seed) stream, element order. */
    static void dropoutMask(Tensor mask, double p, long seed) {
        FloatBuffer m = CpuStorage.floats(mask);
        int o = CpuStorage.offset(mask);
        int n = Math.toIntExact(mask.numel());
        SplittableRandom random = new SplittableRandom(seed);
        float keep = (float) (1.0 / (1.0 - p));
        for (int i = 0; i < n; i++) m.put(o + i, random.nextDouble() < p ? 0f : keep);
    }

    /** out[0] = sum of x, accumulated in double over fixed blocks. */
    static void sum(Tensor x, Tensor out) {
        FloatBuffer xb = CpuStorage.floats(x);
        int xo = CpuStorage.offset(x);
        int n = Math.toIntExact(x.numel());
        int blocks = (n + SUM_BLOCK - 1) / SUM_BLOCK;
        double[] partial = new double[blocks];
        ParallelLoops.forRange(blocks, SUM_BLOCK, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                double acc = 0;
                for (int i = b * SUM_BLOCK, end = Math.min(n, i + SUM_BLOCK); i < end; i++) acc += xb.get(xo + i);
                partial[b] = acc;
            }
        });
        double total = 0;
        for (double v : partial) total += v;
        CpuStorage.floats(out).put(CpuStorage.offset(out), (float) total);
    }

    /** y[n, c, ...] += bias[c]; y (N, C) or (N, C, H, W). */
    static void addChannelBias(Tensor y, Tensor bias) {
        FloatBuffer yb = CpuStorage.floats(y), bb = CpuStorage.floats(bias);
        int yo = CpuStorage.offset(y), bo = CpuStorage.offset(bias);
        int c = y.dim(1);
        int plane = Math.toIntExact(y.numel() / Math.max(1, (long) y.dim(0) * c));
        ParallelLoops.forRange(y.dim(0) * c, plane, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                float v = bb.get(bo + p % c);
                for (int i = yo + p * plane, end = i + plane; i < end; i++) yb.put(i, yb.get(i) + v);
            }
        });
    }

    /** out[c] = sum of dy[n, c, ...] over n and the spatial positions; dy (N, C) or (N, C, H, W). */
    static void channelSum(Tensor dy, Tensor out) {
        FloatBuffer g = CpuStorage.floats(dy), ob = CpuStorage.floats(out);
        int go = CpuStorage.offset(dy), oo = CpuStorage.offset(out);
        int n = dy.dim(0), c = dy.dim(1);
        int plane = Math.toIntExact(dy.numel() / Math.max(1, (long) n * c));
        ParallelLoops.forRange(c, (long) n * plane, (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                double acc = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = go + (i * c + ch) * plane, end = j + plane; j < end; j++) acc += g.get(j);
                }
                ob.put(oo + ch, (float) acc);
            }
        });
    }
}

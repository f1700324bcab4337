package dev.kiln.backend.cpu;

import dev.kiln.backend.Pool2dSpec;
import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;

/**
 * Max pooling and global average pooling, in parallel over the N*C planes (each plane of the output depends on
 * one plane of the input, so chunks never share memory).
 */
final class CpuPooling {
    private CpuPooling() {
    }

    /**
     * x (N, C, H, W), y (N, C, P, Q): y = max over each window, clipped to the image (padding is -infinity). Input
     * rows are read in bulk into heap arrays (nine reads per output through a direct buffer cost more).
     */
    static void maxForward(Tensor x, Tensor y, Pool2dSpec spec) {
        FloatBuffer xb = CpuStorage.floats(x), yb = CpuStorage.floats(y);
        int xo = CpuStorage.offset(x), yo = CpuStorage.offset(y);
        int h = x.dim(2), w = x.dim(3), p = y.dim(2), q = y.dim(3);
        int k = spec.kernel();
        ParallelLoops.forRange(x.dim(0) * x.dim(1), (long) p * q * k * k, (pl0, pl1) -> {
            float[] row = new float[w], colMax = new float[w], out = new float[q];
            for (int pl = pl0; pl < pl1; pl++) {
                for (int i = 0; i < p; i++) {
                    outputRowMax(xb, xo + pl * h * w, h, w, i, spec, row, colMax, out);
                    yb.put(yo + (pl * p + i) * q, out, 0, q);
                }
            }
        });
    }

    /**
     * out[j] = the maximum of window (i, j) of the plane at {@code plane}, NaN when it holds a NaN, -infinity when
     * empty. Separable: the window's rows are first reduced element-wise into colMax, then each output takes the
     * maximum of its columns there. The row loop reads and writes the same index of two arrays, the form C2
     * vectorizes (an offset into one array would hide that the arrays differ). Math.max is branch-free, where a
     * compare-and-branch per element mispredicts on real activations.
     */
    private static void outputRowMax(FloatBuffer xb, int plane, int h, int w, int i, Pool2dSpec spec, float[] row,
                                     float[] colMax, float[] out) {
        int k = spec.kernel(), stride = spec.stride(), pad = spec.padding(), q = out.length;
        int h0 = Math.max(0, i * stride - pad), h1 = Math.min(h, i * stride - pad + k);
        if (h0 >= h1) {
            java.util.Arrays.fill(out, Float.NEGATIVE_INFINITY);
            return;
        }
        xb.get(plane + h0 * w, colMax, 0, w);
        for (int ih = h0 + 1; ih < h1; ih++) {
            xb.get(plane + ih * w, row, 0, w);
            for (int iw = 0; iw < w; iw++) colMax[iw] = Math.max(colMax[iw], row[iw]);
        }
        // Windows [jLo, jHi) lie wholly inside the row and need no clipping: the hot loop, kept free of bounds.
        int jLo = Math.min(q, (pad + stride - 1) / stride);
        int jHi = Math.max(jLo, Math.min(q, Math.floorDiv(w + pad - k, stride) + 1));
        for (int j = 0; j < jLo; j++) out[j] = clippedWindowMax(colMax, j, k, stride, pad);
        for (int j = jLo; j < jHi; j++) {
            int w0 = j * stride - pad;
            float m = colMax[w0];
            for (int t = 1; t < k; t++) m = Math.max(m, colMax[w0 + t]);
            out[j] = m;
        }
        for (int j = jHi; j < q; j++) out[j] = clippedWindowMax(colMax, j, k, stride, pad);
    }

    /** The maximum of colMax over window j's columns clipped to the row; -infinity when none is inside. */
    private static float clippedWindowMax(float[] colMax, int j, int k, int stride, int pad) {
        int w0 = Math.max(0, j * stride - pad), w1 = Math.min(colMax.length, j * stride - pad + k);
        float m = Float.NEGATIVE_INFINITY;
        for (int iw = w0; iw < w1; iw++) m = Math.max(m, colMax[iw]);
        return m;
    }

    /**
     * dx (N, C, H, W) = sum over windows of dy routed to each window's first maximum. y (N, C, P, Q) is the
     * forward's output, the windows' maxima, so the backward only has to find where each one lies.
     */
    static void maxBackward(Tensor x, Tensor y, Tensor dy, Tensor dx, Pool2dSpec spec) {
        FloatBuffer xb = CpuStorage.floats(x), yb = CpuStorage.floats(y), gb = CpuStorage.floats(dy);
        FloatBuffer db = CpuStorage.floats(dx);
        int xo = CpuStorage.offset(x), yo = CpuStorage.offset(y), go = CpuStorage.offset(dy);
        int dxo = CpuStorage.offset(dx);
        int h = x.dim(2), w = x.dim(3), p = dy.dim(2), q = dy.dim(3);
        int k = spec.kernel();
        ParallelLoops.forRange(x.dim(0) * x.dim(1), (long) p * q * k * k, (pl0, pl1) -> {
            float[] in = new float[h * w], grad = new float[p * q], out = new float[h * w];
            float[] max = new float[p * q];
            for (int pl = pl0; pl < pl1; pl++) {
                xb.get(xo + pl * h * w, in, 0, h * w);
                yb.get(yo + pl * p * q, max, 0, p * q);
                gb.get(go + pl * p * q, grad, 0, p * q);
                java.util.Arrays.fill(out, 0f);
                for (int i = 0; i < p; i++) {
                    for (int j = 0; j < q; j++) {
                        int arg = firstMax(in, h, w, i, j, spec, max[i * q + j]);
                        if (arg >= 0) out[arg] += grad[i * q + j];
                    }
                }
                db.put(dxo + pl * h * w, out, 0, h * w);
            }
        });
    }

    /**
     * {@link #argmax} given the window's maximum: the first element equal to it. Windows whose maximum is NaN
     * (equal to nothing) or -infinity (empty, or all -infinity) go through {@link #argmax} itself.
     */
    private static int firstMax(float[] plane, int h, int w, int i, int j, Pool2dSpec spec, float max) {
        if (Float.isNaN(max) || max == Float.NEGATIVE_INFINITY) return argmax(plane, h, w, i, j, spec);
        int h0 = Math.max(0, i * spec.stride() - spec.padding());
        int h1 = Math.min(h, i * spec.stride() - spec.padding() + spec.kernel());
        int w0 = Math.max(0, j * spec.stride() - spec.padding());
        int w1 = Math.min(w, j * spec.stride() - spec.padding() + spec.kernel());
        for (int ih = h0; ih < h1; ih++) {
            for (int iw = ih * w + w0, end = ih * w + w1; iw < end; iw++) {
                if (plane[iw] == max) return iw;
            }
        }
        return argmax(plane, h, w, i, j, spec); // not reached: max came from this window
    }

    /**
     * Index (ih * W + iw) within the plane of the first maximum of window (i, j) in row-major scan order (a NaN
     * wins, as in PyTorch's CPU kernel); -1 for a window with no element inside the image.
     */
    private static int argmax(float[] plane, int h, int w, int i, int j, Pool2dSpec spec) {
        int h0 = i * spec.stride() - spec.padding(), w0 = j * spec.stride() - spec.padding();
        int h1 = Math.min(h, h0 + spec.kernel()), w1 = Math.min(w, w0 + spec.kernel());
        h0 = Math.max(0, h0);
        w0 = Math.max(0, w0);
        int best = -1;
        float max = Float.NEGATIVE_INFINITY;
        for (int ih = h0; ih < h1; ih++) {
            for (int iw = w0; iw < w1; iw++) {
                float v = plane[ih * w + iw];
                if (best < 0 || v > max || Float.isNaN(v)) {
                    best = ih * w + iw;
                    max = v;
                }
            }
        }
        return best;
    }

    /** y (N, C) = mean of x (N, C, H, W) over H and W. */
    static void globalAvgForward(Tensor x, Tensor y) {
        FloatBuffer xb = CpuStorage.floats(x), yb = CpuStorage.floats(y);
        int xo = CpuStorage.offset(x), yo = CpuStorage.offset(y);
        int plane = x.dim(2) * x.dim(3);
        ParallelLoops.forRange(x.dim(0) * x.dim(1), plane, (pl0, pl1) -> {
            for (int pl = pl0; pl < pl1; pl++) {
                double acc = 0;
                for (int i = xo + pl * plane, end = i + plane; i < end; i++) acc += xb.get(i);
                yb.put(yo + pl, (float) (acc / plane));
            }
        });
    }

    /** dx (N, C, H, W) = dy (N, C) / (H * W), broadcast over each plane. */
    static void globalAvgBackward(Tensor dy, Tensor dx) {
        FloatBuffer gb = CpuStorage.floats(dy), db = CpuStorage.floats(dx);
        int go = CpuStorage.offset(dy), dxo = CpuStorage.offset(dx);
        int plane = dx.dim(2) * dx.dim(3);
        ParallelLoops.forRange(dx.dim(0) * dx.dim(1), plane, (pl0, pl1) -> {
            for (int pl = pl0; pl < pl1; pl++) {
                float v = gb.get(go + pl) / plane;
                for (int i = dxo + pl * plane, end = i + plane; i < end; i++) db.put(i, v);
            }
        });
    }
}

package dev.kiln.backend.cpu;

import dev.kiln.tensor.DType;
import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/** Row softmax and softmax cross-entropy over (N, K) logits, in parallel over rows, with double accumulation. */
final class CpuSoftmax {
    private CpuSoftmax() {
    }

    /** y (N, K) = softmax of each row of x (N, K), with the row maximum subtracted first. */
    static void softmax(Tensor x, Tensor y) {
        FloatBuffer xb = CpuStorage.floats(x), yb = CpuStorage.floats(y);
        int xo = CpuStorage.offset(x), yo = CpuStorage.offset(y);
        int k = x.dim(-1);
        int rows = Math.toIntExact(x.numel() / Math.max(1, k));
        ParallelLoops.forRange(rows, 8L * k, (r0, r1) -> {
            for (int r = r0; r < r1; r++) softmaxRow(xb, xo + r * k, k, yb, yo + r * k);
        });
    }

    /** dx (N, K) = y * (dy - <dy, y>) per row: the softmax gradient given its output y. */
    static void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        FloatBuffer yb = CpuStorage.floats(y), gb = CpuStorage.floats(dy), db = CpuStorage.floats(dx);
        int yo = CpuStorage.offset(y), go = CpuStorage.offset(dy), dO = CpuStorage.offset(dx);
        int k = y.dim(-1);
        int rows = Math.toIntExact(y.numel() / Math.max(1, k));
        ParallelLoops.forRange(rows, 8L * k, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                double dot = 0;
                for (int i = 0; i < k; i++) dot += (double) gb.get(go + r * k + i) * yb.get(yo + r * k + i);
                for (int i = 0; i < k; i++) {
                    float yi = yb.get(yo + r * k + i);
                    db.put(dO + r * k + i, (float) (yi * (gb.get(go + r * k + i) - dot)));
                }
            }
        });
    }

    /** Writes softmax(x[row]) to y[row] and returns the row's logsumexp. */
    private static double softmaxRow(FloatBuffer xb, int xs, int k, FloatBuffer yb, int ys) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < k; i++) max = Math.max(max, xb.get(xs + i));
        double sum = 0;
        for (int i = 0; i < k; i++) {
            double e = Math.exp(xb.get(xs + i) - (double) max);
            yb.put(ys + i, (float) e);
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < k; i++) yb.put(ys + i, yb.get(ys + i) * inv);
        return max + Math.log(sum);
    }

    /**
     * logits, probs (N, K); targets I32 (N) or F32 (N, K); rowLoss (N) = logsumexp(logits[n]) - sum_k t[n,k]
     * logits[n,k].
     */
    static void crossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor rowLoss) {
        FloatBuffer xb = CpuStorage.floats(logits), pb = CpuStorage.floats(probs), lb = CpuStorage.floats(rowLoss);
        int xo = CpuStorage.offset(logits), po = CpuStorage.offset(probs), lo = CpuStorage.offset(rowLoss);
        int n = logits.dim(0), k = logits.dim(1);
        Targets t = new Targets(targets, k);
        ParallelLoops.forRange(n, 8L * k, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xs = xo + r * k;
                double lse = softmaxRow(xb, xs, k, pb, po + r * k);
                double dot = 0;
                if (t.labels != null) {
                    dot = xb.get(xs + t.label(r));
                } else {
                    for (int i = 0; i < k; i++) dot += (double) t.dist.get(t.offset + r * k + i) * xb.get(xs + i);
                }
                // As the contract states (and as its gradient probs - target assumes): lse - dot.
                lb.put(lo + r, (float) (lse - dot));
            }
        });
    }

    /** dlogits (N, K) = scale * (probs - target). */
    static void crossEntropyBackward(Tensor probs, Tensor targets, double scale, Tensor dlogits) {
        FloatBuffer pb = CpuStorage.floats(probs), db = CpuStorage.floats(dlogits);
        int po = CpuStorage.offset(probs), dO = CpuStorage.offset(dlogits);
        int n = probs.dim(0), k = probs.dim(1);
        Targets t = new Targets(targets, k);
        float s = (float) scale;
        ParallelLoops.forRange(n, k, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int ps = po + r * k, ds = dO + r * k;
                if (t.labels != null) {
                    int label = t.label(r);
                    for (int i = 0; i < k; i++) db.put(ds + i, s * (pb.get(ps + i) - (i == label ? 1f : 0f)));
                } else {
                    int ts = t.offset + r * k;
                    for (int i = 0; i < k; i++) db.put(ds + i, s * (pb.get(ps + i) - t.dist.get(ts + i)));
                }
            }
        });
    }

    /** Class indices (I32, shape (N)) or a distribution (F32, shape (N, K)). */
    private static final class Targets {
        final IntBuffer labels;
        final FloatBuffer dist;
        final int offset, k;

        Targets(Tensor t, int k) {
            this.k = k;
            offset = CpuStorage.offset(t);
            if (t.dtype() == DType.I32) {
                labels = CpuStorage.ints(t);
                dist = null;
            } else {
                labels = null;
                dist = CpuStorage.floats(t);
            }
        }

        int label(int row) {
            int label = labels.get(offset + row);
            if (label < 0 || label >= k) {
                throw new IndexOutOfBoundsException("cross-entropy: target " + label + " of row " + row
                        + " is outside [0, " + k + ")");
            }
            return label;
        }
    }
}

package dev.kiln.backend.cpu;

import dev.kiln.tensor.Tensor;

/**
 * A dense layer's forward and weight gradient at a small batch, through Kiln's own kernels
 * ({@code src/main/cpp/kiln_skinny_gemm.h}), where OpenBLAS spends its time packing and zeroing:
 * <pre>
 *     forward        y (B, out) = x (B, in) W (out, in)^T
 *     weight grad   dW (out, in) = dy (B, out)^T x (B, in)
 * </pre>
 * with B (the batch) at most {@value #MAX_BATCH} and the weight matrix large. Both are bound by moving W through
 * memory: the forward reads it once, the weight gradient writes it once. Measured on the recipe's Flatten ->
 * Dense(1024) head (B = 16, in = 100352): see {@code bench/README.md}. Work is split over the cores by rows of W.
 */
final class SkinnyGemm {
    /** The largest batch (the small dimension) these kernels take. */
    static final int MAX_BATCH = 64;
    /** Only weight matrices at least this large: below it OpenBLAS's overheads do not matter. */
    private static final long MIN_WEIGHTS = 1 << 20;

    private SkinnyGemm() {
    }

    /**
     * Whether {@code c (m, n) = alpha op(a) op(b) + beta c} is one of the two shapes, with alpha 1 and beta 0, and
     * the kernels loaded: the forward ({@code a b^T}, m the batch) or the weight gradient ({@code a^T b}, k the
     * batch).
     */
    static boolean suits(boolean transA, boolean transB, double alpha, double beta, int m, int n, int k) {
        if (!NativeKernels.AVAILABLE || alpha != 1 || beta != 0 || m == 0 || n == 0 || k == 0) return false;
        if (!transA && transB) return m <= MAX_BATCH && (long) n * k >= MIN_WEIGHTS;
        if (transA && !transB) return k <= MAX_BATCH && (long) m * n >= MIN_WEIGHTS;
        return false;
    }

    /** c = a b^T (forward) when !transA, else c = a^T b (weight gradient); shapes as {@link #suits} allowed. */
    static void run(boolean transA, Tensor a, Tensor b, Tensor c) {
        long at = CpuStorage.address(a), bt = CpuStorage.address(b), ct = CpuStorage.address(c);
        int m = c.dim(0), n = c.dim(1);
        if (!transA) {
            // Split the columns of y, which are rows of W, so each thread streams its own part of W.
            int k = a.dim(1);
            ParallelLoops.forRange(n, (long) m * k,
                    (j0, j1) -> NativeKernels.gemmABtSkinny(at, m, k, bt, j0, j1, ct, n));
        } else {
            int batch = a.dim(0);
            ParallelLoops.forRange(m, (long) batch * n,
                    (i0, i1) -> NativeKernels.gemmAtBSkinny(at, batch, m, bt, n, i0, i1, ct));
        }
    }
}

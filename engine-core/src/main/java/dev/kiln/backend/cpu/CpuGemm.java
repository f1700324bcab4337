package dev.kiln.backend.cpu;

import dev.kiln.tensor.Tensor;

import java.nio.FloatBuffer;

/**
 * Dense GEMMs ({@code c = alpha op(a) op(b) + beta c}): a dense layer's two big products at a small batch in Kiln's
 * own kernels ({@link SkinnyGemm}) where they loaded, everything else through OpenBLAS, in whichever orientation
 * runs faster.
 *
 * <p>A dense layer's forward at a small batch, {@code y (M, N) = x (M, K) W^T} with M a batch of 8-64 and K large,
 * runs 10-55% faster in OpenBLAS as its transpose {@code y^T (N, M) = W x^T} (measured: M=16, N=1024, K=100352, the
 * recipe's Flatten-Dense head, 30 ms against 22 ms; M=16, N=1000, K=2048, ResNet50's top, 0.55 against 0.24 ms).
 * So when beta is 0, M is small, M < N and K >= N, the product is computed transposed into a workspace and
 * transposed back into c, which costs a copy of M*N floats. Where K < N (a dense layer's gradient with respect to
 * its input) the transpose measured no faster, and a large M (a weight gradient) would need a large workspace.
 * Not thread-safe: {@link CpuBackend} serializes calls.
 */
final class CpuGemm {
    /** The largest M computed transposed: a small batch, so the workspace stays small. */
    private static final int MAX_TRANSPOSED_ROWS = 64;

    private final Workspace transposed = new Workspace();

    synchronized long workspaceBytes() {
        return transposed.bytes();
    }

    synchronized void releaseWorkspace() {
        transposed.release();
    }

    /** c (M, N) = alpha * op(a) op(b) + beta * c; a is (M, K) or (K, M) when transposed, b (K, N) or (N, K). */
    synchronized void gemm(boolean transA, boolean transB, double alpha, Tensor a, Tensor b, double beta, Tensor c) {
        int m = c.dim(0), n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        if (k == 0) {
            // No products: c = beta * c (and beta = 0 overwrites whatever was there).
            if (beta == 0) CpuElementwise.fill(c, 0);
            else CpuElementwise.scale(c, beta, c);
            return;
        }
        if (SkinnyGemm.suits(transA, transB, alpha, beta, m, n, k)) {
            SkinnyGemm.run(transA, a, b, c);
            return;
        }
        if (beta == 0 && m <= MAX_TRANSPOSED_ROWS && m < n && k >= n) {
            // c^T (N, M) = op(b)^T op(a)^T: the operands swap places and their transpose flags flip.
            transposed.ensure((long) n * m);
            Blas.sgemm(!transB, !transA, n, m, k, (float) alpha, CpuStorage.pointer(b), b.offset(), b.dim(1),
                    CpuStorage.pointer(a), a.offset(), a.dim(1), 0f, transposed.pointer(), 0, m);
            transposeInto(transposed.buffer(), m, n, c);
            return;
        }
        Blas.sgemm(transA, transB, m, n, k, (float) alpha, CpuStorage.pointer(a), a.offset(), a.dim(1),
                CpuStorage.pointer(b), b.offset(), b.dim(1), (float) beta, CpuStorage.pointer(c), c.offset(), n);
    }

    /** c[i, j] = t[j, i] for c (M, N) and t (N, M) at the start of its buffer. */
    private static void transposeInto(FloatBuffer t, int m, int n, Tensor c) {
        float[] ct = new float[n * m], rows = new float[m * n];
        t.get(0, ct, 0, n * m);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) rows[i * n + j] = ct[j * m + i];
        }
        CpuStorage.floats(c).put(CpuStorage.offset(c), rows, 0, m * n);
    }
}

package dev.kiln.backend.cpu;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.Tensor;
import org.bytedeco.javacpp.FloatPointer;

import java.nio.FloatBuffer;

/**
 * conv2d forward, backward-data and backward-filter as GEMMs over im2col matrices (OpenBLAS sgemm).
 *
 * <p>Weights (K, C, R, S) are a (K, C*R*S) matrix. For each group of images, im2col builds col (C*R*S, G*P*Q) and
 * <ul>
 *   <li>forward: y (K, G*P*Q) = W col,</li>
 *   <li>backward-data: dcol = W^T dy, then col2im,</li>
 *   <li>backward-filter: dW += dy col^T.</li>
 * </ul>
 * A 1x1, stride-1, unpadded convolution needs no im2col: image n (C, H*W) is already its column matrix. Small
 * images (7x7, 14x14) make thin GEMMs that OpenBLAS runs poorly, so several images share one GEMM, at the cost of
 * gathering/scattering dy and y through a workspace.
 *
 * <p>Workspaces grow only and are reused across calls; the methods are synchronized because of them. Java loops
 * (im2col, col2im, copies) and sgemm calls alternate, never overlap.
 */
final class CpuConvolution {
    /** Aim for at least this many GEMM columns (G*P*Q) by grouping images. */
    private static final int TARGET_COLUMNS = 1024;
    /** Images with at least this many output pixels get one GEMM each (no gather/scatter copies). */
    private static final int MIN_COLUMNS_ALONE = 512;

    private final Workspace col = new Workspace();
    private final Workspace gathered = new Workspace();
    private final ShiftedGemmConvolution shifted = new ShiftedGemmConvolution();
    private final boolean useShifted;

    /** @param useShifted whether stride-1 kernels on large images skip im2col ({@link ShiftedGemmConvolution}) */
    CpuConvolution(boolean useShifted) {
        this.useShifted = useShifted;
    }

    /** Bytes held by the workspaces. */
    synchronized long workspaceBytes() {
        return col.bytes() + gathered.bytes() + shifted.workspaceBytes();
    }

    synchronized void releaseWorkspaces() {
        col.release();
        gathered.release();
        shifted.releaseWorkspaces();
    }

    /** x (N, C, H, W), w (K, C, R, S). */
    private boolean shiftedSuits(Tensor x, Tensor w, Conv2dSpec spec) {
        return useShifted && ShiftedGemmConvolution.suits(x.dim(2), x.dim(3), w.dim(2), w.dim(3), spec);
    }

    /** x (N, C, H, W), w (K, C, R, S), bias (K) nullable, y (N, K, P, Q). */
    synchronized void forward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec) {
        if (shiftedSuits(x, w, spec)) {
            shifted.forward(x, w, y, spec);
            if (bias != null) CpuElementwise.addChannelBias(y, bias);
            return;
        }
        Plan pl = new Plan(x, w, y, spec);
        FloatPointer xp = CpuStorage.pointer(x), wp = CpuStorage.pointer(w), yp = CpuStorage.pointer(y);
        long xOff = x.offset(), wOff = w.offset(), yOff = y.offset();
        if (pl.direct && pl.group == 1) {
            for (int n = 0; n < pl.n; n++) {
                // y_n (K, HW) = W (K, C) x_n (C, HW)
                Blas.sgemm(false, false, pl.k, pl.pq, pl.crs, 1f, wp, wOff, pl.crs,
                        xp, xOff + (long) n * pl.xImage, pl.pq, 0f, yp, yOff + (long) n * pl.yImage, pl.pq);
            }
        } else {
            col.ensure(pl.colFloats());
            if (pl.group > 1) gathered.ensure((long) pl.k * pl.group * pl.pq);
            for (int n0 = 0; n0 < pl.n; n0 += pl.group) {
                int g = Math.min(pl.group, pl.n - n0);
                int ld = g * pl.pq;
                unfold(pl, x, n0, g, ld);
                if (g == 1) {
                    Blas.sgemm(false, false, pl.k, pl.pq, pl.crs, 1f, wp, wOff, pl.crs,
                            col.pointer(), 0, ld, 0f, yp, yOff + (long) n0 * pl.yImage, pl.pq);
                } else {
                    // out (K, g*PQ) = W col, then scatter each image's PQ block of every row to y[n, k].
                    Blas.sgemm(false, false, pl.k, ld, pl.crs, 1f, wp, wOff, pl.crs,
                            col.pointer(), 0, ld, 0f, gathered.pointer(), 0, ld);
                    moveBlocks(pl, gathered.buffer(), CpuStorage.floats(y), CpuStorage.offset(y), n0, g, true);
                }
            }
        }
        if (bias != null) CpuElementwise.addChannelBias(y, bias);
    }

    /** dy (N, K, P, Q), w (K, C, R, S), dx (N, C, H, W), overwritten. */
    synchronized void backwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        if (shiftedSuits(dx, w, spec)) {
            shifted.backwardData(dy, w, dx, spec);
            return;
        }
        Plan pl = new Plan(dx, w, dy, spec);
        FloatPointer dyp = CpuStorage.pointer(dy), wp = CpuStorage.pointer(w), dxp = CpuStorage.pointer(dx);
        long dyOff = dy.offset(), wOff = w.offset(), dxOff = dx.offset();
        if (pl.direct && pl.group == 1) {
            for (int n = 0; n < pl.n; n++) {
                // dx_n (C, HW) = W^T (C, K) dy_n (K, HW)
                Blas.sgemm(true, false, pl.crs, pl.pq, pl.k, 1f, wp, wOff, pl.crs,
                        dyp, dyOff + (long) n * pl.yImage, pl.pq, 0f, dxp, dxOff + (long) n * pl.xImage, pl.pq);
            }
            return;
        }
        col.ensure(pl.colFloats());
        if (pl.group > 1) gathered.ensure((long) pl.k * pl.group * pl.pq);
        FloatBuffer dxb = CpuStorage.floats(dx);
        int dxStart = CpuStorage.offset(dx);
        for (int n0 = 0; n0 < pl.n; n0 += pl.group) {
            int g = Math.min(pl.group, pl.n - n0);
            int ld = g * pl.pq;
            FloatPointer dyMat = dyp;
            long dyMatOff = dyOff + (long) n0 * pl.yImage;
            if (g > 1) {
                moveBlocks(pl, gathered.buffer(), CpuStorage.floats(dy), CpuStorage.offset(dy), n0, g, false);
                dyMat = gathered.pointer();
                dyMatOff = 0;
            }
            // dcol (CRS, g*PQ) = W^T (CRS, K) dy (K, g*PQ)
            Blas.sgemm(true, false, pl.crs, ld, pl.k, 1f, wp, wOff, pl.crs, dyMat, dyMatOff, ld,
                    0f, col.pointer(), 0, ld);
            for (int i = 0; i < g; i++) {
                Im2Col.col2im(pl.geometry, col.buffer(), 0, ld, i * pl.pq, dxb,
                        dxStart + Math.toIntExact((long) (n0 + i) * pl.xImage));
            }
        }
    }

    /** x (N, C, H, W), dy (N, K, P, Q), dw (K, C, R, S), overwritten. */
    synchronized void backwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        if (shiftedSuits(x, dw, spec) && x.dim(0) > 0) {
            shifted.backwardFilter(x, dy, dw, spec);
            return;
        }
        Plan pl = new Plan(x, dw, dy, spec);
        FloatPointer xp = CpuStorage.pointer(x), dyp = CpuStorage.pointer(dy), dwp = CpuStorage.pointer(dw);
        long xOff = x.offset(), dyOff = dy.offset(), dwOff = dw.offset();
        if (pl.n == 0) {
            CpuElementwise.fill(dw, 0);
            return;
        }
        if (pl.direct && pl.group == 1) {
            for (int n = 0; n < pl.n; n++) {
                // dW (K, C) (+)= dy_n (K, HW) x_n^T (HW, C)
                Blas.sgemm(false, true, pl.k, pl.crs, pl.pq, 1f, dyp, dyOff + (long) n * pl.yImage, pl.pq,
                        xp, xOff + (long) n * pl.xImage, pl.pq, n == 0 ? 0f : 1f, dwp, dwOff, pl.crs);
            }
            return;
        }
        col.ensure(pl.colFloats());
        if (pl.group > 1) gathered.ensure((long) pl.k * pl.group * pl.pq);
        for (int n0 = 0; n0 < pl.n; n0 += pl.group) {
            int g = Math.min(pl.group, pl.n - n0);
            int ld = g * pl.pq;
            unfold(pl, x, n0, g, ld);
            FloatPointer dyMat = dyp;
            long dyMatOff = dyOff + (long) n0 * pl.yImage;
            if (g > 1) {
                moveBlocks(pl, gathered.buffer(), CpuStorage.floats(dy), CpuStorage.offset(dy), n0, g, false);
                dyMat = gathered.pointer();
                dyMatOff = 0;
            }
            // dW (K, CRS) (+)= dy (K, g*PQ) col^T (g*PQ, CRS)
            Blas.sgemm(false, true, pl.k, pl.crs, ld, 1f, dyMat, dyMatOff, ld, col.pointer(), 0, ld,
                    n0 == 0 ? 0f : 1f, dwp, dwOff, pl.crs);
        }
    }

    /** im2col of images [n0, n0 + g) side by side into the col workspace (rows of length ld). */
    private void unfold(Plan pl, Tensor x, int n0, int g, int ld) {
        FloatBuffer xb = CpuStorage.floats(x);
        int xStart = CpuStorage.offset(x);
        for (int i = 0; i < g; i++) {
            Im2Col.im2col(pl.geometry, xb, xStart + Math.toIntExact((long) (n0 + i) * pl.xImage),
                    col.buffer(), 0, ld, i * pl.pq);
        }
    }

    /**
     * Moves PQ-long blocks between a (K, g*PQ) matrix and images [n0, n0 + g) of an (N, K, P, Q) tensor:
     * {@code toTensor} scatters matrix -> tensor, otherwise gathers tensor -> matrix.
     */
    private static void moveBlocks(Plan pl, FloatBuffer matrix, FloatBuffer tensor, int tensorOff, int n0, int g,
                                   boolean toTensor) {
        int pq = pl.pq, ld = g * pq;
        ParallelLoops.forRange(pl.k, (long) ld, (k0, k1) -> {
            for (int k = k0; k < k1; k++) {
                for (int i = 0; i < g; i++) {
                    int m = k * ld + i * pq;
                    int t = tensorOff + Math.toIntExact((long) (n0 + i) * pl.yImage + (long) k * pq);
                    if (toTensor) tensor.put(t, matrix, m, pq);
                    else matrix.put(m, tensor, t, pq);
                }
            }
        });
    }

    /** Sizes of one call, and how many images share a GEMM. */
    private static final class Plan {
        final int n, k, crs, pq;
        final long xImage, yImage;
        final boolean direct;
        final int group;
        final Im2Col.Geometry geometry;

        /** x (N, C, H, W), w (K, C, R, S), y (N, K, P, Q). */
        Plan(Tensor x, Tensor w, Tensor y, Conv2dSpec spec) {
            n = x.dim(0);
            int c = x.dim(1), h = x.dim(2), wd = x.dim(3);
            k = w.dim(0);
            int r = w.dim(2), s = w.dim(3);
            int p = y.dim(2), q = y.dim(3);
            geometry = new Im2Col.Geometry(c, h, wd, r, s, spec.strideH(), spec.strideW(), spec.padH(), spec.padW(),
                    p, q);
            crs = c * r * s;
            pq = p * q;
            xImage = (long) c * h * wd;
            yImage = (long) k * pq;
            direct = r == 1 && s == 1 && spec.strideH() == 1 && spec.strideW() == 1
                    && spec.padH() == 0 && spec.padW() == 0;
            group = pq >= MIN_COLUMNS_ALONE || pq == 0 ? 1 : Math.max(1, Math.min(n, TARGET_COLUMNS / pq));
        }

        long colFloats() {
            return (long) crs * group * pq;
        }
    }
}

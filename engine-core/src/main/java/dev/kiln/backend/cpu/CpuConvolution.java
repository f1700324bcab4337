package dev.kiln.backend.cpu;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.Tensor;
import org.bytedeco.javacpp.FloatPointer;

import java.nio.FloatBuffer;

/**
 * conv2d forward, backward-data and backward-filter: through Kiln's own kernel ({@link DirectConvolution}) where it
 * loaded and measured faster, otherwise as GEMMs over im2col matrices (OpenBLAS sgemm), as described here.
 *
 * <p>Weights (K, C, R, S) are a (K, C*R*S) matrix. For each group of G images, im2col builds col (C*R*S, G*cols),
 * where cols is P*phaseW, P output rows each padded with a few garbage columns ({@link Im2Col}), and
 * <ul>
 *   <li>forward: grid (K, G*cols) = W col, cropped into y;</li>
 *   <li>backward-data: dy is spread onto the grid (zeros in the garbage columns), dcol = W^T dy, then col2im;</li>
 *   <li>backward-filter: dW += dy_grid col^T.</li>
 * </ul>
 * Where the grid has no garbage columns and one image fills a GEMM, y and dy are the grid themselves. A 1x1,
 * stride-1, unpadded convolution needs no im2col at all: image n (C, H*W) is already its column matrix. Small
 * images (7x7, and 14x14 for kernels larger than 1x1) make thin GEMMs that OpenBLAS runs poorly, so several images
 * share one GEMM. Stride-1 kernels on large images skip im2col ({@link ShiftedGemmConvolution}).
 *
 * <p>Workspaces grow only and are reused across calls; the methods are synchronized because of them. Java loops
 * (im2col, col2im, copies) and sgemm calls alternate, never overlap.
 */
final class CpuConvolution {
    /** Aim for at least this many GEMM columns (G*cols) by grouping images. */
    private static final int TARGET_COLUMNS = 1024;
    /** Images with at least this many columns get one GEMM each. */
    private static final int MIN_COLUMNS_ALONE = 512;
    /**
     * The same for 1x1 kernels. One GEMM per image then writes the output in place, with no crop, and at stride 1
     * reads the image in place too: that beats grouping at 14x14 (196 columns; at batch 8, stride 1: forward and
     * both backward passes 25-35% faster; stride 2: 15-20%), though not at 7x7 (49 columns, up to 25% slower).
     */
    private static final int MIN_COLUMNS_ALONE_1X1 = 128;

    private final Workspace col = new Workspace();
    private final Workspace gathered = new Workspace();
    private final ShiftedGemmConvolution shifted = new ShiftedGemmConvolution();
    private final DirectConvolution direct = new DirectConvolution();
    private final boolean useDirect;
    private final boolean useShifted;

    /**
     * @param useDirect  whether convolutions run Kiln's own kernels ({@link DirectConvolution}) where they loaded
     *                   and suit the shape
     * @param useShifted whether the other stride-1 kernels on large images skip im2col ({@link ShiftedGemmConvolution})
     */
    CpuConvolution(boolean useDirect, boolean useShifted) {
        this.useDirect = useDirect;
        this.useShifted = useShifted;
    }

    /** Bytes held by the workspaces. */
    synchronized long workspaceBytes() {
        return col.bytes() + gathered.bytes() + shifted.workspaceBytes() + direct.workspaceBytes();
    }

    synchronized void releaseWorkspaces() {
        col.release();
        gathered.release();
        shifted.releaseWorkspaces();
        direct.releaseWorkspaces();
    }

    /** x (N, C, H, W), w (K, C, R, S). */
    private boolean directSuitsForward(Tensor x, Tensor w, Conv2dSpec spec) {
        return useDirect && DirectConvolution.suitsForward(x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0),
                w.dim(2), w.dim(3), spec);
    }

    /** dx (N, C, H, W), w (K, C, R, S). */
    private boolean directSuitsBackwardData(Tensor dx, Tensor w, Conv2dSpec spec) {
        return useDirect && DirectConvolution.suitsBackwardData(dx.dim(0), dx.dim(1), dx.dim(2), dx.dim(3),
                w.dim(0), w.dim(2), w.dim(3), spec);
    }

    /** x (N, C, H, W), dw (K, C, R, S). */
    private boolean directSuitsBackwardFilter(Tensor x, Tensor dw, Conv2dSpec spec) {
        return useDirect && DirectConvolution.suitsBackwardFilter(x.dim(0), x.dim(1), x.dim(2), x.dim(3),
                dw.dim(0), dw.dim(2), dw.dim(3), spec);
    }

    /** x (N, C, H, W), w (K, C, R, S). */
    private boolean shiftedSuits(Tensor x, Tensor w, Conv2dSpec spec) {
        return useShifted && ShiftedGemmConvolution.suits(x.dim(2), x.dim(3), w.dim(2), w.dim(3), spec);
    }

    /** x (N, C, H, W), w (K, C, R, S), bias (K) nullable, y (N, K, P, Q). */
    synchronized void forward(Tensor x, Tensor w, Tensor bias, Tensor y, Conv2dSpec spec) {
        if (directSuitsForward(x, w, spec)) {
            direct.forward(x, w, bias, y, spec, null); // the bias rides on the kernel's stores
            return;
        }
        forward(x, w, y, spec, null);
        if (bias != null) CpuElementwise.addChannelBias(y, bias);
    }

    /**
     * y = W x with every output plane passed through {@code epilogue} (nullable). Where the output is cropped out
     * of a GEMM's grid, the epilogue rides on that copy, on data still in cache; where GEMMs write y directly, it
     * is one more pass at the end.
     */
    synchronized void forward(Tensor x, Tensor w, Tensor y, Conv2dSpec spec, ChannelEpilogue epilogue) {
        if (directSuitsForward(x, w, spec)) {
            direct.forward(x, w, null, y, spec, epilogue);
        } else if (shiftedSuits(x, w, spec)) {
            shifted.forward(x, w, y, spec, epilogue);
        } else {
            forwardByColumns(x, w, y, new Plan(x, w, y, spec), epilogue);
        }
    }

    /** y = W x, per image when x is its own column matrix, otherwise over im2col matrices of image groups. */
    private void forwardByColumns(Tensor x, Tensor w, Tensor y, Plan pl, ChannelEpilogue epilogue) {
        FloatPointer xp = CpuStorage.pointer(x), wp = CpuStorage.pointer(w), yp = CpuStorage.pointer(y);
        long xOff = x.offset(), wOff = w.offset(), yOff = y.offset();
        if (pl.direct && pl.group == 1) {
            for (int n = 0; n < pl.n; n++) {
                // y_n (K, HW) = W (K, C) x_n (C, HW)
                Blas.sgemm(false, false, pl.k, pl.cols, pl.crs, 1f, wp, wOff, pl.crs,
                        xp, xOff + (long) n * pl.xImage, pl.cols, 0f, yp, yOff + (long) n * pl.yImage, pl.cols);
            }
            // One pass at the end: applied image by image after each GEMM, it measured slower, not faster.
            if (epilogue != null) epilogue.applyInPlace(y, 0, pl.n);
            return;
        }
        pl.ensureWorkspaces();
        for (int n0 = 0; n0 < pl.n; n0 += pl.group) {
            int g = Math.min(pl.group, pl.n - n0), ld = g * pl.cols;
            unfold(pl, x, n0, g, ld);
            if (pl.isOwnGrid(g)) {
                Blas.sgemm(false, false, pl.k, ld, pl.crs, 1f, wp, wOff, pl.crs,
                        col.pointer(), 0, ld, 0f, yp, yOff + (long) n0 * pl.yImage, ld);
                // Per group: a partial last group can be its own grid where the others are cropped.
                if (epilogue != null) epilogue.applyInPlace(y, n0, g);
            } else {
                // grid (K, g*cols) = W col, then crop each image's outputs into y[n, k].
                Blas.sgemm(false, false, pl.k, ld, pl.crs, 1f, wp, wOff, pl.crs,
                        col.pointer(), 0, ld, 0f, gathered.pointer(), 0, ld);
                pl.grid(g).crop(gathered.buffer(), g, y, n0, epilogue);
            }
        }
    }

    /** dy (N, K, P, Q), w (K, C, R, S), dx (N, C, H, W), overwritten. */
    synchronized void backwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        if (directSuitsBackwardData(dx, w, spec)) {
            direct.backwardData(dy, w, dx, spec);
            return;
        }
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
                Blas.sgemm(true, false, pl.crs, pl.cols, pl.k, 1f, wp, wOff, pl.crs,
                        dyp, dyOff + (long) n * pl.yImage, pl.cols, 0f, dxp, dxOff + (long) n * pl.xImage, pl.cols);
            }
            return;
        }
        pl.ensureWorkspaces();
        FloatBuffer dxb = CpuStorage.floats(dx);
        int dxStart = CpuStorage.offset(dx);
        for (int n0 = 0; n0 < pl.n; n0 += pl.group) {
            int g = Math.min(pl.group, pl.n - n0), ld = g * pl.cols;
            // dcol (CRS, g*cols) = W^T (CRS, K) dy_grid (K, g*cols)
            Blas.sgemm(true, false, pl.crs, ld, pl.k, 1f, wp, wOff, pl.crs,
                    dyGrid(pl, dy, n0, g), dyGridOffset(pl, dy, n0, g), ld, 0f, col.pointer(), 0, ld);
            for (int i = 0; i < g; i++) {
                Im2Col.col2im(pl.geometry, col.buffer(), 0, ld, i * pl.cols, dxb,
                        dxStart + Math.toIntExact((long) (n0 + i) * pl.xImage));
            }
        }
    }

    /** x (N, C, H, W), dy (N, K, P, Q), dw (K, C, R, S), overwritten. */
    synchronized void backwardFilter(Tensor x, Tensor dy, Tensor dw, Conv2dSpec spec) {
        if (directSuitsBackwardFilter(x, dw, spec)) {
            direct.backwardFilter(x, dy, dw, spec);
            return;
        }
        // Otherwise im2col, never the shifted form: one GEMM per image group with inner dimension cols, where the
        // shifted form would run R*S GEMMs with a tiny (K, C) output each, which measured no faster.
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
                Blas.sgemm(false, true, pl.k, pl.crs, pl.cols, 1f, dyp, dyOff + (long) n * pl.yImage, pl.cols,
                        xp, xOff + (long) n * pl.xImage, pl.cols, n == 0 ? 0f : 1f, dwp, dwOff, pl.crs);
            }
            return;
        }
        pl.ensureWorkspaces();
        for (int n0 = 0; n0 < pl.n; n0 += pl.group) {
            int g = Math.min(pl.group, pl.n - n0), ld = g * pl.cols;
            unfold(pl, x, n0, g, ld);
            // dW (K, CRS) (+)= dy_grid (K, g*cols) col^T (g*cols, CRS)
            Blas.sgemm(false, true, pl.k, pl.crs, ld, 1f, dyGrid(pl, dy, n0, g), dyGridOffset(pl, dy, n0, g), ld,
                    col.pointer(), 0, ld, n0 == 0 ? 0f : 1f, dwp, dwOff, pl.crs);
        }
    }

    /**
     * dy images [n0, n0 + g) as a (K, g*cols) grid: dy itself when it already is one, otherwise spread into the
     * gathered workspace (which {@link #dyGridOffset} then addresses from 0).
     */
    private FloatPointer dyGrid(Plan pl, Tensor dy, int n0, int g) {
        if (pl.isOwnGrid(g)) return CpuStorage.pointer(dy);
        pl.grid(g).spread(dy, n0, g, gathered.buffer());
        return gathered.pointer();
    }

    private static long dyGridOffset(Plan pl, Tensor dy, int n0, int g) {
        return pl.isOwnGrid(g) ? dy.offset() + (long) n0 * pl.yImage : 0;
    }

    /** im2col of images [n0, n0 + g) side by side into the col workspace (rows of length ld). */
    private void unfold(Plan pl, Tensor x, int n0, int g, int ld) {
        FloatBuffer xb = CpuStorage.floats(x);
        int xStart = CpuStorage.offset(x);
        for (int i = 0; i < g; i++) {
            Im2Col.im2col(pl.geometry, xb, xStart + Math.toIntExact((long) (n0 + i) * pl.xImage),
                    col.buffer(), 0, ld, i * pl.cols);
        }
    }

    /** Sizes of one call, and how many images share a GEMM. */
    private final class Plan {
        final int n, k, crs, p, q;
        /** Columns per image in the column matrix and output grid: P*Q for 1x1 stride 1, else P*phaseW. */
        final int cols;
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
            p = y.dim(2);
            q = y.dim(3);
            geometry = new Im2Col.Geometry(c, h, wd, r, s, spec.strideH(), spec.strideW(), spec.padH(), spec.padW(),
                    p, q);
            crs = c * r * s;
            cols = geometry.cols();
            xImage = (long) c * h * wd;
            yImage = (long) k * p * q;
            direct = geometry.isPointwise();
            int alone = r * s == 1 ? MIN_COLUMNS_ALONE_1X1 : MIN_COLUMNS_ALONE;
            group = cols >= alone || cols == 0 ? 1 : Math.max(1, Math.min(n, TARGET_COLUMNS / cols));
        }

        /** Whether y (or dy) images [n0, n0 + g) already form the GEMM's output grid: no garbage, one image. */
        boolean isOwnGrid(int g) {
            return g == 1 && cols == p * q;
        }

        OutputGrid grid(int g) {
            return new OutputGrid(k, g * cols, cols, geometry.phaseW(), p, q);
        }

        void ensureWorkspaces() {
            col.ensure((long) crs * group * cols);
            if (!isOwnGrid(group)) gathered.ensure((long) k * group * cols);
        }
    }
}

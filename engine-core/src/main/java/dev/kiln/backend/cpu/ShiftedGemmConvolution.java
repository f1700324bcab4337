package dev.kiln.backend.cpu;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.Tensor;
import org.bytedeco.javacpp.FloatPointer;

import java.nio.FloatBuffer;

/**
 * Stride-1 convolution, forward and backward-data, as one GEMM per kernel tap over shifted views of a zero-padded
 * input, with no im2col.
 *
 * <p>Copy image (C, H, W) once into a zero-padded plane of Hp x Wp and read it as a flat row per channel. For tap
 * (r, s) the input pixel under output (p, q) sits at flat position {@code (p + r) * Wp + (q + s)}: the same view of
 * the row, shifted by {@code r * Wp + s}. So if the output is computed on a grid as wide as the padded input, with
 * output (p, q) at {@code p * Wp + q}, then
 * <pre>
 *     out (K, P*Wp) = sum over taps (r, s) of  W_rs (K, C) * padded (C, P*Wp, shifted by r*Wp + s)
 * </pre>
 * R*S GEMMs with inner dimension C, each reading the padded copy in place. The grid's last Wp - Q columns of every
 * row are garbage (their taps wrap into the next row) and are dropped when the grid is cropped into the output. A
 * GEMM's output column depends on its input column only, so garbage never leaks into valid outputs.
 *
 * <p>im2col writes a matrix R*S times the input; this writes the input once, padded, and crops the output once. It
 * pays (Hp*Wp)/(P*Q) - 1 extra flops for the garbage columns: 7% at 56x56 with a 3x3 kernel, 65% at 7x7, which is
 * why {@link #suits} limits it to larger images. Several small images share one GEMM by stacking their padded
 * planes along the row (the shifted taps of one image never reach the next image's valid outputs).
 *
 * <p>Backward-data is the same correlation of dy, padded by R-1-pad, with the taps flipped and transposed
 * ({@code dx = sum W_(R-1-r, S-1-s)^T dy_shifted}). Backward-filter stays with im2col ({@link CpuConvolution}):
 * here it would be R*S GEMMs with a tiny (K, C) output each, which measured no faster and slowed down most when
 * the machine was busy. Not thread-safe: {@link CpuConvolution} serializes calls.
 */
final class ShiftedGemmConvolution {
    /** Aim for at least this many grid columns per GEMM by stacking images (8k-64k measured no faster). */
    private static final int TARGET_COLUMNS = 2048;
    /** Largest accepted share of garbage columns: padded plane / output plane. */
    private static final double MAX_GRID_OVERHEAD = 1.2;

    private final Workspace padded = new Workspace();
    private final Workspace grid = new Workspace();
    private final Workspace taps = new Workspace();

    /** Whether this formulation pays here: it {@link #applies}, and the garbage columns cost little. */
    static boolean suits(int h, int w, int r, int s, Conv2dSpec spec) {
        if (!applies(h, w, r, s, spec)) return false;
        double gridCells = (double) (h + 2 * spec.padH()) * (w + 2 * spec.padW());
        return gridCells / ((double) spec.outH(h, r) * spec.outW(w, s)) <= MAX_GRID_OVERHEAD;
    }

    /**
     * Whether this formulation computes this convolution: stride 1, a kernel larger than 1x1 (a 1x1 needs no
     * im2col anyway), padding below the kernel size (so backward-data's padding R-1-pad is not negative).
     */
    static boolean applies(int h, int w, int r, int s, Conv2dSpec spec) {
        if (spec.strideH() != 1 || spec.strideW() != 1 || r * s == 1) return false;
        if (spec.padH() > r - 1 || spec.padW() > s - 1) return false;
        return spec.outH(h, r) > 0 && spec.outW(w, s) > 0;
    }

    long workspaceBytes() {
        return padded.bytes() + grid.bytes() + taps.bytes();
    }

    void releaseWorkspaces() {
        padded.release();
        grid.release();
        taps.release();
    }

    /** x (N, C, H, W), w (K, C, R, S), y (N, K, P, Q); bias is the caller's; epilogue nullable. */
    void forward(Tensor x, Tensor w, Tensor y, Conv2dSpec spec, ChannelEpilogue epilogue) {
        packTaps(w, false);
        correlate(x, w.dim(0), w.dim(2), w.dim(3), spec.padH(), spec.padW(), y, epilogue);
    }

    /** dy (N, K, P, Q), w (K, C, R, S), dx (N, C, H, W), overwritten. */
    void backwardData(Tensor dy, Tensor w, Tensor dx, Conv2dSpec spec) {
        int r = w.dim(2), s = w.dim(3);
        packTaps(w, true);
        correlate(dy, w.dim(1), r, s, r - 1 - spec.padH(), s - 1 - spec.padW(), dx, null);
    }

    /**
     * out (N, kOut, P, Q) = correlation of in (N, cIn, H, W), zero-padded by (padH, padW), with the (R*S, kOut, cIn)
     * tap matrices in the taps workspace, each output plane passed through {@code epilogue} (nullable).
     */
    private void correlate(Tensor in, int kOut, int r, int s, int padH, int padW, Tensor out,
                           ChannelEpilogue epilogue) {
        int n = in.dim(0), cIn = in.dim(1);
        Grid g = new Grid(n, cIn, in.dim(2), in.dim(3), r, s, padH, padW);
        padded.ensure(g.paddedFloats());
        grid.ensure((long) kOut * g.maxCols());
        FloatPointer tapPointer = taps.pointer();
        for (int n0 = 0; n0 < n; n0 += g.group) {
            int images = Math.min(g.group, n - n0), cols = g.cols(images);
            pad(g, in, n0, images);
            for (int t = 0; t < r * s; t++) {
                // grid (kOut, cols) (+)= W_t (kOut, cIn) padded_t (cIn, cols)
                Blas.sgemm(false, false, kOut, cols, cIn, 1f, tapPointer, (long) t * kOut * cIn, cIn,
                        padded.pointer(), g.tapOffset(t), g.ld(), t == 0 ? 0f : 1f, grid.pointer(), 0, cols);
            }
            g.output(kOut, cols).crop(grid.buffer(), images, out, n0, epilogue);
        }
    }

    /**
     * Rearranges w (K, C, R, S) into the taps workspace: (R*S, K, C), or for backward-data the flipped transposes
     * (R*S, C, K) with tap t holding W at tap R*S-1-t.
     */
    private void packTaps(Tensor w, boolean flipTranspose) {
        int k = w.dim(0), c = w.dim(1), rs = w.dim(2) * w.dim(3);
        taps.ensure((long) rs * k * c);
        FloatBuffer src = CpuStorage.floats(w), dst = taps.buffer();
        int srcOff = CpuStorage.offset(w);
        ParallelLoops.forRange(k, (long) c * rs, (k0, k1) -> {
            float[] filter = new float[c * rs];
            for (int ko = k0; ko < k1; ko++) {
                src.get(srcOff + ko * c * rs, filter, 0, c * rs);
                for (int ci = 0; ci < c; ci++) {
                    for (int t = 0; t < rs; t++) {
                        float v = filter[ci * rs + t];
                        if (flipTranspose) dst.put(((rs - 1 - t) * c + ci) * k + ko, v);
                        else dst.put((t * k + ko) * c + ci, v);
                    }
                }
            }
        });
    }

    /** Copies images [n0, n0 + images) of in (N, C, H, W) into their zero-padded planes, channel by channel. */
    private void pad(Grid g, Tensor in, int n0, int images) {
        FloatBuffer src = CpuStorage.floats(in), dst = padded.buffer();
        int srcOff = CpuStorage.offset(in), plane = g.h * g.w;
        ParallelLoops.forRange(g.channels, (long) images * g.plane(), (c0, c1) -> {
            float[] image = new float[plane];
            float[] framed = new float[g.plane()]; // the border stays zero: only the interior is written
            for (int c = c0; c < c1; c++) {
                for (int i = 0; i < images; i++) {
                    src.get(srcOff + Math.toIntExact(((long) (n0 + i) * g.channels + c) * plane), image, 0, plane);
                    for (int y = 0; y < g.h; y++) {
                        System.arraycopy(image, y * g.w, framed, (y + g.padH) * g.wp + g.padW, g.w);
                    }
                    dst.put(Math.toIntExact((long) c * g.ld() + (long) i * g.plane()), framed, 0, g.plane());
                }
            }
        });
    }

    /**
     * Geometry of the padded planes and the output grid for N images of (C, H, W), an R x S kernel and padding
     * (padH, padW): planes of Hp x Wp, stacked {@code group} to a row, and grids of {@code cols(images)} columns.
     */
    private static final class Grid {
        final int channels, h, w, r, s, padH, padW, hp, wp, group;

        Grid(int n, int channels, int h, int w, int r, int s, int padH, int padW) {
            this.channels = channels;
            this.h = h;
            this.w = w;
            this.r = r;
            this.s = s;
            this.padH = padH;
            this.padW = padW;
            hp = h + 2 * padH;
            wp = w + 2 * padW;
            int single = outH() * wp;
            group = Math.max(1, Math.min(n, TARGET_COLUMNS / Math.max(1, single)));
        }

        int outH() {
            return hp - r + 1;
        }

        int outW() {
            return wp - s + 1;
        }

        int plane() {
            return hp * wp;
        }

        /** Row length of the padded matrix: one padded plane per image of the group. */
        int ld() {
            return group * plane();
        }

        /** Grid columns for a group of {@code images}: whole planes, except the last image's trailing rows. */
        int cols(int images) {
            return (images - 1) * plane() + outH() * wp;
        }

        int maxCols() {
            return cols(group);
        }

        /** The output grid of {@code channels} rows and {@code cols} columns, one padded plane per image. */
        OutputGrid output(int channels, int cols) {
            return new OutputGrid(channels, cols, plane(), wp, outH(), outW());
        }

        long tapOffset(int t) {
            return (long) (t / s) * wp + t % s;
        }

        /** The shifted views of the last channel read up to S-1 floats past its row. */
        long paddedFloats() {
            return (long) channels * ld() + s;
        }
    }
}

package dev.kiln.backend.cpu;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Unfolds one image into the column matrix of a convolution, and folds column gradients back (col2im), with
 * every row of the matrix written by one long copy.
 *
 * <p>The textbook column matrix has one column per output pixel (P*Q of them), and building a row of it copies Q
 * elements per output row, or gathers them one by one at stride 2: short copies that ran at 4-6 GB/s here and took
 * about half of a strided convolution's time. This one gives every output row a few extra columns instead:
 * <ul>
 *   <li>Zero-pad the plane and split it into stride phases: phase (a, b) holds the padded pixels whose row is
 *       a mod strideH and column b mod strideW, as a plane of {@link Geometry#phaseH()} x
 *       {@link Geometry#phaseW()} (at stride 1 there is one phase, the padded plane itself).</li>
 *   <li>Kernel tap (r, s) reads, for output (p, q), phase (r mod sh, s mod sw) at row p + r/sh, column
 *       q + s/sw. Laid out with rows of phaseW, that is one contiguous run of P*phaseW elements starting at
 *       (r/sh)*phaseW + s/sw.</li>
 * </ul>
 * So each row of the matrix has P*phaseW columns ({@link Geometry#cols()}): output (p, q) is column p*phaseW + q,
 * and the last phaseW - Q columns of every output row are garbage, which the GEMM computes and the caller drops
 * (or fills with zeros in dy, for the backward passes, so they contribute nothing). phaseW - Q is (S-1)/sw: one
 * column in 29 for a 3x3 stride-2 kernel at 56x56, three in 115 for the 7x7 stem.
 *
 * <p>Layout: the image is (C, H, W) at {@code xOff}; the column matrix has C*R*S rows, row (c*R + r)*S + s, whose
 * {@link Geometry#cols()} columns start at column {@code colCol} of a matrix with rows {@code ld} floats long
 * (several images share one matrix side by side). Both loops run in parallel over channels: channel c owns rows
 * [c*R*S, (c+1)*R*S) of the matrix and plane c of the image.
 */
final class Im2Col {
    /** Geometry of one convolution: input (C, H, W), kernel (R, S), stride, padding, output (P, Q). */
    record Geometry(int c, int h, int w, int r, int s, int strideH, int strideW, int padH, int padW, int p, int q) {
        /** Rows of each stride phase: every row some tap reads. */
        int phaseH() {
            return p + (r - 1) / strideH;
        }

        /** Columns of each stride phase, which is also the row width of the output grid. */
        int phaseW() {
            return q + (s - 1) / strideW;
        }

        /** Columns per image in the column matrix: P rows of phaseW, the last phaseW - Q of each garbage. */
        int cols() {
            return p * phaseW();
        }

        /** Floats of all phases of one plane, plus the slack that the last tap's run reads past its phase. */
        int phasesSize() {
            return strideH * strideW * phaseH() * phaseW() + (s - 1) / strideW;
        }

        /** 1x1, stride 1, no padding: the column matrix is the image itself. */
        boolean isPointwise() {
            return r == 1 && s == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0;
        }

        /** Whether some tap reads phase (a, b): not when the kernel is smaller than the stride (1x1 stride 2). */
        boolean phaseUsed(int a, int b) {
            return a < r && b < s;
        }

        /** Where tap (r, s)'s run starts within the phases of a plane. */
        int tapStart(int tr, int ts) {
            int phase = (tr % strideH) * strideW + ts % strideW;
            return phase * phaseH() * phaseW() + (tr / strideH) * phaseW() + ts / strideW;
        }
    }

    private Im2Col() {
    }

    /** col[(c,r,s), colCol + p*phaseW + q] = x[c, p*sh - ph + r, q*sw - pw + s], or 0 in the padding. */
    static void im2col(Geometry g, FloatBuffer x, int xOff, FloatBuffer col, long colOff, int ld, int colCol) {
        int planeSize = g.h() * g.w(), cols = g.cols();
        if (g.isPointwise()) {
            // A 1x1, stride-1, unpadded kernel: row c is plane c, one copy each.
            ParallelLoops.forRange(g.c(), cols, (c0, c1) -> {
                for (int c = c0; c < c1; c++) {
                    col.put(Math.toIntExact(colOff + (long) c * ld + colCol), x, xOff + c * planeSize, planeSize);
                }
            });
            return;
        }
        ParallelLoops.forRange(g.c(), (long) g.r() * g.s() * cols, (c0, c1) -> {
            float[] plane = new float[planeSize];
            float[] phases = new float[g.phasesSize()];
            for (int c = c0; c < c1; c++) {
                x.get(xOff + c * planeSize, plane, 0, planeSize);
                splitPhases(g, plane, phases);
                for (int r = 0; r < g.r(); r++) {
                    for (int s = 0; s < g.s(); s++) {
                        long rowStart = colOff + (long) ((c * g.r() + r) * g.s() + s) * ld + colCol;
                        col.put(Math.toIntExact(rowStart), phases, g.tapStart(r, s), cols);
                    }
                }
            }
        });
    }

    /**
     * dx[c, ih, iw] = sum of the column entries that im2col copied from there; overwrites the image. Garbage
     * columns must hold zeros (they do when dy's garbage columns are zero). Sums gather in the phases, in heap
     * arrays, and are written back once per channel.
     */
    static void col2im(Geometry g, FloatBuffer col, long colOff, int ld, int colCol, FloatBuffer dx, int dxOff) {
        int planeSize = g.h() * g.w(), cols = g.cols();
        if (g.isPointwise()) {
            // Each image pixel received exactly one column entry: a plain copy per channel.
            ParallelLoops.forRange(g.c(), cols, (c0, c1) -> {
                for (int c = c0; c < c1; c++) {
                    dx.put(dxOff + c * planeSize, col, Math.toIntExact(colOff + (long) c * ld + colCol), planeSize);
                }
            });
            return;
        }
        ParallelLoops.forRange(g.c(), (long) g.r() * g.s() * cols, (c0, c1) -> {
            float[] plane = new float[planeSize];
            float[] phases = new float[g.phasesSize()];
            // Each row is read to the position it adds to, so the sum indexes both arrays alike, which C2
            // vectorizes (with different offsets it cannot rule out overlap and stays scalar).
            float[] row = new float[g.phasesSize()];
            for (int c = c0; c < c1; c++) {
                Arrays.fill(phases, 0f);
                for (int r = 0; r < g.r(); r++) {
                    for (int s = 0; s < g.s(); s++) {
                        long rowStart = colOff + (long) ((c * g.r() + r) * g.s() + s) * ld + colCol;
                        int start = g.tapStart(r, s), end = start + cols;
                        col.get(Math.toIntExact(rowStart), row, start, cols);
                        for (int j = start; j < end; j++) phases[j] += row[j];
                    }
                }
                mergePhases(g, phases, plane);
                dx.put(dxOff + c * planeSize, plane, 0, planeSize);
            }
        });
    }

    /** phases = the used stride phases of the zero-padded plane (see {@link #movePhases}). */
    private static void splitPhases(Geometry g, float[] plane, float[] phases) {
        movePhases(g, plane, phases, true);
    }

    /** plane = the image's pixels taken back from the phase cells that hold them (see {@link #movePhases}). */
    private static void mergePhases(Geometry g, float[] phases, float[] plane) {
        movePhases(g, plane, phases, false);
    }

    /**
     * Moves pixels between a plane and the stride phases that some tap reads. Towards the phases,
     * phases[phase (a, b), i, j] = padded plane at row i*sh + a, column j*sw + b, zero outside the image; every
     * cell of a used phase is written, padding included, so the array needs no clearing between channels. Back to
     * the plane, only the image's own pixels are written: pixels that no used phase holds (rows or columns a stride
     * skips) keep the plane's zeros, since it is a fresh array and no channel writes them.
     */
    private static void movePhases(Geometry g, float[] plane, float[] phases, boolean toPhases) {
        int sh = g.strideH(), sw = g.strideW(), ph = g.phaseH(), pw = g.phaseW();
        for (int a = 0; a < sh; a++) {
            for (int b = 0; b < sw; b++) {
                if (!g.phaseUsed(a, b)) continue;
                int base = (a * sw + b) * ph * pw;
                // Phase columns j whose image column j*sw + b - padW lies in [0, W).
                int j0 = firstInside(b - g.padW(), sw), j1 = endInside(b - g.padW(), sw, g.w(), pw);
                for (int i = 0; i < ph; i++) {
                    int cell = base + i * pw, y = i * sh + a - g.padH();
                    boolean inside = y >= 0 && y < g.h() && j0 < j1;
                    if (toPhases) {
                        Arrays.fill(phases, cell, cell + (inside ? j0 : pw), 0f);
                        if (inside) Arrays.fill(phases, cell + j1, cell + pw, 0f);
                    }
                    if (!inside) continue;
                    int pixel = y * g.w() + b - g.padW();
                    if (sw == 1 && toPhases) {
                        System.arraycopy(plane, pixel + j0, phases, cell + j0, j1 - j0);
                    } else if (sw == 1) {
                        System.arraycopy(phases, cell + j0, plane, pixel + j0, j1 - j0);
                    } else if (toPhases) {
                        for (int j = j0; j < j1; j++) phases[cell + j] = plane[pixel + j * sw];
                    } else {
                        for (int j = j0; j < j1; j++) plane[pixel + j * sw] = phases[cell + j];
                    }
                }
            }
        }
    }

    /** The first j >= 0 with j*stride + offset >= 0. */
    private static int firstInside(int offset, int stride) {
        return offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    }

    /** One past the last j < limit with j*stride + offset < size (at least the first, so ranges stay ordered). */
    private static int endInside(int offset, int stride, int size, int limit) {
        int bound = size - offset; // j*stride < bound
        int end = bound <= 0 ? 0 : (bound - 1) / stride + 1;
        return Math.max(firstInside(offset, stride), Math.min(limit, end));
    }
}

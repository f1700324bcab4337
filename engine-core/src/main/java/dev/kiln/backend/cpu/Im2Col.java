package dev.kiln.backend.cpu;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Unfolds one image into the column matrix of a convolution, and folds column gradients back (col2im).
 *
 * <p>Layout: the image is (C, H, W) at {@code xOff}; the column matrix has C*R*S rows, row (c*R + r)*S + s, and
 * P*Q columns starting at column {@code colCol} of a matrix whose rows are {@code ld} floats long (ld is a multiple
 * of P*Q when several images share one matrix). Both loops run in parallel over channels: channel c owns rows
 * [c*R*S, (c+1)*R*S) of the matrix and plane c of the image, so chunks never write the same memory.
 */
final class Im2Col {
    /** Geometry of one convolution: input (C, H, W), kernel (R, S), stride, padding, output (P, Q). */
    record Geometry(int c, int h, int w, int r, int s, int strideH, int strideW, int padH, int padW, int p, int q) {
        int rows() {
            return c * r * s;
        }

        int cols() {
            return p * q;
        }

        /** 1x1, stride 1, no padding: the column matrix is the image itself. */
        boolean isPointwise() {
            return r == 1 && s == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0;
        }
    }

    private Im2Col() {
    }

    /**
     * col[(c,r,s), colCol + p*Q + q] = x[c, p*sh - ph + r, q*sw - pw + s], or 0 in the padding. Each channel's
     * plane is read into a heap array and each row is built there (array loops and arraycopy, which C2 compiles
     * well, instead of one direct-buffer access per element), then written with one bulk put.
     */
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
            float[] row = new float[cols];
            for (int c = c0; c < c1; c++) {
                x.get(xOff + c * planeSize, plane, 0, planeSize);
                for (int r = 0; r < g.r(); r++) {
                    for (int s = 0; s < g.s(); s++) {
                        unfoldRow(g, plane, r, s, row);
                        long rowStart = colOff + (long) ((c * g.r() + r) * g.s() + s) * ld + colCol;
                        col.put(Math.toIntExact(rowStart), row, 0, cols);
                    }
                }
            }
        });
    }

    private static void unfoldRow(Geometry g, float[] plane, int r, int s, float[] row) {
        int q = g.q(), sw = g.strideW();
        int q0 = Math.min(q, firstValid(s, g.padW(), sw));
        int q1 = Math.max(q0, endValid(s, g.padW(), sw, g.w(), q));
        for (int p = 0, dst = 0; p < g.p(); p++, dst += q) {
            int ih = p * g.strideH() - g.padH() + r;
            if (ih < 0 || ih >= g.h()) {
                Arrays.fill(row, dst, dst + q, 0f);
                continue;
            }
            int src = ih * g.w() - g.padW() + s;
            Arrays.fill(row, dst, dst + q0, 0f);
            if (sw == 1) {
                System.arraycopy(plane, src + q0, row, dst + q0, q1 - q0);
            } else {
                for (int j = q0; j < q1; j++) row[dst + j] = plane[src + j * sw];
            }
            Arrays.fill(row, dst + q1, dst + q, 0f);
        }
    }

    /**
     * dx[c, ih, iw] = sum of the column entries that im2col copied from there; overwrites the image. Each channel
     * is accumulated in a heap array (C2 vectorizes array loops, not direct-buffer ones) and written back once.
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
            float[] row = new float[cols];
            for (int c = c0; c < c1; c++) {
                Arrays.fill(plane, 0f);
                for (int r = 0; r < g.r(); r++) {
                    for (int s = 0; s < g.s(); s++) {
                        long rowStart = colOff + (long) ((c * g.r() + r) * g.s() + s) * ld + colCol;
                        col.get(Math.toIntExact(rowStart), row, 0, cols);
                        foldRow(g, row, r, s, plane);
                    }
                }
                dx.put(dxOff + c * planeSize, plane, 0, planeSize);
            }
        });
    }

    private static void foldRow(Geometry g, float[] row, int r, int s, float[] plane) {
        int q0 = firstValid(s, g.padW(), g.strideW());
        int q1 = endValid(s, g.padW(), g.strideW(), g.w(), g.q());
        int sw = g.strideW(), q = g.q();
        for (int p = 0; p < g.p(); p++) {
            int ih = p * g.strideH() - g.padH() + r;
            if (ih < 0 || ih >= g.h()) continue;
            int dst = ih * g.w() - g.padW() + s, src = p * q;
            if (sw == 1) {
                for (int j = q0; j < q1; j++) plane[dst + j] += row[src + j];
            } else {
                for (int j = q0; j < q1; j++) plane[dst + j * sw] += row[src + j];
            }
        }
    }

    /** The first output column q whose input column q*stride - pad + s is >= 0. */
    private static int firstValid(int s, int pad, int stride) {
        int need = pad - s; // q * stride >= need
        return need <= 0 ? 0 : (need + stride - 1) / stride;
    }

    /** One past the last output column q (< outW) whose input column is < w. */
    private static int endValid(int s, int pad, int stride, int w, int outW) {
        int limit = w + pad - s; // q * stride < limit
        if (limit <= 0) return 0;
        return Math.min(outW, (limit - 1) / stride + 1);
    }
}

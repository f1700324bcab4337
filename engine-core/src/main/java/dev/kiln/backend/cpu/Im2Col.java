package dev.kiln.backend.cpu;

import java.nio.FloatBuffer;

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
    }

    private Im2Col() {
    }

    /** col[(c,r,s), colCol + p*Q + q] = x[c, p*sh - ph + r, q*sw - pw + s], or 0 in the padding. */
    static void im2col(Geometry g, FloatBuffer x, int xOff, FloatBuffer col, long colOff, int ld, int colCol) {
        ParallelLoops.forRange(g.c(), (long) g.r() * g.s() * g.cols(), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int plane = xOff + c * g.h() * g.w();
                for (int r = 0; r < g.r(); r++) {
                    for (int s = 0; s < g.s(); s++) {
                        long rowStart = colOff + (long) ((c * g.r() + r) * g.s() + s) * ld + colCol;
                        unfoldRow(g, x, plane, r, s, col, Math.toIntExact(rowStart));
                    }
                }
            }
        });
    }

    private static void unfoldRow(Geometry g, FloatBuffer x, int plane, int r, int s, FloatBuffer col, int dst) {
        int q0 = Math.min(g.q(), firstValid(s, g.padW(), g.strideW()));
        int q1 = Math.max(q0, endValid(s, g.padW(), g.strideW(), g.w(), g.q()));
        for (int p = 0; p < g.p(); p++, dst += g.q()) {
            int ih = p * g.strideH() - g.padH() + r;
            if (ih < 0 || ih >= g.h()) {
                zero(col, dst, g.q());
                continue;
            }
            int src = plane + ih * g.w() - g.padW() + s;
            zero(col, dst, q0);
            if (g.strideW() == 1) {
                col.put(dst + q0, x, src + q0, q1 - q0);
            } else {
                int sw = g.strideW();
                for (int q = q0; q < q1; q++) col.put(dst + q, x.get(src + q * sw));
            }
            zero(col, dst + q1, g.q() - q1);
        }
    }

    /**
     * dx[c, ih, iw] = sum of the column entries that im2col copied from there; overwrites the image. Each channel
     * is accumulated in a heap array (C2 vectorizes array loops, not direct-buffer ones) and written back once.
     */
    static void col2im(Geometry g, FloatBuffer col, long colOff, int ld, int colCol, FloatBuffer dx, int dxOff) {
        int planeSize = g.h() * g.w(), cols = g.cols();
        ParallelLoops.forRange(g.c(), (long) g.r() * g.s() * cols, (c0, c1) -> {
            float[] plane = new float[planeSize];
            float[] row = new float[cols];
            for (int c = c0; c < c1; c++) {
                java.util.Arrays.fill(plane, 0f);
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

    static void zero(FloatBuffer b, int from, int length) {
        for (int i = from, end = from + length; i < end; i++) b.put(i, 0f);
    }
}

package dev.kiln.backend.cpu;

import java.util.Arrays;

/**
 * Pairs of sums over a channel held as one row per image (batch norm's statistics), written so that C2
 * vectorizes them.
 *
 * <p>Java may not reorder floating-point additions, so C2 never vectorizes {@code sum += x[j]}: it stays a chain
 * of dependent scalar adds. Adding each row into a row of lane sums, {@code lane[j] += row[j]}, is an
 * element-wise loop, and C2 vectorizes it because both sides use the same index (with a shifted index, as in
 * {@code lane[j] += x[base + j]}, it cannot rule out that the two arrays overlap, and measured 8× slower). So the
 * cost is one vectorized pass plus a scalar sum over the lanes, 1/N of the elements. Float lanes take at most
 * {@link #FLUSH_ROWS} rows before they are added into double lanes, which keeps the rounding that of a 16-term
 * float sum (about 1e-7 relative); the final sum runs in double.
 */
final class LaneSums {
    private static final int FLUSH_ROWS = 16;

    private static final ThreadLocal<Lanes> LANES_OF_THREAD = ThreadLocal.withInitial(Lanes::new);

    /** Per-thread lane rows, grown to the longest row seen. */
    private static final class Lanes {
        float[] a = new float[0], b = new float[0];
        double[] da = new double[0], db = new double[0];

        void clear(int length) {
            if (a.length < length) {
                a = new float[length];
                b = new float[length];
                da = new double[length];
                db = new double[length];
            }
            Arrays.fill(a, 0, length, 0f);
            Arrays.fill(b, 0, length, 0f);
            Arrays.fill(da, 0, length, 0);
            Arrays.fill(db, 0, length, 0);
        }

        void flush(int length) {
            for (int j = 0; j < length; j++) {
                da[j] += a[j];
                db[j] += b[j];
            }
            Arrays.fill(a, 0, length, 0f);
            Arrays.fill(b, 0, length, 0f);
        }

        double[] total(int length) {
            flush(length);
            double sa = 0, sb = 0;
            for (int j = 0; j < length; j++) {
                sa += da[j];
                sb += db[j];
            }
            return new double[]{sa, sb};
        }
    }

    private LaneSums() {
    }

    /** {sum of (x - shift), sum of (x - shift)^2} over rows[0, n), elements [0, length) of each. */
    static double[] shifted(float[][] rows, int n, int length, float shift) {
        Lanes l = LANES_OF_THREAD.get();
        l.clear(length);
        float[] a = l.a, b = l.b;
        for (int i = 0; i < n; i++) {
            float[] x = rows[i];
            for (int j = 0; j < length; j++) {
                float d = x[j] - shift;
                a[j] += d;
                b[j] += d * d;
            }
            if ((i + 1) % FLUSH_ROWS == 0) l.flush(length);
        }
        return l.total(length);
    }

    /** {sum of dy, sum of dy * (x - mu)} over rows[0, n), elements [0, length) of each. */
    static double[] gradient(float[][] dyRows, float[][] xRows, int n, int length, float mu) {
        Lanes l = LANES_OF_THREAD.get();
        l.clear(length);
        float[] a = l.a, b = l.b;
        for (int i = 0; i < n; i++) {
            float[] dy = dyRows[i], x = xRows[i];
            for (int j = 0; j < length; j++) {
                float g = dy[j];
                a[j] += g;
                b[j] += g * (x[j] - mu);
            }
            if ((i + 1) % FLUSH_ROWS == 0) l.flush(length);
        }
        return l.total(length);
    }
}

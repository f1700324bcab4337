package dev.kiln.io;

/**
 * Closeness of float arrays relative to the largest expected magnitude, the measure the oracle README uses:
 * {@code max|expected − actual| / max|expected|}. Failures say where and by how much.
 */
public final class Closeness {
    private Closeness() {
    }

    public static double relativeError(float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            throw new AssertionError("expected " + expected.length + " values, got " + actual.length);
        }
        double scale = 0, worst = 0;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            if (Double.isNaN(d)) return Double.NaN;
            worst = Math.max(worst, d);
        }
        return worst / (scale == 0 ? 1 : scale);
    }

    /** Asserts a relative error within {@code tolerance}; returns it for reporting. */
    public static double assertClose(String what, float[] expected, float[] actual, double tolerance) {
        double err = relativeError(expected, actual);
        if (!(err <= tolerance)) {
            int worst = 0;
            for (int i = 0; i < expected.length; i++) {
                if (Math.abs(expected[i] - actual[i]) > Math.abs(expected[worst] - actual[worst])) worst = i;
            }
            throw new AssertionError(String.format("%s: relative error %.3g > %.1g (worst at flat index %d: expected %.8g, got %.8g)",
                    what, err, tolerance, worst, expected[worst], actual[worst]));
        }
        return err;
    }

    /** Index of the largest value of row {@code row} of a (rows, cols) array. */
    public static int argmax(float[] values, int row, int cols) {
        int best = 0;
        for (int j = 1; j < cols; j++) if (values[row * cols + j] > values[row * cols + best]) best = j;
        return best;
    }
}

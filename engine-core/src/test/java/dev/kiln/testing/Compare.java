package dev.kiln.testing;

import dev.kiln.tensor.Tensor;

import java.util.Arrays;

/**
 * Closeness assertions that explain a failure: the largest difference, the first index over tolerance, and both
 * values there. Tolerances are relative to the largest magnitude of the expected values, so one number fits
 * tensors of any scale; each test states the one it uses.
 */
public final class Compare {
    private Compare() {
    }

    /** The largest |expected - actual| divided by max(|expected|) (or 1 when all expected values are 0). */
    public static double relativeError(float[] expected, float[] actual) {
        double scale = 0;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        if (scale == 0) scale = 1;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        return worst / scale;
    }

    /** Asserts {@code max|expected - actual| <= tolerance * max|expected|}; returns the relative error. */
    public static double assertClose(String what, float[] expected, float[] actual, double tolerance) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        double scale = 0;
        for (float e : expected) scale = Math.max(scale, Math.abs(e));
        if (scale == 0) scale = 1;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            if (!(diff <= tolerance * scale)) { // also catches NaN
                throw new AssertionError(String.format(
                        "%s: first mismatch at flat index %d: expected %.8g, got %.8g; max relative error %.3g > %.1g",
                        what, i, expected[i], actual[i], relativeError(expected, actual), tolerance));
            }
        }
        return relativeError(expected, actual);
    }

    public static double assertClose(String what, float[] expected, Tensor actual, double tolerance) {
        return assertClose(what, expected, actual.toFloatArray(), tolerance);
    }

    /** Asserts bit-identical values. */
    public static void assertIdentical(String what, float[] expected, float[] actual) {
        for (int i = 0; i < Math.min(expected.length, actual.length); i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(String.format("%s: not bit-identical at flat index %d: %.9g vs %.9g", what, i,
                        expected[i], actual[i]));
            }
        }
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": lengths differ, " + expected.length + " vs " + actual.length);
        }
    }

    public static String shape(int[] dims) {
        return Arrays.toString(dims);
    }
}

package dev.kiln.backend.cpu;

import dev.kiln.backend.Backend;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/** Helpers for the CPU backend tests: random data, tensors that start at a non-zero storage offset, comparisons. */
final class TestTensors {
    private TestTensors() {
    }

    static float[] random(Random rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rng.nextGaussian();
        return a;
    }

    /**
     * A contiguous tensor of shape {@code dims} holding {@code data}, placed 7 elements into a larger storage so
     * that kernels which ignore {@link Tensor#offset()} fail.
     */
    static Tensor at(Backend b, float[] data, int... dims) {
        int pad = 7;
        Tensor flat = Tensor.empty(b, DType.F32, Shape.of(data.length + pad));
        b.fill(flat, Float.NaN); // anything read from the padding poisons the result
        Tensor view = flat.narrow(0, pad, data.length);
        flat.close();
        Tensor shaped = view.view(dims);
        view.close();
        b.write(shaped, data);
        return shaped;
    }

    /** An output tensor at an offset, pre-filled with NaN so kernels must overwrite every element. */
    static Tensor out(Backend b, int... dims) {
        float[] nan = new float[(int) Shape.of(dims).numel()];
        java.util.Arrays.fill(nan, Float.NaN);
        return at(b, nan, dims);
    }

    /** Asserts max|actual - expected| <= rel * max(1e-30, max|expected|) + abs, naming the first bad index. */
    static void assertClose(String what, double[] expected, float[] actual, double rel, double abs) {
        if (expected.length != actual.length) fail(what + ": length " + actual.length + " != " + expected.length);
        double scale = 0;
        for (double e : expected) scale = Math.max(scale, Math.abs(e));
        double tol = rel * scale + abs, worst = 0;
        int first = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(actual[i] - expected[i]);
            if (!(d <= tol) && first < 0) first = i;
            if (!(d <= worst)) worst = d;
        }
        if (first >= 0) {
            fail(what + ": max |diff| " + worst + " > tolerance " + tol + " (max|ref| " + scale + "); first at index "
                    + first + ": expected " + expected[first] + ", got " + actual[first]);
        }
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}

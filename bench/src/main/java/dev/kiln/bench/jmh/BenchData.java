package dev.kiln.bench.jmh;

import dev.kiln.backend.Backend;
import dev.kiln.backend.Backends;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

import java.util.Random;

/**
 * Seeded inputs for the JMH benchmarks, and the check that the fast kernel agrees with the reference one before
 * anything is timed (llm.c's dev/cuda habit): a benchmark of a wrong kernel measures nothing.
 */
final class BenchData {
    private BenchData() {
    }

    static Backend backend(String name) {
        return Backends.get(name);
    }

    /** Standard-normal float32 values from {@code seed}. */
    static float[] normal(long seed, int n) {
        Random random = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextGaussian();
        return v;
    }

    static Tensor tensor(Backend b, float[] data, int... dims) {
        return Tensor.of(b, data, dims);
    }

    static Tensor random(Backend b, long seed, int... dims) {
        return Tensor.of(b, normal(seed, (int) Shape.of(dims).numel()), dims);
    }

    static Tensor empty(Backend b, int... dims) {
        return Tensor.empty(b, DType.F32, Shape.of(dims));
    }

    /** Same values on both backends. */
    static Tensor[] pair(Backend fast, Backend ref, long seed, int... dims) {
        float[] v = normal(seed, (int) Shape.of(dims).numel());
        return new Tensor[]{Tensor.of(fast, v, dims), Tensor.of(ref, v, dims)};
    }

    /**
     * Throws unless every element of {@code fast} is within {@code relTol} * max|reference| of {@code reference}.
     */
    static void requireClose(String what, Tensor reference, Tensor fast, double relTol) {
        double[] r = reference.toDoubleArray();
        double[] f = fast.toDoubleArray();
        double scale = 0;
        for (double v : r) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < r.length; i++) {
            if (!(Math.abs(r[i] - f[i]) <= relTol * Math.max(scale, 1e-30))) {
                throw new IllegalStateException(what + ": fast kernel disagrees with the reference at " + i + ": "
                        + f[i] + " vs " + r[i] + " (tolerance " + relTol + " of max " + scale + ")");
            }
        }
    }
}

package dev.kiln.testing;

import dev.kiln.backend.Backend;
import dev.kiln.tensor.Tensor;

import java.util.SplittableRandom;

/** Seeded random float64 leaves for gradient checks: uniform in [-1, 1), requiring gradients. */
public final class RandomTensors {
    private final Backend backend;
    private final SplittableRandom random;

    public RandomTensors(Backend backend, long seed) {
        this.backend = backend;
        this.random = new SplittableRandom(seed);
    }

    public Tensor leaf(int... dims) {
        int n = 1;
        for (int d : dims) n *= d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = random.nextDouble() * 2 - 1;
        return Tensor.of(backend, v, dims).setRequiresGrad(true);
    }

    public double nextDouble() {
        return random.nextDouble();
    }
}

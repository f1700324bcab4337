package dev.kiln.nn;

import dev.kiln.backend.Backends;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

import java.util.SplittableRandom;

/**
 * Weight initializers. Layers default to Keras's choices (Glorot-uniform kernels, zero biases, BatchNorm gamma 1
 * and beta 0, moving variance 1), since new heads are what Kiln initializes; pretrained backbones are loaded.
 * One process-wide generator makes runs reproducible after {@link #setSeed}.
 */
public final class Initializers {
    private static SplittableRandom random = new SplittableRandom(0);

    private Initializers() {
    }

    /** Reseeds the generator used by every initializer, like {@code keras.utils.set_random_seed}. */
    public static synchronized void setSeed(long seed) {
        random = new SplittableRandom(seed);
    }

    /** U(-limit, limit) with limit = sqrt(6 / (fanIn + fanOut)). */
    public static Tensor glorotUniform(Shape shape, int fanIn, int fanOut) {
        double limit = Math.sqrt(6.0 / (fanIn + fanOut));
        return uniform(shape, limit);
    }

    /** U(-limit, limit), as float32 on the default backend. */
    public static synchronized Tensor uniform(Shape shape, double limit) {
        float[] data = new float[Math.toIntExact(shape.numel())];
        for (int i = 0; i < data.length; i++) data[i] = (float) ((random.nextDouble() * 2 - 1) * limit);
        return Tensor.of(Backends.defaultBackend(), data, shape.toArray());
    }

    public static Tensor constant(Shape shape, double value) {
        Tensor t = Tensor.empty(Backends.defaultBackend(), DType.F32, shape);
        t.backend().fill(t, value);
        return t;
    }
}

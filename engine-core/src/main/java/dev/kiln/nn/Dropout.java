package dev.kiln.nn;

import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

import java.util.SplittableRandom;

/** Drops inputs with probability {@code rate} in TRAIN mode (scaling the rest by 1/(1-rate)); identity in EVAL. */
public final class Dropout extends Layer {
    private final double rate;
    private final SplittableRandom seeds;

    public Dropout(double rate) {
        this(rate, 0);
    }

    /** @param seed makes the sequence of masks reproducible */
    public Dropout(double rate, long seed) {
        if (rate < 0 || rate >= 1) throw new IllegalArgumentException("Dropout rate must be in [0, 1), got " + rate);
        this.rate = rate;
        this.seeds = new SplittableRandom(seed);
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        if (mode != Mode.TRAIN || rate == 0) return x;
        return Ops.dropout(x, rate, seeds.nextLong());
    }
}

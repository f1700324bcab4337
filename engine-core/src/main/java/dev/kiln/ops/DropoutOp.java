package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/**
 * Inverted dropout: y = x * mask with mask 0 (probability p) or 1 / (1 - p), so evaluation needs no rescaling.
 * The mask is drawn from {@code seed}, which makes a training run reproducible.
 */
public final class DropoutOp extends Node {
    private final Tensor mask;

    private DropoutOp(Tensor x, Tensor mask) {
        super(x);
        this.mask = mask;
    }

    public static Tensor apply(Tensor x, double p, long seed) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout: rate must be in [0, 1), got " + p);
        x = ContiguousOp.apply(x);
        Tensor mask = Tensor.emptyLike(x);
        x.backend().dropoutMask(mask, p, seed);
        Tensor y = Tensor.emptyLike(x);
        x.backend().mul(x, mask, y);
        return shouldRecord(x) ? new DropoutOp(x, mask).record(y) : y;
    }

    @Override
    public String name() {
        return "dropout";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = Tensor.emptyLike(dy);
        dy.backend().mul(dy, mask, dx);
        return new Tensor[]{dx};
    }
}

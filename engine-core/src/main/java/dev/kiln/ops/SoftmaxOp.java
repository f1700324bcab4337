package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/**
 * Softmax along the last dimension of (N, K). The node keeps its input, the logits, so that a cross-entropy loss
 * on the probabilities can use the fused, stable {@link SoftmaxCrossEntropyOp} instead (what Keras does for a
 * softmax output layer).
 */
public final class SoftmaxOp extends Node {
    private final Tensor logits;
    private final Tensor y;

    private SoftmaxOp(Tensor logits, Tensor y) {
        super(logits);
        this.logits = logits;
        this.y = y;
    }

    public static Tensor apply(Tensor logits) {
        ErrorContext.requireRank("softmax", "input", logits.shape(), 2, "(N, classes)");
        logits = logits.contiguous();
        Tensor y = Tensor.emptyLike(logits);
        logits.backend().softmax(logits, y);
        return shouldRecord(logits) ? new SoftmaxOp(logits, y).record(y) : y;
    }

    /** The logits this softmax was applied to. */
    public Tensor logits() {
        return logits;
    }

    @Override
    public String name() {
        return "softmax";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = Tensor.emptyLike(dy);
        dy.backend().softmaxBackward(y, dy.contiguous(), dx);
        return new Tensor[]{dx};
    }
}

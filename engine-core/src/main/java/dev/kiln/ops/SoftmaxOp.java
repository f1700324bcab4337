package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/**
 * Softmax along the last dimension of (N, K), with its gradient {@code dx = y * (dy - <dy, y>)} per row. For
 * training, compute the loss on the logits with the fused {@link SoftmaxCrossEntropyOp}: it takes logits, never
 * probabilities, and is stable where log(softmax) is not.
 */
public final class SoftmaxOp extends Node {
    private final Tensor y;

    private SoftmaxOp(Tensor logits, Tensor y) {
        super(logits);
        this.y = y;
    }

    public static Tensor apply(Tensor logits) {
        ErrorContext.requireRank("softmax", "input", logits.shape(), 2, "(N, classes)");
        logits = ContiguousOp.apply(logits);
        Tensor y = Tensor.emptyLike(logits);
        logits.backend().softmax(logits, y);
        return shouldRecord(logits) ? new SoftmaxOp(logits, y).record(y) : y;
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

package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.backend.Backend;
import dev.kiln.tensor.DType;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/**
 * Softmax followed by cross-entropy, fused and averaged over the batch:
 * {@code loss = mean_n (logsumexp(z_n) - sum_k t_nk z_nk)}. Targets are I32 class indices (N) or a float
 * distribution (N, K), such as one-hot labels. The gradient is {@code (softmax(z) - t) / N}. The input must be
 * logits: given probabilities (a softmax layer's output) it would apply softmax a second time.
 */
public final class SoftmaxCrossEntropyOp extends Node {
    private final Tensor probs;
    private final Tensor targets;

    private SoftmaxCrossEntropyOp(Tensor logits, Tensor probs, Tensor targets) {
        super(logits);
        this.probs = probs;
        this.targets = targets;
    }

    /** The mean loss, shape (1). */
    public static Tensor apply(Tensor logits, Tensor targets) {
        checkTargets(logits.shape(), targets);
        Backend backend = logits.backend();
        logits = ContiguousOp.apply(logits);
        Tensor probs = Tensor.emptyLike(logits);
        Tensor rowLoss = Tensor.empty(backend, logits.dtype(), Shape.of(logits.dim(0)));
        backend.softmaxCrossEntropyForward(logits, targets, probs, rowLoss);
        Tensor total = Tensor.empty(backend, logits.dtype(), Shape.of(1));
        backend.sum(rowLoss, total);
        Tensor loss = Tensor.empty(backend, logits.dtype(), Shape.of(1));
        backend.scale(total, 1.0 / logits.dim(0), loss);
        rowLoss.close();
        total.close();
        return shouldRecord(logits) ? new SoftmaxCrossEntropyOp(logits, probs, targets).record(loss) : loss;
    }

    private static void checkTargets(Shape logits, Tensor targets) {
        ErrorContext.requireRank("softmax_cross_entropy", "logits", logits, 2, "(N, classes)");
        boolean indices = targets.dtype() == DType.I32 && targets.shape().equals(Shape.of(logits.dim(0)));
        boolean distribution = targets.dtype() != DType.I32 && targets.shape().equals(logits);
        if (!indices && !distribution) {
            throw ErrorContext.shapeError("softmax_cross_entropy", "targets of shape " + targets.shape() + " ("
                    + targets.dtype() + ") do not fit logits " + logits
                    + "; expected I32 class indices (N) or a float distribution (N, classes)");
        }
    }

    @Override
    public String name() {
        return "softmax_cross_entropy";
    }

    @Override
    protected Tensor[] backward(Tensor dLoss) {
        double upstream = dLoss.item();
        Tensor dlogits = Tensor.emptyLike(probs);
        probs.backend().softmaxCrossEntropyBackward(probs, targets, upstream / probs.dim(0), dlogits);
        return new Tensor[]{dlogits};
    }
}

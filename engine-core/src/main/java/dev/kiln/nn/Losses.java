package dev.kiln.nn;

import dev.kiln.ops.Ops;
import dev.kiln.ops.SoftmaxOp;
import dev.kiln.tensor.Tensor;

/**
 * Losses on a model's output, with Keras's names.
 *
 * <p>The recipe's model ends in {@code Dense(N, softmax)}, so its output is probabilities. Taking their logarithm
 * would lose precision for confident predictions, so when the output was produced by a softmax, the loss is
 * computed from that softmax's logits with the fused, stable {@link Ops#softmaxCrossEntropy}: what Keras does
 * for a softmax output layer. The gradient then flows to the logits directly.
 */
public final class Losses {
    private Losses() {
    }

    /**
     * Mean categorical cross-entropy of {@code output} against I32 class indices (N) or a distribution (N, K).
     * {@code output} must be a softmax's result (probabilities, recorded by autograd) or raw logits.
     */
    public static Tensor categoricalCrossEntropy(Tensor output, Tensor targets) {
        if (output.gradFn() instanceof SoftmaxOp softmax) {
            return Ops.softmaxCrossEntropy(softmax.logits(), targets);
        }
        return Ops.softmaxCrossEntropy(output, targets);
    }
}

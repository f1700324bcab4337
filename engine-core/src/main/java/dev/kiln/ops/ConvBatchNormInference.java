package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.InferenceBatchNorm;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/**
 * A convolution and the inference-mode batch norm after it (optionally + residual and ReLU) as one forward-only
 * kernel call ({@link dev.kiln.backend.Backend#conv2dBatchNormForward}), for passes that record nothing: a frozen
 * backbone, evaluation. The CPU backend then normalizes each block of convolution output while it is still in
 * cache instead of in a pass of its own. Where a gradient is needed, run {@link Conv2dOp} and
 * {@link BatchNormInferenceOp} instead; this class refuses, rather than silently dropping the gradient.
 */
public final class ConvBatchNormInference {
    private ConvBatchNormInference() {
    }

    /** Whether this op may run: nothing among these inputs would be recorded for a backward pass. */
    public static boolean applies(Tensor x, Tensor weight, Tensor bias, InferenceBatchNorm bn, Tensor residual) {
        return !Node.shouldRecord(x, weight, bias, bn.gamma(), bn.beta(), residual);
    }

    /**
     * bn(conv2d(x, weight, bias)), or with {@code relu} relu(bn(...) + residual), residual nullable (and null
     * without {@code relu}).
     */
    public static Tensor apply(Tensor x, Tensor weight, Tensor bias, Conv2dSpec spec, InferenceBatchNorm bn,
                               Tensor residual, boolean relu) {
        if (!applies(x, weight, bias, bn, residual)) {
            throw new IllegalStateException("conv2d + batch_norm: the fused forward records no gradient, but an"
                    + " input requires one; run conv2d and batch_norm separately");
        }
        if (residual != null && !relu) {
            throw new IllegalArgumentException("conv2d + batch_norm: a residual is only added before a ReLU");
        }
        Shape out = Conv2dOp.outputShape(x.shape(), weight.shape(), bias == null ? null : bias.shape(), spec);
        BatchNormTrainingOp.checkShapes(out, bn.gamma().shape(), bn.beta().shape(), residual);
        x = ContiguousOp.apply(x);
        if (residual != null) residual = ContiguousOp.apply(residual);
        Tensor y = Tensor.empty(x.backend(), x.dtype(), out);
        x.backend().conv2dBatchNormForward(x, weight, bias, spec, bn, residual, relu, y);
        return y;
    }
}

package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/**
 * Batch normalization with fixed statistics, optionally followed by a fused ReLU: evaluation, and any frozen
 * BatchNormalization layer (Keras semantics). The statistics are constants, so the backward pass is a per-channel
 * scale of dy (gated by the ReLU's output when fused), plus gradients for gamma and beta when they are trainable
 * (PyTorch's eval mode with requires_grad).
 */
public final class BatchNormInferenceOp extends Node {
    private final Tensor x;
    private final Tensor gamma;
    private final Tensor mean;
    private final Tensor var;
    private final double eps;
    /** The output when a ReLU is fused in, else null. */
    private final Tensor reluOutput;

    private BatchNormInferenceOp(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                                 Tensor reluOutput) {
        super(x, gamma, beta);
        this.x = x;
        this.gamma = gamma;
        this.mean = mean;
        this.var = var;
        this.eps = eps;
        this.reluOutput = reluOutput;
    }

    public static Tensor apply(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps) {
        return apply(x, gamma, beta, mean, var, eps, false);
    }

    /** As {@link #apply(Tensor, Tensor, Tensor, Tensor, Tensor, double)}, then max(., 0) when {@code relu}. */
    public static Tensor apply(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps,
                               boolean relu) {
        BatchNormTrainingOp.checkShapes(x.shape(), gamma.shape(), beta.shape());
        x = x.contiguous();
        Tensor y = Tensor.emptyLike(x);
        if (relu) {
            x.backend().batchNormReluForwardInference(x, gamma, beta, mean, var, eps, y);
        } else {
            x.backend().batchNormForwardInference(x, gamma, beta, mean, var, eps, y);
        }
        if (!shouldRecord(x, gamma, beta)) return y;
        return new BatchNormInferenceOp(x, gamma, beta, mean, var, eps, relu ? y : null).record(y);
    }

    @Override
    public String name() {
        return reluOutput == null ? "batch_norm_inference" : "batch_norm_relu_inference";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = needsGrad(0) ? Tensor.emptyLike(x) : null;
        Tensor dgamma = needsGrad(1) ? Tensor.emptyLike(gamma) : null;
        Tensor dbeta = needsGrad(2) ? Tensor.emptyLike(gamma) : null;
        if (reluOutput == null) {
            dy.backend().batchNormBackwardInference(x, dy, gamma, mean, var, eps, dx, dgamma, dbeta);
        } else {
            dy.backend().batchNormReluBackwardInference(x, reluOutput, dy, gamma, mean, var, eps, dx, dgamma, dbeta);
        }
        return new Tensor[]{dx, dgamma, dbeta};
    }
}

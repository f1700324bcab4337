package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/**
 * Batch normalization with fixed statistics: evaluation, and any frozen BatchNormalization layer (Keras
 * semantics). The statistics are constants, so the backward pass is a per-channel scale of dy, plus gradients for
 * gamma and beta when they are trainable (PyTorch's eval mode with requires_grad).
 */
public final class BatchNormInferenceOp extends Node {
    private final Tensor x;
    private final Tensor gamma;
    private final Tensor mean;
    private final Tensor var;
    private final double eps;

    private BatchNormInferenceOp(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps) {
        super(x, gamma, beta);
        this.x = x;
        this.gamma = gamma;
        this.mean = mean;
        this.var = var;
        this.eps = eps;
    }

    public static Tensor apply(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps) {
        BatchNormTrainingOp.checkShapes(x.shape(), gamma.shape(), beta.shape());
        x = x.contiguous();
        Tensor y = Tensor.emptyLike(x);
        x.backend().batchNormForwardInference(x, gamma, beta, mean, var, eps, y);
        return shouldRecord(x, gamma, beta) ? new BatchNormInferenceOp(x, gamma, beta, mean, var, eps).record(y) : y;
    }

    @Override
    public String name() {
        return "batch_norm_inference";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = needsGrad(0) ? Tensor.emptyLike(x) : null;
        Tensor dgamma = needsGrad(1) ? Tensor.emptyLike(gamma) : null;
        Tensor dbeta = needsGrad(2) ? Tensor.emptyLike(gamma) : null;
        dy.backend().batchNormBackwardInference(x, dy, gamma, mean, var, eps, dx, dgamma, dbeta);
        return new Tensor[]{dx, dgamma, dbeta};
    }
}

package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/**
 * Batch normalization with fixed statistics: evaluation, and any frozen BatchNormalization layer (Keras
 * semantics). The statistics are constants, so the backward pass is a per-channel scale of dy, plus gradients for
 * gamma and beta when they are trainable (PyTorch's eval mode with requires_grad).
 *
 * <p>Fused form ({@link #applyRelu}): {@code z = relu(bn(x) + residual)}, the residual optional; see
 * {@link BatchNormTrainingOp}.
 */
public final class BatchNormInferenceOp extends Node {
    private final Tensor x;
    private final Tensor gamma;
    private final Tensor mean;
    private final Tensor var;
    private final double eps;
    /** The output z in the fused form, else null. */
    private final Tensor reluOutput;

    private BatchNormInferenceOp(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor mean, Tensor var,
                                 double eps, Tensor reluOutput) {
        super(x, gamma, beta, residual);
        this.x = x;
        this.gamma = gamma;
        this.mean = mean;
        this.var = var;
        this.eps = eps;
        this.reluOutput = reluOutput;
    }

    public static Tensor apply(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, double eps) {
        return run(x, gamma, beta, null, false, mean, var, eps);
    }

    /** relu(bn(x) + residual), {@code residual} nullable (then relu(bn(x))). */
    public static Tensor applyRelu(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor mean, Tensor var,
                                   double eps) {
        return run(x, gamma, beta, residual, true, mean, var, eps);
    }

    private static Tensor run(Tensor x, Tensor gamma, Tensor beta, Tensor residual, boolean relu, Tensor mean,
                              Tensor var, double eps) {
        BatchNormTrainingOp.checkShapes(x.shape(), gamma.shape(), beta.shape(), residual);
        x = ContiguousOp.apply(x);
        if (residual != null) residual = ContiguousOp.apply(residual);
        Tensor y = Tensor.emptyLike(x);
        if (relu) {
            x.backend().batchNormReluForwardInference(x, gamma, beta, mean, var, eps, residual, y);
        } else {
            x.backend().batchNormForwardInference(x, gamma, beta, mean, var, eps, y);
        }
        if (!shouldRecord(x, gamma, beta, residual)) return y;
        return new BatchNormInferenceOp(x, gamma, beta, residual, mean, var, eps, relu ? y : null).record(y);
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
            return new Tensor[]{dx, dgamma, dbeta, null};
        }
        Tensor dresidual = needsGrad(3) ? Tensor.emptyLike(dy) : null;
        dy.backend().batchNormReluBackwardInference(x, reluOutput, dy, gamma, mean, var, eps, dx, dgamma, dbeta,
                dresidual);
        return new Tensor[]{dx, dgamma, dbeta, dresidual};
    }
}

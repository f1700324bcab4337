package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.backend.Backend;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/**
 * Batch normalization with batch statistics (training mode). Input and output (N, C, H, W); gamma, beta and the
 * running statistics (C). The running statistics are updated in place as a side effect of the forward pass.
 *
 * <p>Fused form ({@link #applyRelu}): {@code z = relu(bn(x) + residual)}, the residual optional, as at the end of a
 * ResNet block. It keeps neither the normalized tensor nor the sum alive and saves passes over memory both ways.
 *
 * <p>Saved for backward: the input, gamma, the batch mean and 1/sqrt(var + eps) that the kernel computed, and in
 * the fused form the output z, whose sign is the ReLU's gate. The residual's gradient is dz gated by z.
 */
public final class BatchNormTrainingOp extends Node {
    private final Tensor x;
    private final Tensor gamma;
    private final Tensor saveMean;
    private final Tensor saveInvStd;
    /** The output z in the fused form, else null. */
    private final Tensor reluOutput;

    private BatchNormTrainingOp(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor saveMean,
                                Tensor saveInvStd, Tensor reluOutput) {
        super(x, gamma, beta, residual);
        this.x = x;
        this.gamma = gamma;
        this.saveMean = saveMean;
        this.saveInvStd = saveInvStd;
        this.reluOutput = reluOutput;
    }

    /**
     * @param runningMean updated in place unless null
     * @param momentum    PyTorch's convention: {@code running = (1 - momentum) * running + momentum * batch}
     */
    public static Tensor apply(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                               double momentum, double eps) {
        return run(x, gamma, beta, null, false, runningMean, runningVar, momentum, eps);
    }

    /** relu(bn(x) + residual), {@code residual} nullable (then relu(bn(x))). */
    public static Tensor applyRelu(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor runningMean,
                                   Tensor runningVar, double momentum, double eps) {
        return run(x, gamma, beta, residual, true, runningMean, runningVar, momentum, eps);
    }

    private static Tensor run(Tensor x, Tensor gamma, Tensor beta, Tensor residual, boolean relu, Tensor runningMean,
                              Tensor runningVar, double momentum, double eps) {
        checkShapes(x.shape(), gamma.shape(), beta.shape(), residual);
        long perChannel = x.numel() / x.dim(1);
        if (perChannel < 2) {
            throw ErrorContext.shapeError("batch_norm", "training needs more than one value per channel, got input "
                    + x.shape());
        }
        Backend backend = x.backend();
        x = ContiguousOp.apply(x);
        if (residual != null) residual = ContiguousOp.apply(residual);
        Tensor y = Tensor.emptyLike(x);
        Tensor mean = Tensor.empty(backend, x.dtype(), gamma.shape());
        Tensor invStd = Tensor.empty(backend, x.dtype(), gamma.shape());
        if (relu) {
            backend.batchNormReluForwardTraining(x, gamma, beta, residual, y, runningMean, runningVar, momentum, eps,
                    mean, invStd);
        } else {
            backend.batchNormForwardTraining(x, gamma, beta, y, runningMean, runningVar, momentum, eps, mean, invStd);
        }
        if (!shouldRecord(x, gamma, beta, residual)) return y;
        return new BatchNormTrainingOp(x, gamma, beta, residual, mean, invStd, relu ? y : null).record(y);
    }

    static void checkShapes(Shape x, Shape gamma, Shape beta, Tensor residual) {
        ErrorContext.requireRank("batch_norm", "input", x, 4, "(N, C, H, W)");
        if (gamma.rank() != 1 || gamma.dim(0) != x.dim(1) || !gamma.equals(beta)) {
            throw ErrorContext.shapeError("batch_norm", "input has " + x.dim(1) + " channels, parameters have shape "
                    + gamma);
        }
        if (residual != null && !residual.shape().equals(x)) {
            throw ErrorContext.shapeError("batch_norm", "residual shape " + residual.shape() + " differs from input "
                    + x);
        }
    }

    @Override
    public String name() {
        return reluOutput == null ? "batch_norm" : "batch_norm_relu";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = needsGrad(0) ? Tensor.emptyLike(x) : null;
        Tensor dgamma = needsGrad(1) ? Tensor.emptyLike(gamma) : null;
        Tensor dbeta = needsGrad(2) ? Tensor.emptyLike(gamma) : null;
        if (reluOutput == null) {
            dy.backend().batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
            return new Tensor[]{dx, dgamma, dbeta, null};
        }
        Tensor dresidual = needsGrad(3) ? Tensor.emptyLike(dy) : null;
        dy.backend().batchNormReluBackward(x, reluOutput, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta,
                dresidual);
        return new Tensor[]{dx, dgamma, dbeta, dresidual};
    }
}

package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.backend.Backend;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/**
 * Batch normalization with batch statistics (training mode), optionally followed by a fused ReLU. Input and output
 * (N, C, H, W); gamma, beta and the running statistics (C). The running statistics are updated in place as a side
 * effect of the forward pass.
 *
 * <p>Saved for backward: the input, gamma, the batch mean and 1/sqrt(var + eps) that the kernel computed, and with
 * the ReLU its output (the gate). The fused form keeps one activation fewer alive and makes one pass fewer over
 * memory each way than batch norm and {@link ReluOp} apart.
 */
public final class BatchNormTrainingOp extends Node {
    private final Tensor x;
    private final Tensor gamma;
    private final Tensor saveMean;
    private final Tensor saveInvStd;
    /** The output when a ReLU is fused in, else null. */
    private final Tensor reluOutput;

    private BatchNormTrainingOp(Tensor x, Tensor gamma, Tensor beta, Tensor saveMean, Tensor saveInvStd,
                                Tensor reluOutput) {
        super(x, gamma, beta);
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
        return apply(x, gamma, beta, runningMean, runningVar, momentum, eps, false);
    }

    /** As {@link #apply(Tensor, Tensor, Tensor, Tensor, Tensor, double, double)}, then max(., 0) when {@code relu}. */
    public static Tensor apply(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                               double momentum, double eps, boolean relu) {
        checkShapes(x.shape(), gamma.shape(), beta.shape());
        long perChannel = x.numel() / x.dim(1);
        if (perChannel < 2) {
            throw ErrorContext.shapeError("batch_norm", "training needs more than one value per channel, got input "
                    + x.shape());
        }
        Backend backend = x.backend();
        x = x.contiguous();
        Tensor y = Tensor.emptyLike(x);
        Tensor mean = Tensor.empty(backend, x.dtype(), gamma.shape());
        Tensor invStd = Tensor.empty(backend, x.dtype(), gamma.shape());
        if (relu) {
            backend.batchNormReluForwardTraining(x, gamma, beta, y, runningMean, runningVar, momentum, eps, mean,
                    invStd);
        } else {
            backend.batchNormForwardTraining(x, gamma, beta, y, runningMean, runningVar, momentum, eps, mean, invStd);
        }
        if (!shouldRecord(x, gamma, beta)) return y;
        return new BatchNormTrainingOp(x, gamma, beta, mean, invStd, relu ? y : null).record(y);
    }

    static void checkShapes(Shape x, Shape gamma, Shape beta) {
        ErrorContext.requireRank("batch_norm", "input", x, 4, "(N, C, H, W)");
        if (gamma.rank() != 1 || gamma.dim(0) != x.dim(1) || !gamma.equals(beta)) {
            throw ErrorContext.shapeError("batch_norm", "input has " + x.dim(1) + " channels, parameters have shape "
                    + gamma);
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
        } else {
            dy.backend().batchNormReluBackward(x, reluOutput, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
        }
        return new Tensor[]{dx, dgamma, dbeta};
    }
}

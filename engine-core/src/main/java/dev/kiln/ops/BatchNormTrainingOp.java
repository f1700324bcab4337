package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.backend.Backend;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/**
 * Batch normalization with batch statistics (training mode). Input and output (N, C, H, W); gamma, beta and the
 * running statistics (C). The running statistics are updated in place as a side effect of the forward pass.
 *
 * <p>Saved for backward: the input, gamma, and the batch mean and 1/sqrt(var + eps) that the kernel computed.
 */
public final class BatchNormTrainingOp extends Node {
    private final Tensor x;
    private final Tensor gamma;
    private final Tensor saveMean;
    private final Tensor saveInvStd;

    private BatchNormTrainingOp(Tensor x, Tensor gamma, Tensor beta, Tensor saveMean, Tensor saveInvStd) {
        super(x, gamma, beta);
        this.x = x;
        this.gamma = gamma;
        this.saveMean = saveMean;
        this.saveInvStd = saveInvStd;
    }

    /**
     * @param runningMean updated in place unless null
     * @param momentum    PyTorch's convention: {@code running = (1 - momentum) * running + momentum * batch}
     */
    public static Tensor apply(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                               double momentum, double eps) {
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
        backend.batchNormForwardTraining(x, gamma, beta, y, runningMean, runningVar, momentum, eps, mean, invStd);
        return shouldRecord(x, gamma, beta) ? new BatchNormTrainingOp(x, gamma, beta, mean, invStd).record(y) : y;
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
        return "batch_norm";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = needsGrad(0) ? Tensor.emptyLike(x) : null;
        Tensor dgamma = needsGrad(1) ? Tensor.emptyLike(gamma) : null;
        Tensor dbeta = needsGrad(2) ? Tensor.emptyLike(gamma) : null;
        dy.backend().batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
        return new Tensor[]{dx, dgamma, dbeta};
    }
}

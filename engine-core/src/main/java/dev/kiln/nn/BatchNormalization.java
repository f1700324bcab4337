package dev.kiln.nn;

import dev.kiln.backend.InferenceBatchNorm;
import dev.kiln.ops.ErrorContext;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

/**
 * Batch normalization over the channels of (N, C, H, W), with learnable {@code weight} (gamma) and {@code bias}
 * (beta) and the statistics {@code running_mean} and {@code running_var} (PyTorch's names, so state dicts match).
 *
 * <p>It uses batch statistics and updates the running ones only when the mode is TRAIN <em>and</em> the layer is
 * trainable: a frozen BatchNormalization runs in inference mode, as in Keras.
 *
 * <p>{@code momentum} follows PyTorch: {@code running = (1 - momentum) * running + momentum * batch} (default 0.1;
 * Keras's momentum 0.99 is 0.01 here). The running variance is updated with the unbiased batch variance.
 */
public final class BatchNormalization extends Layer {
    /** PyTorch's defaults. Keras's ResNet50 uses eps 1.001e-5. */
    public static final double DEFAULT_EPS = 1e-5;
    public static final double DEFAULT_MOMENTUM = 0.1;

    private final Parameter gamma;
    private final Parameter beta;
    private final Parameter runningMean;
    private final Parameter runningVar;
    private final double eps;
    private final double momentum;

    public BatchNormalization(int channels) {
        this(channels, DEFAULT_EPS, DEFAULT_MOMENTUM);
    }

    public BatchNormalization(int channels, double eps, double momentum) {
        this.gamma = addWeight("weight", () -> Initializers.constant(shape(channels), 1));
        this.beta = addWeight("bias", () -> Initializers.constant(shape(channels), 0));
        this.runningMean = addStatistic("running_mean", () -> Initializers.constant(shape(channels), 0));
        this.runningVar = addStatistic("running_var", () -> Initializers.constant(shape(channels), 1));
        this.eps = eps;
        this.momentum = momentum;
    }

    public double eps() {
        return eps;
    }

    /** True when a forward pass in {@code mode} would use batch statistics. */
    public boolean usesBatchStatistics(Mode mode) {
        return mode == Mode.TRAIN && isTrainable();
    }

    /** This layer's fixed-statistics form, for a kernel that fuses it into the convolution before it. */
    public InferenceBatchNorm inferenceForm() {
        return new InferenceBatchNorm(gamma.value(), beta.value(), runningMean.value(), runningVar.value(), eps);
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        return normalize(x, null, mode, false);
    }

    /**
     * {@code relu(forward(x, mode))} as one fused op, the pair that follows most convolutions of a ResNet: one
     * activation fewer to keep for backward, and one pass fewer over memory each way.
     */
    public Tensor forwardRelu(Tensor x, Mode mode) {
        return ErrorContext.inLayer(path(), () -> normalize(x, null, mode, true));
    }

    /** {@code relu(forward(x, mode) + residual)} as one fused op: the end of a ResNet block. */
    public Tensor forwardAddRelu(Tensor x, Tensor residual, Mode mode) {
        return ErrorContext.inLayer(path(), () -> normalize(x, residual, mode, true));
    }

    private Tensor normalize(Tensor x, Tensor residual, Mode mode, boolean relu) {
        Tensor g = gamma.value(), b = beta.value(), mean = runningMean.value(), var = runningVar.value();
        if (usesBatchStatistics(mode)) {
            return relu
                    ? Ops.batchNormReluTraining(x, g, b, residual, mean, var, momentum, eps)
                    : Ops.batchNormTraining(x, g, b, mean, var, momentum, eps);
        }
        return relu
                ? Ops.batchNormReluInference(x, g, b, residual, mean, var, eps)
                : Ops.batchNormInference(x, g, b, mean, var, eps);
    }
}

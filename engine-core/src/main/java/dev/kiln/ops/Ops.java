package dev.kiln.ops;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.InferenceBatchNorm;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.tensor.Tensor;

/**
 * The functional API, like {@code torch.nn.functional}: every differentiable op in one place. Layers own
 * parameters and call these; the maths and the backward rules live in the {@code *Op} classes.
 */
public final class Ops {
    private Ops() {
    }

    /** x (N, C, H, W), weight (K, C, R, S), bias (K) or null. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, Conv2dSpec spec) {
        return Conv2dOp.apply(x, weight, bias, spec);
    }

    /** Batch statistics; updates the running statistics in place (PyTorch momentum convention). */
    public static Tensor batchNormTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                                           Tensor runningVar, double momentum, double eps) {
        return BatchNormTrainingOp.apply(x, gamma, beta, runningMean, runningVar, momentum, eps);
    }

    /** Fixed statistics: evaluation, and frozen layers. */
    public static Tensor batchNormInference(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var,
                                            double eps) {
        return BatchNormInferenceOp.apply(x, gamma, beta, mean, var, eps);
    }

    /**
     * relu(batchNormTraining(x) + residual) as one fused op; {@code residual} is nullable (then relu(bn(x))). The
     * fused form keeps neither the pre-ReLU tensor nor the sum alive.
     */
    public static Tensor batchNormReluTraining(Tensor x, Tensor gamma, Tensor beta, Tensor residual,
                                               Tensor runningMean, Tensor runningVar, double momentum, double eps) {
        return BatchNormTrainingOp.applyRelu(x, gamma, beta, residual, runningMean, runningVar, momentum, eps);
    }

    /** relu(batchNormInference(x) + residual) as one fused op; {@code residual} is nullable. */
    public static Tensor batchNormReluInference(Tensor x, Tensor gamma, Tensor beta, Tensor residual, Tensor mean,
                                                Tensor var, double eps) {
        return BatchNormInferenceOp.applyRelu(x, gamma, beta, residual, mean, var, eps);
    }

    /**
     * bn(conv2d(x)), or relu(bn(conv2d(x)) + residual) with {@code relu}, with bn in inference mode, as one
     * forward-only kernel call. Only where nothing requires a gradient ({@link ConvBatchNormInference#applies}).
     */
    public static Tensor conv2dBatchNormInference(Tensor x, Tensor weight, Tensor bias, Conv2dSpec spec,
                                                  InferenceBatchNorm bn, Tensor residual, boolean relu) {
        return ConvBatchNormInference.apply(x, weight, bias, spec, bn, residual, relu);
    }

    public static Tensor relu(Tensor x) {
        return ReluOp.apply(x);
    }

    public static Tensor add(Tensor a, Tensor b) {
        return AddOp.apply(a, b);
    }

    public static Tensor maxPool2d(Tensor x, Pool2dSpec spec) {
        return MaxPool2dOp.apply(x, spec);
    }

    /** (N, C, H, W) to (N, C). */
    public static Tensor globalAvgPool(Tensor x) {
        return GlobalAvgPoolOp.apply(x);
    }

    /** (N, ...) to (N, product of the rest), channel-major for NCHW as in PyTorch and Keras channels_first. */
    public static Tensor flatten(Tensor x) {
        return ReshapeOp.apply(x, x.dim(0), (int) (x.numel() / x.dim(0)));
    }

    public static Tensor reshape(Tensor x, int... dims) {
        return ReshapeOp.apply(x, dims);
    }

    public static Tensor concat(int dim, Tensor... parts) {
        return ConcatOp.apply(dim, parts);
    }

    /** y = x Wᵀ + b with W (out, in). */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return LinearOp.apply(x, weight, bias);
    }

    public static Tensor dropout(Tensor x, double rate, long seed) {
        return DropoutOp.apply(x, rate, seed);
    }

    public static Tensor softmax(Tensor x) {
        return SoftmaxOp.apply(x);
    }

    /** Mean softmax cross-entropy of logits (N, K) against I32 labels (N) or a distribution (N, K). */
    public static Tensor softmaxCrossEntropy(Tensor logits, Tensor targets) {
        return SoftmaxCrossEntropyOp.apply(logits, targets);
    }
}

package dev.kiln.nn;

import dev.kiln.backend.Conv2dSpec;
import dev.kiln.backend.InferenceBatchNorm;
import dev.kiln.ops.ConvBatchNormInference;
import dev.kiln.ops.ErrorContext;
import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

/**
 * 2-D convolution layer. Input (N, C, H, W), output (N, filters, P, Q). Weight {@code weight} (filters, C, k, k)
 * in OIHW like PyTorch, optional {@code bias} (filters).
 */
public final class Conv2D extends Layer {
    private final Parameter weight;
    private final Parameter bias;
    private final Conv2dSpec spec;

    public Conv2D(int inChannels, int filters, int kernel, int stride, int padding, boolean useBias) {
        int fanIn = inChannels * kernel * kernel;
        int fanOut = filters * kernel * kernel;
        this.weight = addWeight("weight",
                () -> Initializers.glorotUniform(shape(filters, inChannels, kernel, kernel), fanIn, fanOut));
        this.bias = useBias ? addWeight("bias", () -> Initializers.constant(shape(filters), 0)) : null;
        this.spec = Conv2dSpec.of(stride, padding);
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null. */
    public Parameter bias() {
        return bias;
    }

    public Conv2dSpec spec() {
        return spec;
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        return Ops.conv2d(x, weight.value(), biasValue(), spec);
    }

    /**
     * {@code bn(this(x))}, or with {@code relu} {@code relu(bn(this(x)) + residual)} (residual nullable, and null
     * without {@code relu}): the convolution-BatchNorm pair of ResNets. Where bn normalizes with its moving
     * statistics and nothing needs a gradient (a frozen block, evaluation), it runs as one fused kernel call;
     * otherwise the two layers run one after the other, with the same results.
     */
    public Tensor forwardWithBatchNorm(BatchNormalization bn, Tensor x, Tensor residual, boolean relu, Mode mode) {
        InferenceBatchNorm fixed = bn.usesBatchStatistics(mode) ? null : bn.inferenceForm();
        if (fixed == null || !ConvBatchNormInference.applies(x, weight.value(), biasValue(), fixed, residual)) {
            Tensor c = forward(x, mode);
            Tensor out = relu ? bn.forwardAddRelu(c, residual, mode) : bn.forward(c, mode);
            releaseIfUnsaved(c, x, out);
            return out;
        }
        return ErrorContext.inLayer(path(),
                () -> Ops.conv2dBatchNormInference(x, weight.value(), biasValue(), spec, fixed, residual, relu));
    }

    private Tensor biasValue() {
        return bias == null ? null : bias.value();
    }
}

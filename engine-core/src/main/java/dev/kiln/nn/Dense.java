package dev.kiln.nn;

import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

/**
 * A fully connected layer, Keras's {@code Dense(units, activation)}: y = activation(x Wᵀ + b). Input (N, in),
 * output (N, units). The weight is stored (units, in), PyTorch's Linear layout, so torchvision weights load as
 * they are; Keras kernels (in, units) are transposed by the converter.
 */
public final class Dense extends Layer {
    private final Parameter weight;
    private final Parameter bias;
    private final Activation activation;

    public Dense(int inFeatures, int units) {
        this(inFeatures, units, Activation.NONE);
    }

    public Dense(int inFeatures, int units, Activation activation) {
        this.weight = addWeight("weight", () -> Initializers.glorotUniform(shape(units, inFeatures), inFeatures, units));
        this.bias = addWeight("bias", () -> Initializers.constant(shape(units), 0));
        this.activation = activation;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public Activation activation() {
        return activation;
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        return activation.apply(Ops.linear(x, weight.value(), bias.value()));
    }
}

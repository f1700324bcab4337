package dev.kiln.nn;

import dev.kiln.tensor.Tensor;

/** A layer that only applies an activation, Keras's {@code Activation('relu')} or PyTorch's {@code nn.ReLU}. */
public final class ActivationLayer extends Layer {
    private final Activation activation;

    public ActivationLayer(Activation activation) {
        this.activation = activation;
    }

    public static ActivationLayer relu() {
        return new ActivationLayer(Activation.RELU);
    }

    public static ActivationLayer softmax() {
        return new ActivationLayer(Activation.SOFTMAX);
    }

    @Override
    protected Tensor call(Tensor x, Mode mode) {
        return activation.apply(x);
    }
}

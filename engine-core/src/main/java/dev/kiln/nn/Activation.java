package dev.kiln.nn;

import dev.kiln.ops.Ops;
import dev.kiln.tensor.Tensor;

import java.util.function.UnaryOperator;

/** The activations a layer can apply to its output, by their Keras names. */
public enum Activation {
    NONE("linear", x -> x),
    RELU("relu", Ops::relu),
    /**
     * Row-wise over (N, classes). Its output is probabilities: train with {@code Ops.softmaxCrossEntropy} on the
     * logits before it, which takes logits only.
     */
    SOFTMAX("softmax", Ops::softmax);

    private final String kerasName;
    private final UnaryOperator<Tensor> function;

    Activation(String kerasName, UnaryOperator<Tensor> function) {
        this.kerasName = kerasName;
        this.function = function;
    }

    public Tensor apply(Tensor x) {
        return function.apply(x);
    }

    public String kerasName() {
        return kerasName;
    }

    public static Activation fromKerasName(String name) {
        for (Activation a : values()) if (a.kerasName.equals(name)) return a;
        throw new IllegalArgumentException("unknown activation '" + name + "'; known: linear, relu, softmax");
    }
}

package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/** The gradient reaching the residual input of a fused z = relu(bn(x) + residual): dz where z > 0. */
final class ResidualGradient {
    private ResidualGradient() {
    }

    /** dz gated by z, or null when input {@code index} of {@code node} is absent or needs no gradient. */
    static Tensor of(Node node, int index, Tensor z, Tensor dz) {
        Tensor residual = node.inputs()[index];
        if (residual == null || !residual.requiresGrad()) return null;
        Tensor gated = Tensor.emptyLike(dz);
        dz.backend().reluBackward(z, dz, gated);
        return gated;
    }
}

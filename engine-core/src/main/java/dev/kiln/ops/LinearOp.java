package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.backend.Backend;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/**
 * The dense layer's maths: y = x Wᵀ + b, with x (N, in), W (out, in) as in torch.nn.Linear, b (out) optional.
 *
 * <p>Backward: dx = dy W, dW = dyᵀ x, db = column sums of dy. One GEMM each.
 */
public final class LinearOp extends Node {
    private final Tensor x;
    private final Tensor weight;

    private LinearOp(Tensor x, Tensor weight, Tensor bias) {
        super(x, weight, bias);
        this.x = x;
        this.weight = weight;
    }

    public static Tensor apply(Tensor x, Tensor weight, Tensor bias) {
        ErrorContext.requireRank("linear", "input", x.shape(), 2, "(N, in_features)");
        ErrorContext.requireRank("linear", "weight", weight.shape(), 2, "(out_features, in_features)");
        if (x.dim(1) != weight.dim(1)) {
            throw ErrorContext.shapeError("linear", "input has " + x.dim(1) + " features, weight expects "
                    + weight.dim(1) + " (input " + x.shape() + ", weight " + weight.shape() + ")");
        }
        if (bias != null && !bias.shape().equals(Shape.of(weight.dim(0)))) {
            throw ErrorContext.shapeError("linear", "bias shape " + bias.shape() + " does not match "
                    + weight.dim(0) + " outputs");
        }
        Backend backend = x.backend();
        x = ContiguousOp.apply(x);
        Tensor y = Tensor.empty(backend, x.dtype(), Shape.of(x.dim(0), weight.dim(0)));
        backend.gemm(false, true, 1.0, x, weight, 0.0, y);
        if (bias != null) backend.addChannelBias(y, bias);
        return shouldRecord(x, weight, bias) ? new LinearOp(x, weight, bias).record(y) : y;
    }

    @Override
    public String name() {
        return "linear";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Backend backend = dy.backend();
        Tensor dx = null, dw = null, db = null;
        if (needsGrad(0)) {
            dx = Tensor.emptyLike(x);
            backend.gemm(false, false, 1.0, dy, weight, 0.0, dx);
        }
        if (needsGrad(1)) {
            dw = Tensor.emptyLike(weight);
            backend.gemm(true, false, 1.0, dy, x, 0.0, dw);
        }
        if (needsGrad(2)) {
            db = Tensor.empty(backend, dy.dtype(), Shape.of(weight.dim(0)));
            backend.channelSum(dy, db);
        }
        return new Tensor[]{dx, dw, db};
    }
}

package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.backend.Backend;
import dev.kiln.backend.Conv2dSpec;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/**
 * 2-D convolution. Input (N, C, H, W), weight (K, C, R, S), optional bias (K), output (N, K, P, Q) with
 * P = (H + 2 padH - R) / strideH + 1 and likewise Q.
 *
 * <p>Backward: dx = conv2dBackwardData(dy, w), dw = conv2dBackwardFilter(x, dy), db = sum of dy over N, P, Q.
 * Each is computed only if that input needs it: the first layer of a network never computes dx.
 */
public final class Conv2dOp extends Node {
    private final Tensor x;
    private final Tensor weight;
    private final Conv2dSpec spec;

    private Conv2dOp(Tensor x, Tensor weight, Tensor bias, Conv2dSpec spec) {
        super(x, weight, bias);
        this.x = x;
        this.weight = weight;
        this.spec = spec;
    }

    public static Tensor apply(Tensor x, Tensor weight, Tensor bias, Conv2dSpec spec) {
        Shape out = outputShape(x.shape(), weight.shape(), bias == null ? null : bias.shape(), spec);
        Backend backend = x.backend();
        x = ContiguousOp.apply(x);
        Tensor y = Tensor.empty(backend, x.dtype(), out);
        backend.conv2dForward(x, weight, bias, y, spec);
        return shouldRecord(x, weight, bias) ? new Conv2dOp(x, weight, bias, spec).record(y) : y;
    }

    /** Checks the shapes and returns the output's, with messages that name the layer. */
    static Shape outputShape(Shape x, Shape w, Shape bias, Conv2dSpec spec) {
        ErrorContext.requireRank("conv2d", "input", x, 4, "(N, C, H, W)");
        ErrorContext.requireRank("conv2d", "weight", w, 4, "(K, C, R, S)");
        if (x.dim(1) != w.dim(1)) {
            throw ErrorContext.shapeError("conv2d", "input has " + x.dim(1) + " channels, weight expects " + w.dim(1)
                    + " (input " + x + ", weight " + w + ")");
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != w.dim(0))) {
            throw ErrorContext.shapeError("conv2d", "bias shape " + bias + " does not match " + w.dim(0) + " filters");
        }
        int p = spec.outH(x.dim(2), w.dim(2));
        int q = spec.outW(x.dim(3), w.dim(3));
        if (p < 1 || q < 1) {
            throw ErrorContext.shapeError("conv2d", "input " + x + " is too small for a " + w.dim(2) + "x" + w.dim(3)
                    + " kernel with padding " + spec.padH());
        }
        return Shape.of(x.dim(0), w.dim(0), p, q);
    }

    @Override
    public String name() {
        return "conv2d";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Backend backend = dy.backend();
        Tensor dx = null, dw = null, db = null;
        if (needsGrad(0)) {
            dx = Tensor.emptyLike(x);
            backend.conv2dBackwardData(dy, weight, dx, spec);
        }
        if (needsGrad(1)) {
            dw = Tensor.emptyLike(weight);
            backend.conv2dBackwardFilter(x, dy, dw, spec);
        }
        if (needsGrad(2)) {
            db = Tensor.empty(backend, dy.dtype(), Shape.of(weight.dim(0)));
            backend.channelSum(dy, db);
        }
        return new Tensor[]{dx, dw, db};
    }
}

package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.backend.Pool2dSpec;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/**
 * Max pooling over square windows of (N, C, H, W). Padding acts as -infinity; {@code ceilMode} keeps a last,
 * partial window (SqueezeNet). Backward routes each dy to its window's first maximum.
 */
public final class MaxPool2dOp extends Node {
    private final Tensor x;
    private final Tensor y;
    private final Pool2dSpec spec;

    private MaxPool2dOp(Tensor x, Tensor y, Pool2dSpec spec) {
        super(x);
        this.x = x;
        this.y = y;
        this.spec = spec;
    }

    public static Tensor apply(Tensor x, Pool2dSpec spec) {
        ErrorContext.requireRank("max_pool2d", "input", x.shape(), 4, "(N, C, H, W)");
        int p = spec.outSize(x.dim(2));
        int q = spec.outSize(x.dim(3));
        if (p < 1 || q < 1) {
            throw ErrorContext.shapeError("max_pool2d", "input " + x.shape() + " is smaller than the "
                    + spec.kernel() + "x" + spec.kernel() + " window");
        }
        x = ContiguousOp.apply(x);
        Tensor y = Tensor.empty(x.backend(), x.dtype(), Shape.of(x.dim(0), x.dim(1), p, q));
        x.backend().maxPool2dForward(x, y, spec);
        return shouldRecord(x) ? new MaxPool2dOp(x, y, spec).record(y) : y;
    }

    @Override
    public String name() {
        return "max_pool2d";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = Tensor.emptyLike(x);
        dy.backend().maxPool2dBackward(x, y, dy, dx, spec);
        return new Tensor[]{dx};
    }
}

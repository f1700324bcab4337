package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/** A new shape over the same elements (row-major order, no copy for contiguous input). Flatten is a reshape. */
public final class ReshapeOp extends Node {
    private final Shape inputShape;

    private ReshapeOp(Tensor x) {
        super(x);
        this.inputShape = x.shape();
    }

    public static Tensor apply(Tensor x, int... dims) {
        if (Shape.of(dims).numel() != x.numel()) {
            throw ErrorContext.shapeError("reshape", "cannot reshape " + x.shape() + " to " + Shape.of(dims));
        }
        Tensor y = ContiguousOp.apply(x).view(dims);
        return shouldRecord(x) ? new ReshapeOp(x).record(y) : y;
    }

    @Override
    public String name() {
        return "reshape";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        return new Tensor[]{dy.contiguous().view(inputShape.toArray())};
    }
}

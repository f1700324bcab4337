package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Shape;
import dev.kiln.tensor.Tensor;

/** Mean over H and W: (N, C, H, W) to (N, C), i.e. PyTorch's adaptive_avg_pool2d(1) followed by flatten. */
public final class GlobalAvgPoolOp extends Node {
    private final Shape inputShape;

    private GlobalAvgPoolOp(Tensor x) {
        super(x);
        this.inputShape = x.shape();
    }

    public static Tensor apply(Tensor x) {
        ErrorContext.requireRank("global_avg_pool", "input", x.shape(), 4, "(N, C, H, W)");
        x = ContiguousOp.apply(x);
        Tensor y = Tensor.empty(x.backend(), x.dtype(), Shape.of(x.dim(0), x.dim(1)));
        x.backend().globalAvgPoolForward(x, y);
        return shouldRecord(x) ? new GlobalAvgPoolOp(x).record(y) : y;
    }

    @Override
    public String name() {
        return "global_avg_pool";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = Tensor.empty(dy.backend(), dy.dtype(), inputShape);
        dy.backend().globalAvgPoolBackward(dy, dx);
        return new Tensor[]{dx};
    }
}

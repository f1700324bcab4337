package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/** y = max(x, 0), any shape. Backward passes dy where y > 0; the gradient at exactly 0 is 0, as in PyTorch. */
public final class ReluOp extends Node {
    private final Tensor y;

    private ReluOp(Tensor x, Tensor y) {
        super(x);
        this.y = y;
    }

    public static Tensor apply(Tensor x) {
        x = ContiguousOp.apply(x);
        Tensor y = Tensor.emptyLike(x);
        x.backend().reluForward(x, y);
        return shouldRecord(x) ? new ReluOp(x, y).record(y) : y;
    }

    @Override
    public String name() {
        return "relu";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor dx = Tensor.emptyLike(dy);
        dy.backend().reluBackward(y, dy, dx);
        return new Tensor[]{dx};
    }
}

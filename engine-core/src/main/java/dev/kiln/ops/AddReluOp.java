package dev.kiln.ops;

import dev.kiln.autograd.Node;
import dev.kiln.tensor.Tensor;

/**
 * out = max(a + b, 0) for two tensors of the same shape: the end of a residual block, fused. Both inputs receive
 * the same gradient, dy where out > 0, computed once and shared as two views. Unfused, {@link AddOp} and
 * {@link ReluOp} would keep a + b alive as well and pass over memory twice more.
 */
public final class AddReluOp extends Node {
    private final Tensor out;

    private AddReluOp(Tensor a, Tensor b, Tensor out) {
        super(a, b);
        this.out = out;
    }

    public static Tensor apply(Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw ErrorContext.shapeError("add_relu", "shapes differ: " + a.shape() + " and " + b.shape());
        }
        a = a.contiguous();
        b = b.contiguous();
        Tensor out = Tensor.emptyLike(a);
        a.backend().addRelu(a, b, out);
        return shouldRecord(a, b) ? new AddReluOp(a, b, out).record(out) : out;
    }

    @Override
    public String name() {
        return "add_relu";
    }

    @Override
    protected Tensor[] backward(Tensor dy) {
        Tensor gated = Tensor.emptyLike(dy);
        dy.backend().reluBackward(out, dy, gated);
        if (!needsGrad(0) || !needsGrad(1)) return new Tensor[]{needsGrad(0) ? gated : null, needsGrad(1) ? gated : null};
        // Views, not copies: the engine never writes into a gradient it was handed.
        Tensor second = gated.detach();
        return new Tensor[]{gated, second};
    }
}
